"""``training``: training steps of the demo's three models (RetinaNet, Mask
R-CNN, Semantic FPN), each built from its demo config with its initial
weights, on the first batch of the demo's training data (the config's own
loader and pipeline; ``python -m mmpoolformer.demo`` writes it). A step is
what mmengine's training loop runs: ``model.train_step`` (data
preprocessor, forward, losses, backward, clipping where the config clips,
optimizer step). Variants, each with its own copy of the same weights:

* ``original fp32``: ``fast_path=False`` on the backbone and on Mask
  R-CNN's ``CPURoIAlign``, a plain ``OptimWrapper`` (the baseline);
* ``default fp32``: our defaults, a plain ``OptimWrapper``;
* ``default bf16``: our defaults with ``tools/train.py --bf16``'s
  optimizer wrapper (``CPUBf16OptimWrapper``), only on a CPU with native
  bf16 units.

The first step of each, on the same weights, batch and random state, is
the warm-up; its loss is the row's ``first_loss`` note. A row's shape is
the batch size and the first image's shape before padding. ``--profile``
adds, per variant, the optimizer's update and the operations that took
the most time, in ms per step over three more steps (note ``profile``).
"""
import copy
import functools
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner, set_random_seed

from ...demo.models import MODELS as DEMO_MODELS
from ...libraries import load_config
from ...mim_files import REPO
from ...precision import bf16_optim_wrapper, bf16_support
from ..results import Row, shape_text, timed_rows
from ..timing import time_variants
from .base import Case, Options

BASELINE = 'original fp32'
DEFAULT_DATA_ROOT = osp.join(REPO, 'data', 'demo')


class Trainer:
    """One variant: a model and its optimizer wrapper, stepping on a
    batch as mmengine's training loop does."""

    def __init__(self, model: torch.nn.Module, optim_wrapper: dict) -> None:
        self.model = model.train()
        self.optim_wrapper = build_optim_wrapper(model, optim_wrapper)

    def step(self, batch: dict) -> float:
        """One training step on ``batch``; its total loss."""
        log_vars = self.model.train_step(batch, self.optim_wrapper)
        return log_vars['loss'].item()


def build_trainers(cfg, seed: int) -> Dict[str, Trainer]:
    """The variants' trainers, with the same initial weights."""
    init_default_scope(cfg.default_scope)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    original = copy.deepcopy(model)
    for module in original.modules():  # the backbone, CPURoIAlign
        if hasattr(module, 'fast_path'):
            module.fast_path = False
    fp32 = dict(cfg.optim_wrapper, type=OptimWrapper.__name__)
    trainers = {BASELINE: Trainer(original, fp32),
                'default fp32': Trainer(copy.deepcopy(model), fp32)}
    if bf16_support().native:
        trainers['default bf16'] = Trainer(
            model, bf16_optim_wrapper(cfg.optim_wrapper))
    return trainers


def data_root(options: Options) -> str:
    """The demo data folder ``options`` name; raise where it is missing."""
    root = options.data_root or DEFAULT_DATA_ROOT
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'{root} is missing: build the demo data first (python -m '
            'mmpoolformer.demo) or name it with --data-root.')
    return root


def demo_batch(cfg, data_root: str, seed: int) -> dict:
    """The first batch of the config's training loader, its data read
    from ``data_root``."""
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.dataset.data_root = osp.abspath(data_root)
    init_default_scope(cfg.default_scope)
    set_random_seed(seed)  # the same flips and crops in every run
    return next(iter(Runner.build_dataloader(loader, seed=seed)))


def profile_step(trainer: Trainer, batch: dict, steps: int = 3,
                 top: int = 6) -> List[Tuple[str, float]]:
    """The optimizer's update and the ``top`` operations by their own CPU
    time, each in ms per step over ``steps`` steps."""
    with torch.profiler.profile() as prof:
        for _ in range(steps):
            trainer.step(batch)
    events = prof.key_averages()
    optimizer = [('optimizer update', event.cpu_time_total / 1e3 / steps)
                 for event in events
                 if event.key.startswith('Optimizer.step#')]
    ops = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    return optimizer + [(event.key, event.self_cpu_time_total / 1e3 / steps)
                        for event in ops[:top]]


def run(options: Options, keys: Sequence[str]) -> List[Row]:
    demos = {demo.key: demo for demo in DEMO_MODELS}
    # Quiet: init_weights logs every parameter to the current logger.
    MMLogger.get_instance('benchmark_training', log_level='WARNING')
    rows = []
    for key in keys:
        cfg = load_config(osp.join(REPO, demos[key].config))
        batch = demo_batch(cfg, data_root(options), options.seed)
        trainers = build_trainers(cfg, options.seed)
        losses = {}
        for name, trainer in trainers.items():  # the warm-up
            torch.manual_seed(options.seed)  # Mask R-CNN samples RoIs
            losses[name] = trainer.step(batch)
        timings = time_variants(
            {name: functools.partial(trainer.step, batch)
             for name, trainer in trainers.items()}, options.rounds,
            BASELINE, warm_up=False)
        shape = (f'{len(batch["inputs"])}x'
                 f'{shape_text(batch["inputs"][0].shape)}')
        found = timed_rows(key, 'training', shape, timings, BASELINE,
                           options.rounds)
        for row in found:
            row.notes = dict(first_loss=losses[row.variant])
            if options.profile:
                row.notes['profile'] = dict(
                    profile_step(trainers[row.variant], batch))
        rows += found
    return rows


CASE = Case('training', "training steps of the demo's models: original vs "
            'default fp32 and bf16; --profile', tuple(d.key for d in
                                                      DEMO_MODELS),
            tuple(d.key for d in DEMO_MODELS), run, data_root)
