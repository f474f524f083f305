"""Mask R-CNN's RoIAlign on the CPU: mmcv's kernel against CPURoIAlign's
threaded gather, forward and backward.

    .venv/bin/python tools/analysis/benchmark_roi_align.py [--rounds 5]

Two cases, both a level-0 map of the FPN (stride 4, 256 channels, two
images) with RoIs of up to 112 pixels (the sizes mmdet maps to level 0),
the configs' RoIAlign (7x7, adaptive sampling, aligned): the demo's 256x192
images with 117 RoIs, and COCO's 1344x800 with 1024 (512 sampled per
image). Both run in one process, alternating, on the same map, RoIs and
upstream gradient; the speed-up is the median of the per-round ratios.
"""
import argparse
import os
import statistics
from typing import Callable

import torch
from mmcv.ops import roi_align

from mmpoolformer.models.roi_heads import gather_roi_align
from mmpoolformer.testing import alternate, median_ratios

CASES = {'demo, 48x64 map, 117 RoIs': (48, 64, 117),
         'COCO, 200x336 map, 1024 RoIs': (200, 336, 1024)}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=2)
    return parser.parse_args(argv)


def inputs(height: int, width: int, count: int, generator: torch.Generator):
    feats = torch.randn(2, 256, height, width, generator=generator,
                        requires_grad=True)
    corner = torch.rand(count, 2, generator=generator) * torch.tensor(
        [width, height]) * 4
    size = torch.rand(count, 2, generator=generator) * 108 + 4
    batch = torch.randint(0, 2, (count, 1), generator=generator).float()
    rois = torch.cat([batch, corner, corner + size], 1)
    return feats, rois, torch.randn(count, 256, 7, 7, generator=generator)


def step(run: Callable, feats, rois, upstream) -> Callable[[], None]:
    """One forward and backward of ``run`` on the case."""
    return lambda: run(feats, rois).backward(upstream)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = {
        'mmcv': lambda f, r: roi_align(f, r, 7, 0.25, 0, 'avg', True),
        'CPURoIAlign': lambda f, r: gather_roi_align(f, r, (7, 7), 0.25, 0,
                                                     True),
    }
    print(f'torch {torch.__version__}, {args.threads} threads, '
          f'{args.rounds} rounds; load average {os.getloadavg()[0]:.1f}')
    generator = torch.Generator().manual_seed(0)
    for title, shape in CASES.items():
        case = inputs(*shape, generator)
        times = alternate({name: step(run, *case)
                           for name, run in runs.items()}, args.rounds)
        ratio = median_ratios(times, 'mmcv')['CPURoIAlign']
        print(f'{title}: forward + backward, mmcv '
              f'{statistics.median(times["mmcv"]) * 1e3:.1f} ms, '
              f'CPURoIAlign '
              f'{statistics.median(times["CPURoIAlign"]) * 1e3:.1f} ms: '
              f'{ratio:.2f}x; load average {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
