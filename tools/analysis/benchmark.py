"""Speed of PoolFormer's fast path against the original operations, on CPU.

    .venv/bin/python tools/analysis/benchmark.py
    .venv/bin/python tools/analysis/benchmark.py --cases coco --rounds 9 \\
        --bf16 --compile

The original is ``PoolFormer(fast_path=False)``, which runs the original
model's operations bit for bit (tests/test_backbone_parity.py and
tests/test_fast_path.py prove it); ours is ``PoolFormer(fast_path=True)``
with the same weights (random, with the norms' affines and layer scales
drawn around 1 by ``perturb_affines`` so that every folded parameter
matters). Both get the same input and run in one process, alternating, so
that load from other processes hits both alike: the ratio is the median of
the per-round ratios. Cases:

* ``coco``: S12 inference at 1x3x800x1216, the dense (fork_feat) backbone;
* ``ade``: S12 inference at 1x3x512x512;
* ``train``: one S12 training step at 2x3x512x512, forward and backward
  from a fixed gradient on the four outputs (what the neck would send).

FLOPs are mmengine's ``FlopAnalyzer`` count of multiply-adds for the
forward, times 2 (a multiply-add is two FLOPs), times 3 for a training step
(backward ~ twice the forward, the usual estimate). The fp32 peak is the
best of a large ``torch.mm`` (MKL) and the same product as a channels_last
1x1 convolution (oneDNN), measured between the rounds. Peak memory is the
most the torch CPU allocator held beyond what was live before the call,
from the profiler's memory events in one extra, untimed run.
"""
import argparse
import copy
import os
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer
from torch import nn

from mmpoolformer.models import PoolFormer
from mmpoolformer.testing import (best_gflops, largest_difference,
                                  perturb_affines)

CASES = {
    'coco': dict(title='S12 inference, COCO-sized', shape=(1, 3, 800, 1216),
                 train=False),
    'ade': dict(title='S12 inference, ADE20K-sized', shape=(1, 3, 512, 512),
                train=False),
    'train': dict(title='S12 training step (forward + backward)',
                  shape=(2, 3, 512, 512), train=True),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', nargs='+', choices=sorted(CASES),
                        default=list(CASES), help='which cases to run')
    parser.add_argument('--arch', default='s12', help='PoolFormer arch')
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed rounds per case (after one warm-up)')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch intra-op threads')
    parser.add_argument('--bf16', action='store_true',
                        help='also time both models under CPU bf16 autocast')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile of the original')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1')
    return args


def build_models(arch: str, seed: int) -> Dict[str, nn.Module]:
    """The original operations and our fast path, with the same weights."""
    torch.manual_seed(seed)
    original = PoolFormer(arch, fork_last3=False, fast_path=False)
    perturb_affines(original, seed)
    fast = copy.deepcopy(original)
    fast.fast_path = True
    return dict(original=original, fast_path=fast)


class Step:
    """One timed call: an inference forward, or a training forward and
    backward, of ``model`` on ``x``, optionally under bf16 autocast."""

    def __init__(self, model: nn.Module, fn: Callable, x: torch.Tensor,
                 train: bool, grads: Sequence[torch.Tensor],
                 bf16: bool = False) -> None:
        self.model, self.fn, self.x = model, fn, x
        self.train, self.grads, self.bf16 = train, grads, bf16

    def __call__(self) -> List[torch.Tensor]:
        self.model.train(self.train)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.bf16):
            if not self.train:
                with torch.no_grad():
                    return list(self.fn(self.x))
            self.model.zero_grad(set_to_none=True)
            outs = list(self.fn(self.x))
        torch.autograd.backward(
            outs, [g.to(o.dtype) for g, o in zip(self.grads, outs)])
        return outs


def matmul_peak(n: int = 2048) -> float:
    """Best GFLOP/s of an n^3 fp32 product via MKL (torch.mm) and via
    oneDNN (a channels_last 1x1 convolution)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    image = a.view(1, n, n, 1).permute(0, 2, 1, 3)  # NCHW view, NHWC memory
    weight = b.t().contiguous().view(n, n, 1, 1)
    return max(best_gflops(run, 2 * n ** 3, repeats=5)
               for run in (lambda: torch.mm(a, b),
                           lambda: F.conv2d(image, weight)))


def peak_memory_mb(step: Step) -> float:
    """The most the torch CPU allocator held during ``step`` beyond what was
    live before it, in MiB."""
    with torch.profiler.profile(profile_memory=True) as prof:
        step()
    events = sorted((e for e in prof.profiler.kineto_results.events()
                     if e.name() == '[memory]'
                     and e.device_type() == torch.autograd.DeviceType.CPU),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak / 2 ** 20


def gflops(model: nn.Module, shape: Sequence[int], train: bool) -> float:
    """FLOPs of one step: 2 x FlopAnalyzer's multiply-adds, x3 to train."""
    with torch.no_grad():
        macs = FlopAnalyzer(copy.deepcopy(model).eval(),
                            torch.zeros(shape)).unsupported_ops_warnings(
                                False).uncalled_modules_warnings(
                                    False).total()
    return 2 * macs * (3 if train else 1) / 1e9


