"""The MetaFormer baselines' fp32 matrix products on the CPU: oneDNN's
(our default) against torch's ``F.linear`` (MKL), inference and training.

    .venv/bin/python tools/analysis/benchmark_products.py \\
        [--archs convformer_s18 caformer_s18 poolformerv2_s12] [--rounds 5]

Each arch's dense backbone (all four stages out, random weights with the
norm affines drawn around 1) runs an inference forward at 1x3x512x512 and
a training step (forward and backward) at 2x3x256x256. Its 1x1
convolutions and CAFormer's attention projections go through
``onednn_kernels.linear_or_torch``; the ``F.linear`` variant is the same
model with that function told that oneDNN does not take the input, which
is what ran before (and what runs traced or on other devices). Both run in
one process, alternating, on the same input; the speed-up is the median
of the per-round ratios. On AMD's CPUs MKL runs fp32 products at about
half oneDNN's rate; on Intel's at about the same.
"""
import argparse
import contextlib
import os
import statistics
from typing import Callable, Dict, Iterator

import torch

from mmpoolformer.models import MetaFormer
from mmpoolformer.models.backbones import onednn_kernels
from mmpoolformer.precision import bf16_support
from mmpoolformer.testing import (alternate, machine_line, median_ratios,
                                  perturb_affines)

INFERENCE_SHAPE = (1, 3, 512, 512)
TRAINING_SHAPE = (2, 3, 256, 256)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--archs', nargs='+',
                        default=['convformer_s18', 'caformer_s18',
                                 'poolformerv2_s12'])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1')
    return args


@contextlib.contextmanager
def torch_products() -> Iterator[None]:
    """Within it, ``linear_or_torch`` runs ``F.linear``."""
    takes = onednn_kernels.takes
    onednn_kernels.takes = lambda x, inference=False: False
    try:
        yield
    finally:
        onednn_kernels.takes = takes


def steps(model: torch.nn.Module) -> Dict[str, Callable[[], None]]:
    """An inference forward and a training step of ``model``, by name."""
    image = torch.randn(INFERENCE_SHAPE)
    batch = torch.randn(TRAINING_SHAPE)

    def inference() -> None:
        model.eval()
        with torch.no_grad():
            model(image)

    def training() -> None:
        model.train()
        model.zero_grad()
        sum(out.mean() for out in model(batch)).backward()

    return {f"inference {'x'.join(map(str, INFERENCE_SHAPE))}": inference,
            f"training step {'x'.join(map(str, TRAINING_SHAPE))}": training}


def with_products(step: Callable[[], None],
                  context: Callable) -> Callable[[], None]:
    """``step`` run inside ``context()``."""
    def call() -> None:
        with context():
            step()
    return call


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads; bf16 units: '
          f'{bf16_support().describe()}; load average at start '
          f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
    print(machine_line())
    for arch in args.archs:
        torch.manual_seed(0)
        model = MetaFormer(arch, out_indices=(0, 1, 2, 3))
        perturb_affines(model)
        for case, step in steps(model).items():
            times = alternate(
                {'F.linear': with_products(step, torch_products),
                 'oneDNN': with_products(step, contextlib.nullcontext)},
                args.rounds)
            ratio = median_ratios(times, 'F.linear')['oneDNN']
            print(f'{arch:18s} {case:26s} F.linear '
                  f'{statistics.median(times["F.linear"]) * 1e3:6.0f} ms  '
                  f'oneDNN {statistics.median(times["oneDNN"]) * 1e3:6.0f} '
                  f'ms  {ratio:.2f}x  (load average '
                  f'{os.getloadavg()[0]:.1f})')


if __name__ == '__main__':
    main()
