"""What ``tools/train.py`` and ``tools/test.py`` share: their common
options, the config set-up before mmengine's Runner is built (config
checks, our hooks added where the config lacks them, the work dir's lock
taken before the Runner writes anything) and the Runner itself
(:class:`~mmpoolformer.config_checks.CheckedRunner` unless the config names
another)."""
import argparse
import os
import os.path as osp
from typing import Iterable

import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..checkpoints import use_safe_checkpoint_loading
from ..config_checks import CheckedRunner, check_data_roots, check_wiring
from ..hooks import held_lock
from ..libraries import load_config
from .distributed import setup_cpu_distributed

# The hooks every run of our tools has (one job each; see
# mmpoolformer/hooks/), added to a config's custom_hooks when missing.
RUN_HOOKS = ('CheckpointFitHook', 'WorkDirLockHook', 'RandomStatesHook')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``,
    as OpenMMLab's tools spell them."""
    parser.add_argument(
        '--work-dir', help='where logs and checkpoints go (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_dataloader.batch_size=4 '
        'model.backbone.init_cfg.checkpoint=/path/to/poolformer_s12.pth')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher (none: a single process)')
    # torch.distributed.launch passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--allow-partial-load', action='store_true',
        help='load a checkpoint whose keys fit the model only in part '
        '(refused by default: the rest would stay at initial values)')


def add_bf16_arg(parser: argparse.ArgumentParser, what: str) -> None:
    """``--bf16``: ``what`` (e.g. 'test') in bf16 on the CPU's matrix
    units; fp32 without it."""
    parser.add_argument(
        '--bf16', action='store_true',
        help=f'{what} in bf16 on the CPU (AMX or AVX-512 BF16; an error on '
        'a CPU without them). Default: fp32')


def add_resume_args(parser: argparse.ArgumentParser) -> None:
    """``--resume [PATH]`` and ``--allow-fresh-start`` of
    ``tools/train.py``."""
    parser.add_argument(
        '--resume', nargs='?', const='auto',
        help='resume from this training checkpoint, or (bare --resume) from '
        'the last checkpoint in the work dir; an error when there is none')
    parser.add_argument(
        '--allow-fresh-start', action='store_true',
        help='with a bare --resume: start from iteration 0 when the work '
        'dir holds no checkpoint (logged) instead of failing')


def apply_resume_args(cfg: Config, args: argparse.Namespace) -> None:
    """Set the config's ``resume``/``load_from`` from ``--resume``, and the
    checkpoint-fit hook's ``allow_fresh_start`` when
    ``--allow-fresh-start``."""
    _allow_in_fit_hook(cfg, 'allow_fresh_start', args.allow_fresh_start)
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume


def add_run_hooks(cfg: Config) -> None:
    """Add the :data:`RUN_HOOKS` the config's ``custom_hooks`` lack."""
    hooks = cfg.setdefault('custom_hooks', [])
    listed = {hook.get('type') for hook in hooks if isinstance(hook, dict)}
    hooks += [dict(type=name) for name in RUN_HOOKS if name not in listed]


def _allow_in_fit_hook(cfg: Config, key: str, flag: bool) -> None:
    """Set the checkpoint-fit hook's ``key`` when its flag was given; a
    config that already sets it keeps it."""
    add_run_hooks(cfg)
    fit = next(hook for hook in cfg.custom_hooks if isinstance(hook, dict)
               and hook.get('type') == 'CheckpointFitHook')
    fit[key] = flag or fit.get(key, False)


def setup_config(args: argparse.Namespace,
                 dataloaders: Iterable[str]) -> Config:
    """Load ``args.config`` with its library, apply the common options,
    check the model's wiring and the datasets ``dataloaders`` read, add
    the run hooks, make checkpoints load safely and, without CUDA, start
    distributed runs on gloo."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    check_wiring(cfg)
    check_data_roots(cfg, dataloaders)
    _allow_in_fit_hook(cfg, 'allow_partial_load', args.allow_partial_load)
    use_safe_checkpoint_loading()
    setup_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config, training: bool = False) -> Runner:
    """The config's ``runner_type``, else
    :class:`~mmpoolformer.config_checks.CheckedRunner`. For ``training``,
    the process that will be rank 0 takes the work dir's lock first, so a
    refused second run writes nothing there (a launcher that starts the
    process group inside the Runner leaves it to ``WorkDirLockHook``)."""
    single = cfg.get('launcher', 'none') == 'none'
    if training and (single or dist.is_initialized()
                     and dist.get_rank() == 0):
        held_lock(cfg.work_dir)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return CheckedRunner.from_cfg(cfg)
