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


def setup_config(args: argparse.Namespace,
                 dataloaders: Iterable[str]) -> Config:
    """Load ``args.config`` with its library, apply the common options,
    check the model's wiring and the datasets ``dataloaders`` read, make
    checkpoints load safely and, without CUDA, start distributed runs on
    gloo."""
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
    use_safe_checkpoint_loading()
    setup_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """mmengine's Runner, or the config's own ``runner_type``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
