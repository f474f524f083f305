"""Peak memory of a call: the most the torch CPU allocator held during it
beyond what was live before, from the profiler's memory events."""
from typing import Callable

import torch

MIB = 2 ** 20


def peak_memory_mib(call: Callable[[], object]) -> float:
    """The most the torch CPU allocator held during ``call()`` beyond what
    was live before it, in MiB (one extra, untimed run)."""
    with torch.profiler.profile(profile_memory=True) as prof:
        call()
    events = sorted((e for e in prof.profiler.kineto_results.events()
                     if e.name() == '[memory]'
                     and e.device_type() == torch.autograd.DeviceType.CPU),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak / MIB
