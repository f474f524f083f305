"""Predict on images with a PoolFormer detector or segmentor checkpoint.

    python tools/image_demo.py photo.jpg CONFIG CHECKPOINT
    python tools/image_demo.py photos/ CONFIG CHECKPOINT --out-dir outputs
    python tools/image_demo.py 'photos/*.jpg' CONFIG CHECKPOINT --show

INPUTS is one image, a folder (the images in it) or a quoted glob pattern.
The config's ``default_scope`` picks the library's own Inferencer (mmdet's
``DetInferencer``, mmseg's ``MMSegInferencer``; both show a progress bar),
which write into ``--out-dir`` as the libraries' demos do:

- detection: ``vis/<image>`` (boxes and masks drawn above
  ``--pred-score-thr``) and ``preds/<image stem>.json`` (all labels, scores,
  boxes and RLE masks);
- segmentation: ``vis/<image>`` (the label map drawn) and
  ``pred/<n>_pred.png`` (the label map, n counting the images in input
  order), plus ``predictions.json`` naming each image's label map and the
  classes in it.

``--bf16`` predicts in bf16 on the CPU's AMX/AVX-512 BF16 units (the model
prepared by mmpoolformer.precision.prepare_bf16_inference).
"""
import argparse
import os.path as osp

from mmpoolformer.checkpoints import use_safe_checkpoint_loading
from mmpoolformer.cli.display import check_display
from mmpoolformer.cli.images import list_images
from mmpoolformer.cli.run_setup import add_bf16_arg
from mmpoolformer.libraries import LibraryAdapter, adapter_for, load_config
from mmpoolformer.precision import prepare_bf16_inference, require_cpu_bf16


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image, a folder of images or a '
                        "quoted glob pattern such as 'photos/*.jpg'")
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', default='outputs',
                        help='where drawn and raw predictions go')
    parser.add_argument('--device', default=None,
                        help='e.g. cpu or cuda:0 (default: a GPU if any)')
    parser.add_argument(
        '--pred-score-thr', type=float, default=None,
        help='detection: draw boxes scoring at least this (default 0.3; the '
        'json files keep all)')
    parser.add_argument('--show', action='store_true',
                        help='also show each result in a window')
    parser.add_argument('--wait-time', type=float, default=0,
                        help='with --show: seconds per image (0: a key)')
    add_bf16_arg(parser, 'predict')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.show:
        check_display()
    if args.bf16:
        require_cpu_bf16('--bf16')
        if args.device not in (None, 'cpu'):
            parser.error(f'--bf16 runs on the CPU; drop --device '
                         f'{args.device} or --bf16.')
        args.device = 'cpu'
    return args


def score_threshold(args: argparse.Namespace,
                    adapter: LibraryAdapter) -> float:
    """``--pred-score-thr`` (0.3, as mmdet's demo, when not given); a
    segmentor has no scores to threshold."""
    if adapter.scores_predictions:
        return 0.3 if args.pred_score_thr is None else args.pred_score_thr
    if args.pred_score_thr is not None:
        raise SystemExit('--pred-score-thr is for detection; a segmentor '
                         'labels every pixel.')
    return 0.0


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config)
    adapter = adapter_for(cfg.default_scope)
    score_thr = score_threshold(args, adapter)
    paths = list_images(args.inputs)
    use_safe_checkpoint_loading()
    adapter.run_inferencer(cfg, args.checkpoint, paths, args.out_dir,
                           args.device, score_thr, args.show, args.wait_time,
                           prepare=prepare_bf16_inference if args.bf16
                           else None)
    print(f'{len(paths)} image(s): drawn predictions in '
          f'{osp.join(args.out_dir, "vis")}, raw predictions in '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
