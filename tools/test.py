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

from mmpoolformer.cli.display import check_display
from mmpoolformer.cli.run_setup import (add_bf16_arg, add_common_args,
                                        build_runner, setup_config)
from mmpoolformer.libraries import adapter_for
from mmpoolformer.precision.hooks import enable_bf16_testing

PICKLE = ('.pkl', '.pickle')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the predictions: mmdet to a .pkl; mmseg to a '
        'folder of predicted label PNGs (as its tools/test.py) or a .pkl')
    parser.add_argument(
        '--show', action='store_true',
        help='show each image with its prediction in a window')
    parser.add_argument(
        '--show-dir', help='save the images with the predictions drawn '
        'into this folder (mmseg: into its vis_data/vis_image/)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='with --show: seconds per image')
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation: the config's "
                        'tta_model and tta_pipeline')
    add_bf16_arg(parser, 'test')
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.show:
        check_display()
    return args


def draw_predictions(cfg: Config, args: argparse.Namespace) -> None:
    """Switch on the visualization hook for ``--show``/``--show-dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError(
            f'--show/--show-dir need default_hooks.visualization in '
            f"{cfg.filename}; add visualization=dict(type="
            "'DetVisualizationHook') (mmdet) or dict(type="
            "'SegVisualizationHook') (mmseg).")
    hook['draw'] = True
    if args.show:
        hook.update(show=True, wait_time=args.wait_time)
    if args.show_dir:
        adapter_for(cfg.default_scope).save_drawings(cfg, args.show_dir)


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
    if args.show or args.show_dir:
        draw_predictions(cfg, args)
    if args.tta:
        use_tta(cfg)
    if args.out is not None and not args.out.endswith(PICKLE):
        adapter_for(cfg.default_scope).save_label_maps(cfg, args.out)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_test_config(args)
    runner = build_runner(cfg)
    if args.out is not None and args.out.endswith(PICKLE):
        runner.test_evaluator.metrics.append(
            adapter_for(cfg.default_scope).dump_metric(args.out))
    runner.test()


if __name__ == '__main__':
    main()
