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
import glob
import json
import os
import os.path as osp
from typing import List

import numpy as np
from mmengine.config import Config

from mmpoolformer.engine import load_config, use_safe_checkpoint_loading
from mmpoolformer.engine.cli import add_bf16_arg
from mmpoolformer.engine.display import check_display
from mmpoolformer.precision import prepare_bf16_inference, require_cpu_bf16

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                    '.tiff', '.webp')


def parse_args(argv=None) -> argparse.Namespace:
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


def score_threshold(args: argparse.Namespace, scope: str) -> float:
    """``--pred-score-thr`` (0.3, as mmdet's demo, when not given); a
    segmentor has no scores to threshold."""
    if scope == 'mmdet':
        return 0.3 if args.pred_score_thr is None else args.pred_score_thr
    if args.pred_score_thr is not None:
        raise SystemExit('--pred-score-thr is for detection; a segmentor '
                         'labels every pixel.')
    return 0.0


def image_paths(inputs: str) -> List[str]:
    """The images ``inputs`` names: a file, a folder's images (sorted) or
    a glob pattern's matches (sorted)."""
    if osp.isfile(inputs):
        return [inputs]
    if osp.isdir(inputs):
        paths = sorted(osp.join(inputs, name) for name in
                       os.listdir(inputs)
                       if name.lower().endswith(IMAGE_EXTENSIONS))
        where = (f'folder {inputs!r} has no image files '
                 f'({", ".join(IMAGE_EXTENSIONS)})')
    else:
        paths = sorted(p for p in glob.glob(inputs, recursive=True)
                       if osp.isfile(p))
        where = (f'{inputs!r} is neither an image, a folder nor a glob '
                 'pattern that matches files')
    if not paths:
        raise FileNotFoundError(f'No images to predict on: {where}. Pass an '
                                "image, a folder or a quoted glob such as "
                                "'photos/*.jpg'.")
    return paths


def predict_detection(cfg: Config, paths: List[str],
                      args: argparse.Namespace) -> None:
    from mmdet.apis import DetInferencer

    inferencer = DetInferencer(model=cfg, weights=args.checkpoint,
                               device=args.device)
    if args.bf16:
        prepare_bf16_inference(inferencer.model)
    inferencer(paths, out_dir=args.out_dir, no_save_pred=False,
               pred_score_thr=args.pred_score_thr, show=args.show,
               wait_time=args.wait_time)


def predict_segmentation(cfg: Config, paths: List[str],
                         args: argparse.Namespace) -> None:
    from mmseg.apis import MMSegInferencer

    inferencer = MMSegInferencer(model=cfg, weights=args.checkpoint,
                                 device=args.device)
    if args.bf16:
        prepare_bf16_inference(inferencer.model)
    result = inferencer(paths, out_dir=args.out_dir, show=args.show,
                        wait_time=args.wait_time)
    label_maps = result['predictions']
    if len(paths) == 1:  # the Inferencer unwraps a single prediction
        label_maps = [label_maps]
    classes = inferencer.model.dataset_meta['classes']
    index = [dict(image=path, label_map=f'pred/{i:08d}_pred.png',
                  classes=[classes[c] for c in np.unique(label_map)])
             for i, (path, label_map) in enumerate(zip(paths, label_maps))]
    with open(osp.join(args.out_dir, 'predictions.json'), 'w') as f:
        json.dump(index, f, indent=1)


PREDICT = {'mmdet': predict_detection, 'mmseg': predict_segmentation}


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config)
    if cfg.default_scope not in PREDICT:
        raise ValueError(f'{args.config}: default_scope '
                         f'{cfg.default_scope!r}; image_demo knows '
                         f'{sorted(PREDICT)}')
    args.pred_score_thr = score_threshold(args, cfg.default_scope)
    paths = image_paths(args.inputs)
    use_safe_checkpoint_loading()
    PREDICT[cfg.default_scope](cfg, paths, args)
    print(f'{len(paths)} image(s): drawn predictions in '
          f'{osp.join(args.out_dir, "vis")}, raw predictions in '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
