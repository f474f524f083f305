"""``roi_align``: Mask R-CNN's RoIAlign on the CPU, mmcv's kernel (the
baseline) against ``CPURoIAlign``'s threaded gather, forward and backward
on a level-0 FPN map (stride 4, 256 channels, two images) with RoIs of up
to 112 pixels, the configs' RoIAlign (7x7, adaptive sampling, aligned):
the demo's 256x192 images (48x64 map, 117 RoIs) and COCO's 1344x800
(200x336 map, 1024 RoIs)."""
from typing import Callable, List, Sequence

import torch
from mmcv.ops import roi_align

from ...models.roi_heads import gather_roi_align
from ..results import Row, timed_rows
from ..timing import time_variants
from .base import Case, Options

#: Map height, width and RoI count, by model name; and on ``--smoke``.
MAPS = {'demo': (48, 64, 117), 'coco': (200, 336, 1024)}
SMOKE_MAP = (12, 16, 5)
RUNS = {
    'mmcv': lambda f, r: roi_align(f, r, 7, 0.25, 0, 'avg', True),
    'CPURoIAlign': lambda f, r: gather_roi_align(f, r, (7, 7), 0.25, 0,
                                                 True),
}


def inputs(height: int, width: int, count: int, generator: torch.Generator):
    """A level-0 map, ``count`` RoIs on it and their upstream gradient."""
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


def run(options: Options, keys: Sequence[str]) -> List[Row]:
    generator = torch.Generator().manual_seed(options.seed)
    rows = []
    for key in keys:
        height, width, count = SMOKE_MAP if options.smoke else MAPS[key]
        case = inputs(height, width, count, generator)
        timings = time_variants({name: step(call, *case)
                                 for name, call in RUNS.items()},
                                options.rounds, 'mmcv')
        rows += timed_rows(key, 'forward + backward',
                           f'2x256x{height}x{width}, {count} RoIs', timings,
                           'mmcv', options.rounds)
    return rows


CASE = Case('roi_align', "RoIAlign: mmcv's kernel vs CPURoIAlign's "
            'gather, forward + backward', tuple(MAPS), tuple(MAPS), run)
