"""What a test run leaves besides its metrics, shared by ``tools/test.py``
and ``tools/deployment/test.py``: ``--out`` (the predictions, dumped as the
library's own tools/test.py dumps them), ``--show`` and ``--show-dir`` (the
predictions drawn by the config's visualization hook)."""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

from ..libraries import adapter_for
from .display import check_display

PICKLE = ('.pkl', '.pickle')


def add_output_args(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--show``, ``--show-dir`` and ``--wait-time``, as
    mmdet's and mmseg's tools/test.py spell them."""
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


def check_output_args(args: argparse.Namespace) -> None:
    """Fail before any work when ``--show`` has no display."""
    if args.show:
        check_display()


def apply_output_args(cfg: Config, args: argparse.Namespace) -> None:
    """Set up the config for ``--show``/``--show-dir`` and a folder
    ``--out``; call before the Runner is built."""
    if args.show or args.show_dir:
        draw_predictions(cfg, args)
    if args.out is not None and not args.out.endswith(PICKLE):
        adapter_for(cfg.default_scope).save_label_maps(cfg, args.out)


def add_dump_metric(runner: Runner, cfg: Config,
                    args: argparse.Namespace) -> None:
    """``--out FILE.pkl``: the library's metric that pickles the
    predictions, after the config's own metrics."""
    if args.out is not None and args.out.endswith(PICKLE):
        runner.test_evaluator.metrics.append(
            adapter_for(cfg.default_scope).dump_metric(args.out))


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
