"""Helpers that the tests, the tools and the deployment checks share
(never imported by the models): finding and running a tool's ``main``
in-process, giving folded parameters values that make a mix-up visible,
the largest difference between two sets of outputs, and what the
benchmarks say of the machine they ran on."""
import importlib.util
import os.path as osp
import platform
import statistics
import time
from types import ModuleType
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import nn

from .mim_files import mim_path


def load_tool(path: str) -> ModuleType:
    """``tools/<path>`` (e.g. ``'train.py'``, ``'analysis/get_flops.py'``)
    as a module, to call its functions in-process."""
    name = osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(
        f'mmpoolformer_tools_{name}', osp.join(mim_path('tools'), path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def perturb_affines(model: nn.Module, seed: int = 0) -> None:
    """Draw norm affines and layer scales around 1 (N(1, 0.5)): their
    defaults (ones, zeros, 1e-5) would hide a mix-up between them."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name or 'layer_scale' in name:
                param.copy_(torch.randn(param.shape, generator=gen) * .5 + 1)


def largest_difference(got: Sequence[torch.Tensor],
                       expected: Sequence[torch.Tensor]) -> Tuple[float,
                                                                  float]:
    """``(largest |got - expected|, largest |expected|)`` over pairs of
    outputs, in float32."""
    diff = max(float((g.float() - e.float()).abs().max())
               for g, e in zip(got, expected))
    scale = max(float(e.float().abs().max()) for e in expected)
    return diff, scale


def alternate(calls: Dict[str, Callable[[], object]], rounds: int,
              warm_up: bool = True) -> Dict[str, List[float]]:
    """Seconds of each call, ``rounds`` times (after one warm-up each unless
    the caller has warmed them up), the order reversed every other round,
    so load from other processes hits them alike."""
    times = {name: [] for name in calls}
    for call in calls.values() if warm_up else ():
        call()
    for rnd in range(rounds):
        order = list(calls) if rnd % 2 == 0 else list(calls)[::-1]
        for name in order:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median_ratios(times: Dict[str, List[float]],
                  base: str) -> Dict[str, float]:
    """Median per-round speed-up of each entry of ``times`` over
    ``base``'s."""
    return {name: statistics.median(b / t for b, t in zip(times[base], runs))
            for name, runs in times.items()}


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's."""
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_gflops(call: Callable[[], object], flop: float,
                repeats: int = 10) -> float:
    """GFLOP/s of ``call`` (``flop`` floating-point operations) in its
    fastest of ``repeats`` runs, after one warm-up run."""
    call()
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return flop / best / 1e9


def matmul_gflops(dtype: torch.dtype, size: int = 2048,
                  repeats: int = 10) -> float:
    """GFLOP/s of a ``size``-square ``torch.mm`` in ``dtype`` on torch's
    current threads (:func:`best_gflops`): what the benchmarks print, so
    that figures from other CPUs can be read."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return best_gflops(lambda: torch.mm(a, b), 2 * size ** 3, repeats)


def machine_line() -> str:
    """One line on the CPU and its fp32 and bf16 matrix-product rates."""
    fp32 = matmul_gflops(torch.float32)
    bf16 = matmul_gflops(torch.bfloat16)
    return (f'{cpu_name()}; 2048x2048 torch.mm on {torch.get_num_threads()} '
            f'threads: fp32 {fp32:.0f} GFLOP/s, bf16 {bf16:.0f} GFLOP/s '
            f'({bf16 / fp32:.1f}x)')
