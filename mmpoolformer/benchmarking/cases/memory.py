"""``memory``: peak memory and time of a dense backbone's inference
forward on one 800x1216 image, our default path in fp32, random
weights: the most the torch allocator held during the forward beyond the
weights (its maps and attention), and the median time of the timed
rounds. Notes: ``params_m``, the parameters in millions."""
import functools
from typing import List, Sequence

import torch

from ...models import ARCHS, MetaFormer
from ...models.backbones.archs import ALIASES
from ..memory import peak_memory_mib
from ..results import Row, shape_text, timed_rows
from ..timing import time_variants
from .base import Case, Options

SHAPE = (1, 3, 800, 1216)
SMOKE_SHAPE = (1, 3, 64, 48)
VARIANT = 'default fp32'


def run(options: Options, archs: Sequence[str]) -> List[Row]:
    shape = SMOKE_SHAPE if options.smoke else SHAPE
    image = torch.randn(shape,
                        generator=torch.Generator().manual_seed(options.seed))
    rows = []
    for arch in archs:
        torch.manual_seed(options.seed)
        model = MetaFormer(arch).eval()
        forward = torch.no_grad()(functools.partial(model, image))
        [row] = timed_rows(arch, 'inference', shape_text(shape),
                           time_variants({VARIANT: forward}, options.rounds,
                                         None), None, options.rounds)
        row.peak_mib = peak_memory_mib(forward)
        row.notes = dict(params_m=sum(p.numel()
                                      for p in model.parameters()) / 1e6)
        rows.append(row)
    return rows


CASE = Case('memory', 'peak memory and time of a backbone forward at '
            '800x1216, by arch',
            ('s12', 'poolformerv2_s12', 'convformer_s18', 'caformer_s18'),
            tuple(ALIASES) + tuple(ARCHS), run)
