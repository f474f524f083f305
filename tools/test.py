"""Test (evaluate) a PoolFormer detector or segmentor checkpoint.

    python tools/test.py configs/detection/retinanet_poolformer_s12.py \
        work_dirs/retinanet_poolformer_s12/epoch_12.pth [--show-dir DIR]

The config's ``default_scope`` ('mmdet' or 'mmseg') chooses the library; the
flags mean what they mean in that library's own ``tools/test.py``:
``--show``/``--wait-time`` show each drawn prediction, ``--tta`` evaluates
with the config's ``tta_model``/``tta_pipeline`` (mmseg: multi-scale +
flip; mmdet: the base's, or flip only as mmdet's tool adds), ``--out`` dumps
predictions (mmdet: a ``.pkl``; mmseg: a folder of label PNGs, or a ``.pkl``).
``--bf16`` tests in bf16 on the CPU's AMX/AVX-512 BF16 units (the config's
``test_cfg.fp16=True`` with ``Bf16InferenceHook``, mmpoolformer.precision).
"""
import argparse

from mmengine.config import Config, ConfigDict

from mmpoolformer.cli.run_setup import (add_bf16_arg, add_common_args,
                                        build_runner, setup_config)
from mmpoolformer.cli.test_outputs import (add_dump_metric, add_output_args,
                                           apply_output_args,
                                           check_output_args)
from mmpoolformer.hooks.bf16_inference import enable_bf16_testing
from mmpoolformer.libraries import adapter_for


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_output_args(parser)
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation: the config's "
                        'tta_model and tta_pipeline')
    add_bf16_arg(parser, 'test')
    add_common_args(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_output_args(args)
    return args


def use_tta(cfg: Config) -> None:
    """Wrap the model in the config's ``tta_model`` and test on its
    ``tta_pipeline``, as mmdet's and mmseg's tools/test.py do."""
    adapter_for(cfg.default_scope).prepare_tta(cfg)
    for key in ('tta_model', 'tta_pipeline'):
        if key not in cfg:
            raise SystemExit(f'--tta needs {key} in {cfg.filename}; see '
                             "mmseg's _base_/default_runtime.py and "
                             '_base_/datasets/ade20k.py')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def build_test_config(args: argparse.Namespace) -> Config:
    """The config the Runner is built from, with every flag applied."""
    cfg = setup_config(args, ['test_dataloader'])
    cfg.load_from = args.checkpoint
    if args.bf16:
        enable_bf16_testing(cfg)
    apply_output_args(cfg, args)
    if args.tta:
        use_tta(cfg)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_test_config(args)
    runner = build_runner(cfg)
    add_dump_metric(runner, cfg, args)
    runner.test()


if __name__ == '__main__':
    main()
