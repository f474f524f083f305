"""The alternating timing loop: variants timed side by side in one process,
the order reversed every other round, so that load from other processes
hits them alike; a speed-up is the median of the per-round ratios, with
their smallest and largest as its spread."""
import statistics
import time
from typing import Callable, Dict, List, NamedTuple, Optional

import torch


class Spread(NamedTuple):
    """The median of per-round figures and their smallest and largest."""
    median: float
    min: float
    max: float


class Timing(NamedTuple):
    """One variant's median seconds per call and its speed-up over the
    baseline (``None`` where there is no baseline)."""
    median_s: float
    speedup: Optional[Spread]


def alternate(calls: Dict[str, Callable[[], object]], rounds: int,
              warm_up: bool = True) -> Dict[str, List[float]]:
    """Seconds of each call, ``rounds`` times (after one warm-up each unless
    the caller has warmed them up), the order reversed every other round."""
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


def ratio_spread(base: List[float], runs: List[float]) -> Spread:
    """Median, smallest and largest per-round ratio ``base / runs``."""
    ratios = [b / t for b, t in zip(base, runs)]
    return Spread(statistics.median(ratios), min(ratios), max(ratios))


def time_variants(calls: Dict[str, Callable[[], object]], rounds: int,
                  baseline: Optional[str], warm_up: bool = True
                  ) -> Dict[str, Timing]:
    """:func:`alternate` the calls; each one's median time and speed-up
    over ``baseline`` (one of ``calls``, or ``None``)."""
    times = alternate(calls, rounds, warm_up)
    return {name: Timing(statistics.median(runs),
                         ratio_spread(times[baseline], runs)
                         if baseline else None)
            for name, runs in times.items()}


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
    current threads (:func:`best_gflops`), so that figures from other CPUs
    can be read."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return best_gflops(lambda: torch.mm(a, b), 2 * size ** 3, repeats)
