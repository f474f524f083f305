"""Test (evaluate) a PoolFormer detector or segmentor checkpoint.

    python tools/test.py configs/detection/retinanet_poolformer_s12.py \
        work_dirs/retinanet_poolformer_s12/epoch_12.pth [--show-dir DIR]

The config's ``default_scope`` ('mmdet' or 'mmseg') chooses the library.
"""
import argparse
import os.path as osp

from mmengine.config import Config

from mmpoolformer.engine.cli import add_common_args, build_runner, setup_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the predictions to this .pkl')
    parser.add_argument(
        '--show-dir', help='save the images with the predictions drawn '
        'into this folder (mmseg: into its vis_data/vis_image/)')
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out {args.out}: the predictions are dumped with '
                     'pickle; name a .pkl file.')
    return args


def save_drawn_predictions(cfg: Config, show_dir: str) -> None:
    """Switch on the visualization hook, saving into ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError(
            f'--show-dir needs default_hooks.visualization in {cfg.filename}'
            "; add visualization=dict(type='DetVisualizationHook') (mmdet) "
            "or dict(type='SegVisualizationHook') (mmseg).")
    hook['draw'] = True
    if cfg.default_scope == 'mmdet':  # relative paths: below work_dir
        hook['test_out_dir'] = osp.abspath(show_dir)
    else:  # mmseg's hook saves through the visualizer, every interval
        cfg.visualizer['save_dir'] = show_dir
        hook['interval'] = 1


def dump_metric(scope: str, out: str):
    """The metric that pickles the predictions (masks as RLE for mmdet)."""
    if scope == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out)
    from mmengine.evaluator import DumpResults
    return DumpResults(out_file_path=out)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = setup_config(args, ['test_dataloader'])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        save_drawn_predictions(cfg, args.show_dir)
    runner = build_runner(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            dump_metric(cfg.default_scope, args.out))
    runner.test()


if __name__ == '__main__':
    main()
