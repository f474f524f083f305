"""Training speed of the demo's three models: the original operations in
fp32 against our default (the fast path) in fp32 and in CPU bf16.

    .venv/bin/python -m mmpoolformer.demo     # data/demo/, once
    .venv/bin/python tools/analysis/benchmark_training.py \\
        [--models retinanet mask_rcnn fpn] [--rounds 5] [--threads 2]

Each model is built from its demo config (tools/demo.py's ``MODELS``) with
its initial weights, and trains on one fixed batch of the demo's training
data (the config's own loader and pipeline: 2 images, 256x192 for the
detectors, 256x256 crops for Semantic FPN). A step is what mmengine's
training loop runs: ``model.train_step`` (data preprocessor, forward,
losses, backward, gradient clipping where the config clips, optimizer
step). Variants, each with its own copy of the same weights:

* ``original fp32``: ``fast_path=False`` on the backbone and on Mask
  R-CNN's ``CPURoIAlign`` (the original operations and mmcv's RoIAlign), a
  plain ``OptimWrapper``;
* ``default fp32``: our defaults, a plain ``OptimWrapper``;
* ``default bf16``: our defaults, ``tools/train.py --bf16``'s optimizer
  wrapper (``CPUBf16OptimWrapper``, the fused AdamW step).

All run in one process, alternating (the order reversed every other
round), so load from other processes hits them alike; each speed-up is the
median of the per-round ratios to ``original fp32``. The load average is
printed at the start and the end. Each variant's first-step loss, on the
same weights and batch, is printed beside the original's.

``--profile`` then runs each variant three more steps under
``torch.profiler`` and prints, in ms per step, the optimizer's update
(``Optimizer.step``, without the clipping before it) and the operations
that took the most time.
"""
import argparse
import copy
import functools
import os
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner, set_random_seed

from mmpoolformer.libraries import load_config
from mmpoolformer.mim_files import REPO
from mmpoolformer.precision import bf16_optim_wrapper, require_cpu_bf16
from mmpoolformer.testing import (alternate, load_tool, machine_line,
                                  median_ratios)

DEMO_MODELS = {m.key: m for m in load_tool('demo.py').MODELS}
VARIANTS = ('original fp32', 'default fp32', 'default bf16')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', choices=list(DEMO_MODELS),
                        default=list(DEMO_MODELS), help='which demo models')
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed rounds per model (after one warm-up)')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch intra-op threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--profile', action='store_true',
                        help='also list where each variant\'s step goes')
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1')
    return args


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


def build_trainers(config: str, seed: int) -> Dict[str, Trainer]:
    cfg = load_config(os.path.join(REPO, config))
    init_default_scope(cfg.default_scope)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    original = copy.deepcopy(model)
    for module in original.modules():  # the backbone, CPURoIAlign
        if hasattr(module, 'fast_path'):
            module.fast_path = False
    fp32 = dict(cfg.optim_wrapper, type=OptimWrapper.__name__)
    return {
        'original fp32': Trainer(original, fp32),
        'default fp32': Trainer(copy.deepcopy(model), fp32),
        'default bf16': Trainer(model, bf16_optim_wrapper(cfg.optim_wrapper)),
    }


def demo_batch(config: str, seed: int) -> dict:
    """The first batch of the config's training loader (data/demo/)."""
    cfg = load_config(os.path.join(REPO, config))
    root = os.path.join(REPO, 'data', 'demo')
    if not os.path.isdir(root):
        raise SystemExit(f'{root} is missing: build the demo data first '
                         '(.venv/bin/python -m mmpoolformer.demo).')
    os.chdir(REPO)  # the demo configs name data/demo relative to the repo
    init_default_scope(cfg.default_scope)
    set_random_seed(seed)  # the same flips and crops in every run
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    return next(iter(loader))


def bench_model(key: str, args: argparse.Namespace) -> None:
    demo = DEMO_MODELS[key]
    batch = demo_batch(demo.config, args.seed)
    trainers = build_trainers(demo.config, args.seed)
    # Warm-up: the first step of each, on the same weights, batch and
    # random state (Mask R-CNN samples RoIs at random).
    losses = {}
    for name, trainer in trainers.items():
        torch.manual_seed(args.seed)
        losses[name] = trainer.step(batch)
    times = alternate({name: functools.partial(trainer.step, batch)
                       for name, trainer in trainers.items()},
                      args.rounds, warm_up=False)
    ratios = median_ratios(times, VARIANTS[0])
    shape = 'x'.join(map(str, batch['inputs'][0].shape))
    print(f'\n== {demo.title}, training step on {len(batch["inputs"])} '
          f'images ({shape} before padding), {args.threads} threads, '
          f'{args.rounds} rounds; load average {os.getloadavg()[0]:.1f} ==')
    print(f'{"variant":<15}{"median s":>10}{"best s":>8}{"speed-up":>10}'
          f'{"first loss":>12}')
    for name, runs in times.items():
        print(f'{name:<15}{statistics.median(runs):10.3f}{min(runs):8.3f}'
              f'{ratios[name]:9.2f}x{losses[name]:12.4f}')
    if args.profile:
        for name, trainer in trainers.items():
            print(f'{name}, ms per step: ' + ', '.join(
                f'{op} {ms:.1f}' for op, ms in profile_step(trainer, batch)))


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


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    support = require_cpu_bf16('benchmark_training.py')
    torch.set_num_threads(args.threads)
    # Quiet: init_weights logs every parameter to the current logger.
    MMLogger.get_instance('benchmark_training', log_level='WARNING')
    print(f'torch {torch.__version__}, {args.threads} threads, bf16 on '
          f'{support.describe()}; load average at start '
          f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; speed-up = '
          'median per-round ratio to the original fp32 step')
    print(machine_line())
    for key in args.models:
        bench_model(key, args)


if __name__ == '__main__':
    main()
