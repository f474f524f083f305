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
import os.path as osp
import warnings
from copy import deepcopy

from mmengine.config import Config, ConfigDict

from mmpoolformer.engine.cli import (add_bf16_arg, add_common_args,
                                     build_runner, setup_config)
from mmpoolformer.engine.display import check_display
from mmpoolformer.precision.hooks import enable_bf16_testing

PICKLE = ('.pkl', '.pickle')
# mmdet's tools/test.py: flip TTA for configs without a tta_model.
DET_TTA_MODEL = dict(type='DetTTAModel', tta_cfg=dict(
    nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
DET_FLIP_PACK = dict(type='TestTimeAug', transforms=[
    [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
    [dict(type='PackDetInputs', meta_keys=(
        'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
        'flip', 'flip_direction'))]])


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
    if not args.show_dir:
        return
    if cfg.default_scope == 'mmdet':  # relative paths: below work_dir
        hook['test_out_dir'] = osp.abspath(args.show_dir)
    else:  # mmseg's hook saves through the visualizer, every interval
        cfg.visualizer['save_dir'] = args.show_dir
        hook['interval'] = 1


def use_tta(cfg: Config) -> None:
    """Wrap the model in the config's ``tta_model`` and test on its
    ``tta_pipeline``, as mmdet's and mmseg's tools/test.py do."""
    if cfg.default_scope == 'mmdet':
        if 'mask_head' in cfg.model.get('roi_head', {}):
            raise SystemExit(
                f'--tta: {cfg.filename} predicts masks, and mmdet 3.3 '
                "merges augmented boxes only (DetTTAModel: 'TTA of instance "
                "segmentation does not support now'); test without --tta.")
        if 'tta_model' not in cfg:
            warnings.warn('no tta_model in the config: mmdet flip TTA')
            cfg.tta_model = DET_TTA_MODEL
        if 'tta_pipeline' not in cfg:
            warnings.warn('no tta_pipeline in the config: the test pipeline '
                          'with mmdet flip TTA')
            dataset = cfg.test_dataloader.dataset
            while 'dataset' in dataset:
                dataset = dataset.dataset
            cfg.tta_pipeline = deepcopy(dataset.pipeline)[:-1] + [
                DET_FLIP_PACK]
    for key in ('tta_model', 'tta_pipeline'):
        if key not in cfg:
            raise SystemExit(f'--tta needs {key} in {cfg.filename}; see '
                             "mmseg's _base_/default_runtime.py and "
                             '_base_/datasets/ade20k.py')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def save_label_maps(cfg: Config, out_dir: str) -> None:
    """mmseg's ``--out DIR``: IoUMetric writes each predicted label map
    as ``DIR/<image name>.png`` and still computes the metrics."""
    cfg.test_evaluator['output_dir'] = out_dir


def dump_metric(scope: str, out: str):
    """The metric that pickles the predictions (masks as RLE for mmdet)."""
    if scope == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out)
    from mmengine.evaluator import DumpResults
    return DumpResults(out_file_path=out)


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
        if cfg.default_scope == 'mmdet':
            raise SystemExit(f'--out {args.out}: mmdet dumps its predictions '
                             'with pickle; name a .pkl file.')
        save_label_maps(cfg, args.out)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_test_config(args)
    runner = build_runner(cfg)
    if args.out is not None and args.out.endswith(PICKLE):
        runner.test_evaluator.metrics.append(
            dump_metric(cfg.default_scope, args.out))
    runner.test()


if __name__ == '__main__':
    main()
