"""Train a PoolFormer detector or segmentor with mmengine's Runner.

    python tools/train.py configs/detection/retinanet_poolformer_s12.py
    python tools/train.py CONFIG --resume            # from work_dir's last
    python tools/train.py CONFIG --resume PATH.pth   # from that checkpoint
    python tools/train.py CONFIG --auto-scale-lr     # lr x batch / config's
    python tools/train.py CONFIG --bf16              # CPU bf16 autocast

The config's ``default_scope`` ('mmdet' or 'mmseg') chooses the library.
"""
import argparse

from mmengine.device import get_device

from mmpoolformer.cli.run_setup import (add_common_args, add_resume_args,
                                        apply_resume_args, build_runner,
                                        setup_config)
from mmpoolformer.precision import (Bf16UnavailableError, bf16_optim_wrapper,
                                    require_cpu_bf16)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file, e.g. configs/detection/'
                        'retinanet_poolformer_s12.py')
    add_resume_args(parser)
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument(
        '--amp', action='store_true',
        help='fp16 automatic mixed precision with a loss scaler (needs a '
        'GPU; on the CPU use --bf16)')
    precision.add_argument(
        '--bf16', action='store_true',
        help='train on the CPU under bf16 autocast (CPUBf16OptimWrapper: '
        'fp32 parameters, no loss scaler; needs AMX or AVX-512 BF16)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help="scale the lr by (GPUs x batch per GPU) / the config's "
        "auto_scale_lr.base_batch_size, as mmdet's tools/train.py does")
    add_common_args(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.amp and get_device() == 'cpu':
        parser.error('--amp needs a GPU (CUDA, NPU, MLU or MUSA) and none '
                     'was found; on the CPU use --bf16 (bf16 autocast) or '
                     'train without --amp.')
    if args.bf16:
        try:
            require_cpu_bf16('--bf16')
        except Bf16UnavailableError as error:
            parser.error(str(error))
    return args


def enable_auto_scale_lr(cfg) -> None:
    """Switch on mmengine's ``auto_scale_lr`` (the Runner logs the ratio
    and scales every parameter group's lr)."""
    scaling = cfg.get('auto_scale_lr') or {}
    if 'base_batch_size' not in scaling:
        raise SystemExit(
            f'--auto-scale-lr: {cfg.filename} has no auto_scale_lr.'
            'base_batch_size; add auto_scale_lr = dict(enable=False, '
            'base_batch_size=N), N the total batch its lr was tuned for.')
    cfg.auto_scale_lr = dict(scaling, enable=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    dataloaders = ['train_dataloader', 'val_dataloader']
    cfg = setup_config(args, dataloaders)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.bf16:
        cfg.optim_wrapper = bf16_optim_wrapper(cfg.optim_wrapper)
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg)
    apply_resume_args(cfg, args)
    build_runner(cfg, training=True).train()


if __name__ == '__main__':
    main()
