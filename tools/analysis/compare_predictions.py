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
of the matched pairs (two empty masks agree: IoU 1). Each unmatched box
gets its likely cause (``mmpoolformer.precision.agreement.unmatched_causes``):
scored below the threshold in the second file, an NMS near-tie (another
box of its class kept beside it overlaps it by at least ``--nms-iou`` less
0.1, so a small change decides which stays), moved (IoU 0.5 to 0.9), or
other. For segmentors: the share of pixels whose labels agree. The first
file is the reference.
"""
import argparse
from collections import Counter
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.fileio import load
from mmengine.structures import InstanceData

from mmpoolformer.precision.agreement import (CAUSES, MATCH_IOU,
                                              label_agreement, match_boxes,
                                              unmatched_causes)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this tool (also read by the docs' tools
    reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('expected', help='the reference --out .pkl (fp32)')
    parser.add_argument('actual', help='the --out .pkl to compare with it')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detectors: the boxes shown (default 0.3, '
                        'as tools/image_demo.py)')
    parser.add_argument('--nms-iou', type=float, default=0.5,
                        help="detectors: the IoU threshold of the model's "
                        "last NMS (default 0.5, mmdet's RetinaNet and "
                        "Mask R-CNN test_cfg), for telling NMS near-ties")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


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


def mask_ious(expected: dict, actual: dict, shown: torch.Tensor,
              match: torch.Tensor) -> List[float]:
    """The mask IoU of each matched pair (two empty masks agree: 1)."""
    import pycocotools.mask as mask_utils
    ious = []
    for row, col in zip(shown.tolist(), match.tolist()):
        if col < 0:
            continue
        pair = [expected['pred_instances']['masks'][row],
                actual['pred_instances']['masks'][col]]
        if not mask_utils.area(pair).any():
            ious.append(1.0)
        else:
            ious.append(float(mask_utils.iou(pair[:1], pair[1:], [0])[0, 0]))
    return ious


def compare_detections(expected: Dict[str, dict], actual: Dict[str, dict],
                       score_thr: float, nms_iou: float) -> None:
    total_matched = total_shown = 0
    all_ious: List[float] = []
    causes: Counter = Counter()
    for path, exp in expected.items():
        exp_boxes, act_boxes = instances(exp), instances(actual[path])
        shown, match = match_boxes(exp_boxes, act_boxes, score_thr)
        causes.update(unmatched_causes(exp_boxes, act_boxes, shown, match,
                                       nms_iou))
        matched = int((match >= 0).sum())
        total_matched, total_shown = total_matched + matched, \
            total_shown + len(shown)
        line = f'{path}: {matched}/{len(shown)} boxes'
        if 'masks' in exp['pred_instances']:
            ious = mask_ious(exp, actual[path], shown, match)
            all_ious += ious
            if ious:
                line += f', matched masks IoU >= {min(ious):.3f}'
        print(line)
    share = total_matched / total_shown if total_shown else float('nan')
    print(f'boxes above {score_thr}: {total_matched} of {total_shown} match '
          f'({share:.1%}; same label, IoU >= {MATCH_IOU})')
    if causes:
        print('unmatched: ' + ', '.join(
            f'{causes[c]} {c}' for c in CAUSES if causes[c]))
    if all_ious:
        print(f'masks of the matched boxes: IoU median '
              f'{np.median(all_ious):.3f}, lowest {min(all_ious):.3f}')


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
        compare_detections(expected, actual, args.score_thr,
                           args.nms_iou)
    elif 'pred_sem_seg' in first:
        compare_label_maps(expected, actual)
    else:
        raise SystemExit(f'{args.expected}: neither detections '
                         "('pred_instances') nor label maps "
                         "('pred_sem_seg').")


if __name__ == '__main__':
    main()
