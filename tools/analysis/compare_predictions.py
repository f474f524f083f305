r"""What a lower precision or a runtime changes in what users see: two
prediction files of the same test set compared, image by image.

    python tools/test.py CONFIG CKPT --out fp32.pkl
    python tools/test.py CONFIG CKPT --bf16 --out bf16.pkl
    python tools/deployment/test.py CONFIG model.onnx --backend openvino \
        --out openvino.pkl
    python tools/analysis/compare_predictions.py fp32.pkl bf16.pkl \
        [--score-thr 0.3]

The files are ``--out`` pickles of ``tools/test.py`` or
``tools/deployment/test.py`` (mmdet's ``DumpDetResults``, mmengine's
``DumpResults`` for mmseg). For detectors: of the first file's boxes
scoring above ``--score-thr``, how many the second file has (same label,
IoU >= 0.9, scoring above the threshold less 0.05: a box at 0.302 in one
precision may score 0.298 in another), and for instance masks the mask IoU
of the matched pairs (two empty masks agree: IoU 1). For segmentors: the
share of pixels whose labels agree. The first file is the reference.
"""
import argparse
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.fileio import load
from mmengine.structures import InstanceData

from mmpoolformer.precision.agreement import (MATCH_IOU, SCORE_TOL,
                                              box_agreement, label_agreement)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('expected', help='the reference --out .pkl (fp32)')
    parser.add_argument('actual', help='the --out .pkl to compare with it')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detectors: the boxes shown (default 0.3, '
                        'as tools/image_demo.py)')
    return parser.parse_args(argv)


def by_image(path: str) -> Dict[str, dict]:
    """A prediction file's predictions by image path."""
    predictions = load(path)
    if not isinstance(predictions, list) or not predictions or not all(
            isinstance(p, dict) and 'img_path' in p for p in predictions):
        raise SystemExit(
            f'{path}: not a --out prediction file of tools/test.py or '
            'tools/deployment/test.py (a list of predictions, each with its '
            "'img_path').")
    return {p['img_path']: p for p in predictions}


def instances(prediction: dict) -> InstanceData:
    pred = prediction['pred_instances']
    return InstanceData(bboxes=torch.as_tensor(pred['bboxes']),
                        scores=torch.as_tensor(pred['scores']),
                        labels=torch.as_tensor(pred['labels']))


def matched_mask_ious(expected: dict, actual: dict, score_thr: float
                      ) -> List[float]:
    """Mask IoU of each shown box of ``expected`` with its best match
    (same label, box IoU >= 0.9) in ``actual``."""
    import pycocotools.mask as mask_utils
    from mmdet.structures.bbox import bbox_overlaps
    exp, act = expected['pred_instances'], actual['pred_instances']
    shown = np.flatnonzero(np.asarray(exp['scores']) > score_thr)
    found = np.flatnonzero(
        np.asarray(act['scores']) > score_thr - SCORE_TOL)
    if len(shown) == 0 or len(found) == 0:
        return []
    iou = bbox_overlaps(torch.as_tensor(exp['bboxes'])[shown].float(),
                        torch.as_tensor(act['bboxes'])[found].float())
    same = (torch.as_tensor(exp['labels'])[shown, None]
            == torch.as_tensor(act['labels'])[None, found])
    best_iou, best = (iou * same).max(1)
    ious = []
    for row, (box_iou, col) in enumerate(zip(best_iou, best)):
        if box_iou >= MATCH_IOU:
            pair = [exp['masks'][shown[row]], act['masks'][found[col]]]
            if not mask_utils.area(pair).any():  # two empty masks agree
                ious.append(1.0)
                continue
            ious.append(float(mask_utils.iou(pair[:1], pair[1:], [0])[0, 0]))
    return ious


def compare_detections(expected: Dict[str, dict], actual: Dict[str, dict],
                       score_thr: float) -> None:
    total_matched = total_shown = 0
    mask_ious: List[float] = []
    for path, exp in expected.items():
        matched, shown = box_agreement(instances(exp), instances(actual[path]),
                                       score_thr)
        total_matched, total_shown = total_matched + matched, \
            total_shown + shown
        line = f'{path}: {matched}/{shown} boxes'
        if 'masks' in exp['pred_instances']:
            ious = matched_mask_ious(exp, actual[path], score_thr)
            mask_ious += ious
            if ious:
                line += f', matched masks IoU >= {min(ious):.3f}'
        print(line)
    share = total_matched / total_shown if total_shown else float('nan')
    print(f'boxes above {score_thr}: {total_matched} of {total_shown} match '
          f'({share:.1%}; same label, IoU >= {MATCH_IOU})')
    if mask_ious:
        print(f'masks of the matched boxes: IoU median '
              f'{np.median(mask_ious):.3f}, lowest {min(mask_ious):.3f}')


def compare_label_maps(expected: Dict[str, dict],
                       actual: Dict[str, dict]) -> None:
    agree = pixels = 0.0
    for path, exp in expected.items():
        a = exp['pred_sem_seg']['data']
        b = actual[path]['pred_sem_seg']['data']
        share = label_agreement(a, b)
        agree, pixels = agree + share * a.numel(), pixels + a.numel()
        print(f'{path}: {share:.2%} of pixels agree')
    print(f'label maps: {agree / pixels:.2%} of {int(pixels)} pixels agree')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    expected, actual = by_image(args.expected), by_image(args.actual)
    missing = sorted(set(expected) - set(actual))
    if missing:
        raise SystemExit(f'{args.actual} has no prediction for '
                         f'{len(missing)} images of {args.expected}, such as '
                         f'{missing[0]}: compare runs of the same test set.')
    first = next(iter(expected.values()))
    if 'pred_instances' in first:
        compare_detections(expected, actual, args.score_thr)
    elif 'pred_sem_seg' in first:
        compare_label_maps(expected, actual)
    else:
        raise SystemExit(f'{args.expected}: neither detections '
                         "('pred_instances') nor label maps "
                         "('pred_sem_seg').")


if __name__ == '__main__':
    main()