def drift(got: Sequence[torch.Tensor],
          expected: Sequence[torch.Tensor]) -> str:
    """Max |difference| over the outputs, absolute and relative to the
    largest expected magnitude."""
    diff, scale = largest_difference(got, expected)
    return f'max |diff| {diff:.2e} ({diff / scale:.1e} of max |output|)'


def grad_drift(model: nn.Module, expected_grads: Dict[str, torch.Tensor]
               ) -> str:
    """Worst per-tensor max |grad diff| / max |grad|. The norm1 biases are
    reported apart: they cancel in pool(y) - y, so their exact gradient is
    zero and both sides show only rounding (the fast path exactly 0)."""
    worst, noise, ours = 0., 0., 0.
    for name, param in model.named_parameters():
        expected = expected_grads[name]
        if name.endswith('norm1.bias'):
            noise = max(noise, expected.abs().max().item())
            ours = max(ours, param.grad.abs().max().item())
            continue
        err = (param.grad - expected).abs().max() / expected.abs().max()
        worst = max(worst, err.item())
    return (f'grads: worst max|diff|/max|grad| per tensor {worst:.1e} '
            f'(norm1.bias, exactly 0 in theory: original {noise:.1e}, '
            f'this {ours:.1e})')


def run_case(name: str, args: argparse.Namespace,
             models: Dict[str, nn.Module]) -> None:
    case = CASES[name]
    shape, train = case['shape'], case['train']
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn(shape, generator=gen)
    original = models['original']
    with torch.no_grad():
        original.train(train)
        grads = [torch.randn(o.shape, generator=gen) for o in original(x)]

    steps = {label: Step(model, model, x, train, grads)
             for label, model in models.items()}
    if args.bf16:
        steps.update({f'{label}+bf16': Step(model, model, x, train, grads,
                                            bf16=True)
                      for label, model in models.items()})
    if args.compile:
        steps['original+compile'] = Step(original, torch.compile(original),
                                         x, train, grads)

    print(f'\n== {case["title"]}: {"x".join(map(str, shape))}, '
          f'{args.threads} threads ==')
    flops = gflops(original, shape, train)
    expected = steps['original']()  # warm-up, and the reference values
    ref_grads = {name: param.grad.clone()
                 for name, param in original.named_parameters()} \
        if train else None
    notes = {}
    for label, step in steps.items():
        if label == 'original':
            continue
        start = time.perf_counter()
        got = step()  # warm-up (compiles, for torch.compile)
        warm = time.perf_counter() - start
        notes[label] = drift(got, expected)
        if train and not label.endswith('bf16'):
            notes[label] += '; ' + grad_drift(step.model, ref_grads)
        if label.endswith('compile'):
            notes[label] += f'; first call {warm:.0f} s'

    times = {label: [] for label in steps}
    peak = 0.
    for rnd in range(args.rounds):
        order = list(steps) if rnd % 2 == 0 else list(steps)[::-1]
        for label in order:
            start = time.perf_counter()
            steps[label]()
            times[label].append(time.perf_counter() - start)
        peak = max(peak, matmul_peak())

    images = shape[0]
    base = times['original']
    passes = 'x3' if train else 'x1'
    print(f'{flops:.1f} GFLOP per step (FlopAnalyzer, x2, {passes}); '
          f'fp32 matmul peak {peak:.0f} GFLOP/s (best of {args.rounds}); '
          f'load average {os.getloadavg()[0]:.1f}')
    print(f'{"variant":<18}{"img/s":>8}{"best":>8}{"ratio":>7}'
          f'{"peak MiB":>10}{"% peak":>8}')
    for label, runs in times.items():
        ratio = statistics.median(b / t for b, t in zip(base, runs))
        print(f'{label:<18}{images / statistics.median(runs):8.2f}'
              f'{images / min(runs):8.2f}{ratio:7.2f}'
              f'{peak_memory_mb(steps[label]):10.0f}'
              f'{100 * flops / min(runs) / peak:8.0f}')
    for label, note in notes.items():
        print(f'  {label}: {note}')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    models = build_models(args.arch, args.seed)
    print(f'torch {torch.__version__}, {args.threads} threads, '
          f'{args.rounds} rounds; img/s from the median round, best from the '
          'fastest; ratio = median per-round speed-up over the original; '
          '% peak = GFLOP/s of the fastest round / fp32 matmul peak')
    for name in args.cases:
        run_case(name, args, models)


if __name__ == '__main__':
    main()
