"""``model``: the whole detector and segmentor (backbone, neck, heads) in
tensor mode (what the exporter's graph computes), RetinaNet-S12 at
1x3x800x1216 and Semantic FPN-S12 at 1x3x512x512, random weights:

* ``original fp32``: ``fast_path=False``, the original operations;
* ``default fp32``: our default (``fast_path=None``);
* ``bf16 prepared``: the default prepared by
  ``mmpoolformer.precision.prepare_bf16_inference`` (what ``--bf16``
  runs), and ``bf16 autocast``: the default under CPU bf16 autocast alone;
  both only on a CPU with native bf16 units.

``--profile`` adds rows timing the backbone, the neck and the heads apart
(each on the previous part's outputs). Notes: ``drift``, the largest
output difference to the original relative to its largest output."""
import copy
import functools
from typing import Dict, List, Sequence

import torch
from torch import nn

from ...deployment.export import TensorOutputs
from ...precision import bf16_support, prepare_bf16_inference
from ..results import Row, shape_text, timed_rows
from ..timing import time_variants
from .base import Case, Options
from .building import WHOLE_MODELS, output_drifts, whole_model

BASELINE = 'original fp32'


class Autocast(nn.Module):
    """``model`` under CPU bf16 autocast."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            return self.model(*args)


def variants(model: nn.Module) -> Dict[str, nn.Module]:
    """The model as each variant runs it, with the same weights."""
    model.backbone.fast_path = False
    default = copy.deepcopy(model)
    default.backbone.fast_path = None
    found = {BASELINE: model, 'default fp32': default}
    if bf16_support().native:
        prepared = copy.deepcopy(default)
        prepare_bf16_inference(prepared)
        found.update({'bf16 prepared': prepared, 'bf16 autocast': default})
    return found


def parts(model: nn.Module, autocast: bool) -> Dict[str, nn.Module]:
    """Backbone, neck and heads of ``model``."""
    head = getattr(model, 'decode_head', None) or model.bbox_head
    found = {'backbone': model.backbone, 'neck': model.neck, 'heads': head}
    return {name: Autocast(part) if autocast else part
            for name, part in found.items()}


def part_rows(built: Dict[str, nn.Module], x: torch.Tensor, key: str,
              shape: str, rounds: int) -> List[Row]:
    """Each part's time, the variants side by side."""
    calls = {}
    for name, model in built.items():
        value = x
        for part, module in parts(model, name == 'bf16 autocast').items():
            calls.setdefault(part, {})[name] = functools.partial(module,
                                                                 value)
            value = module(value)
    rows = []
    for part, part_calls in calls.items():
        rows += timed_rows(key, f'inference: {part}', shape,
                           time_variants(part_calls, rounds, BASELINE),
                           BASELINE, rounds)
    return rows


def run(options: Options, keys: Sequence[str]) -> List[Row]:
    rows = []
    for key in keys:
        model, x = whole_model(key, options)
        built = variants(model)
        runs = {name: TensorOutputs(m) for name, m in built.items()}
        if 'bf16 autocast' in runs:
            runs['bf16 autocast'] = Autocast(runs['bf16 autocast'])
        with torch.no_grad():
            calls = {name: functools.partial(call, x)
                     for name, call in runs.items()}
            drifts = output_drifts(calls, BASELINE)
            timings = time_variants(calls, options.rounds, BASELINE)
            found = timed_rows(key, 'inference', shape_text(x.shape),
                               timings, BASELINE, options.rounds)
            for row in found:
                row.notes = dict(drift=drifts[row.variant])
            if options.profile:
                found += part_rows(built, x, key, shape_text(x.shape),
                                   options.rounds)
        rows += found
    return rows


CASE = Case('model', 'the whole detector / segmentor: original vs default '
            'fp32, bf16 prepared and autocast; --profile by part',
            tuple(WHOLE_MODELS), tuple(WHOLE_MODELS), run)
