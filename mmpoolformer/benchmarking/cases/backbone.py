"""``backbone``: the fast path (``fast_path=True``) against the original
operations (``fast_path=False``, bit for bit the original model's) of any
arch (PoolFormer-S12 by default) with the same weights: inference at
1x3x800x1216 (COCO-sized) and 1x3x512x512 (ADE20K-sized), and a training
step (forward and backward
from fixed gradients on the four outputs) at 2x3x512x512; with ``--bf16``
also both under CPU bf16 autocast. Notes: each variant's largest output
difference to the original relative to its largest output (``drift``)
and, for the fp32 training step, the worst per-tensor relative gradient
difference (``grad_drift``). Rows also hold each step's peak memory.

The ``family`` case (:mod:`.family`) is the same comparison for every
arch at smaller sizes."""
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import nn

from ...models import ARCHS, PoolFormer
from ...models.backbones.archs import ALIASES
from ...testing import largest_difference
from ..memory import peak_memory_mib
from ..results import Row, shape_text, timed_rows
from ..timing import time_variants
from .base import Case, Options
from .building import Step, output_grads, twins

#: Steps and input shapes: ``(('inference', (1, 3, 512, 512)), ...)``.
Settings = Tuple[Tuple[str, Tuple[int, ...]], ...]


def grad_drift(model: nn.Module, expected: Dict[str, torch.Tensor]) -> float:
    """Worst per-tensor max |grad difference| / max |expected grad|,
    leaving out the norm1 biases (they cancel in pool(y) - y: their exact
    gradient is zero and both sides show only rounding)."""
    return max(float((param.grad - expected[name]).abs().max()
                     / expected[name].abs().max())
               for name, param in model.named_parameters()
               if not name.endswith('norm1.bias'))


def steps(models: Dict[str, nn.Module], x: torch.Tensor, grads,
          bf16: bool) -> Dict[str, Step]:
    """Each variant's step; with ``bf16`` also each under autocast."""
    found = {name: Step(model, x, grads) for name, model in models.items()}
    if bf16:
        found.update({f'{name}+bf16': Step(model, x, grads, bf16=True)
                      for name, model in models.items()})
    return found


def run_setting(models: Dict[str, nn.Module], step_kind: str, shape,
                options: Options, arch: str) -> List[Row]:
    """The variants' rows for one step at one shape; the first variant is
    the baseline."""
    baseline = next(iter(models))
    gen = torch.Generator().manual_seed(options.seed)
    x = torch.randn(shape, generator=gen)
    grads = output_grads(models[baseline], x, gen) \
        if step_kind == 'training' else ()
    variants = steps(models, x, grads, options.bf16)
    expected = variants[baseline]()
    expected_grads = {name: p.grad.clone() for name, p in
                      models[baseline].named_parameters()} if grads else {}
    notes = {}
    for name, step in variants.items():
        diff, scale = largest_difference(step(), expected)
        notes[name] = dict(drift=diff / scale)
        if grads and not step.bf16:
            notes[name]['grad_drift'] = grad_drift(step.model,
                                                   expected_grads)
    timings = time_variants(variants, options.rounds, baseline)
    rows = timed_rows(arch, step_kind, shape_text(shape), timings,
                      baseline, options.rounds)
    for row in rows:
        row.peak_mib = peak_memory_mib(variants[row.variant])
        row.notes = notes[row.variant]
    return rows


def twins_case(name: str, summary: str, build: Callable[..., nn.Module],
               archs: Tuple[Tuple[str, ...], Tuple[str, ...]],
               settings: Tuple[Settings, Settings],
               labels: Tuple[str, str], **build_args) -> Case:
    """A case timing ``build(arch, fast_path=True)`` (labelled
    ``labels[1]``) against ``fast_path=False`` (``labels[0]``, the
    baseline) with the same weights, for each step and shape of
    ``settings`` (full, smoke); ``archs``: the default and known ones."""
    def run(options: Options, chosen: Sequence[str]) -> List[Row]:
        rows = []
        for arch in chosen:
            models = dict(zip(labels, twins(build, arch, options.seed,
                                            **build_args)))
            for step_kind, shape in settings[options.smoke]:
                rows += run_setting(models, step_kind, shape, options, arch)
        return rows
    return Case(name, summary, *archs, run)


CASE = twins_case(
    'backbone', 'the fast path vs the original operations, any arch: '
    'inference at 800x1216 and 512x512, a training step; --bf16',
    PoolFormer, (('s12', ), tuple(ALIASES) + tuple(ARCHS)),
    ((('inference', (1, 3, 800, 1216)), ('inference', (1, 3, 512, 512)),
      ('training', (2, 3, 512, 512))),
     (('inference', (1, 3, 64, 48)), ('training', (1, 3, 64, 48)))),
    ('original', 'fast_path'), fork_last3=False)
