"""What users see of a lower-precision run, against fp32: the boxes above
the score threshold (matched at IoU >= 0.9 with the same label) and the
label maps (the share of pixels that agree). Shared by the tests and
``tools/analysis/benchmark_model.py``."""
from typing import Tuple

import torch
from torch import nn

MATCH_IOU = 0.9
SCORE_TOL = 0.05


def box_agreement(expected, actual, score_thr: float,
                  min_iou: float = MATCH_IOU,
                  score_tol: float = SCORE_TOL) -> Tuple[int, int]:
    """``(matched, shown)``: of the ``shown`` boxes of ``expected`` (mmdet
    ``InstanceData``) scoring above ``score_thr``, how many have a box of
    ``actual`` with the same label, IoU >= ``min_iou`` and a score above
    ``score_thr - score_tol`` (a box scoring 0.502 in fp32 may score 0.498
    in bf16: near the threshold, shown or not is a coin's toss)."""
    from mmdet.structures.bbox import bbox_overlaps
    shown = expected[expected.scores > score_thr]
    found = actual[actual.scores > score_thr - score_tol]
    if len(shown) == 0 or len(found) == 0:
        return 0, len(shown)
    iou = bbox_overlaps(shown.bboxes.float(), found.bboxes.float())
    same = shown.labels[:, None] == found.labels[None]
    best = (iou * same).max(1).values
    return int((best >= min_iou).sum()), len(shown)


def label_agreement(expected: torch.Tensor, actual: torch.Tensor) -> float:
    """The share of pixels on which two label maps agree."""
    return float((expected == actual).float().mean())


def calibrate_detection_scores(model: nn.Module, inputs: torch.Tensor,
                               boxes: int = 10) -> None:
    """Shift a random-weight RetinaNet-like head's classifier bias so that
    on ``inputs`` (a preprocessed batch) about ``boxes`` anchors score
    above 0.5, the rest below, as a trained detector's few confident
    boxes: random weights give saturated scores (logits of 10 and more
    on a photo), whose ties and rounding say nothing about precision.
    Box deltas are scaled to a trained head's (well below 1)."""
    head = model.bbox_head
    with torch.no_grad():
        cls_scores, bbox_preds = head(model.extract_feat(inputs))
        logits = torch.cat([c.flatten() for c in cls_scores])
        head.retina_cls.bias -= logits.topk(boxes).values[-1] - 0.01
        spread = max(float(b.std()) for b in bbox_preds)
        head.retina_reg.weight /= spread / .2
        head.retina_reg.bias /= spread / .2
