"""What ``tools/train.py`` and ``tools/test.py`` share: their common
options and the config set-up before mmengine's Runner is built."""
import argparse
import os
import os.path as osp
from typing import Iterable

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .distributed import setup_cpu_distributed
from .preflight import check_data_roots, check_wiring, load_config
from .run_guard import RunGuardHook
from .safe_load import use_safe_checkpoint_loading


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
    run guard's ``allow_fresh_start`` when ``--allow-fresh-start``."""
    _allow_in_guard(cfg, 'allow_fresh_start', args.allow_fresh_start)
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume


def guard_hook(cfg: Config) -> dict:
    """The config's :class:`~mmpoolformer.engine.RunGuardHook` entry of
    ``custom_hooks``, added when missing."""
    hooks = cfg.setdefault('custom_hooks', [])
    for hook in hooks:
        if isinstance(hook, dict) and hook.get('type') in (
                'RunGuardHook', RunGuardHook):
            return hook
    hooks.append(dict(type='RunGuardHook'))
    return hooks[-1]


def _allow_in_guard(cfg: Config, key: str, flag: bool) -> None:
    """Set the run guard's ``key`` when its flag was given; a config
    that already sets it keeps it."""
    guard = guard_hook(cfg)
    guard[key] = flag or guard.get(key, False)


def setup_config(args: argparse.Namespace,
                 dataloaders: Iterable[str]) -> Config:
    """Load ``args.config`` with its library, apply the common options,
    check the model's wiring and the datasets ``dataloaders`` read, guard
    the run (:class:`~mmpoolformer.engine.RunGuardHook`), make checkpoints
    load safely and, without CUDA, start distributed runs on gloo."""
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
    _allow_in_guard(cfg, 'allow_partial_load', args.allow_partial_load)
    use_safe_checkpoint_loading()
    setup_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """mmengine's Runner, or the config's own ``runner_type``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
