"""What users see of a lower-precision run, against fp32: the boxes above
the score threshold (matched at IoU >= 0.9 with the same label) and the
label maps (the share of pixels that agree). Shared by the tests and
``tools/analysis/compare_predictions.py``."""
from typing import Tuple

import torch

MATCH_IOU = 0.9
SCORE_TOL = 0.05


def match_boxes(expected, actual, score_thr: float,
                min_iou: float = MATCH_IOU,
                score_tol: float = SCORE_TOL) -> Tuple[torch.Tensor,
                                                       torch.Tensor]:
    """``(shown, match)``: the indices of ``expected``'s boxes (mmdet
    ``InstanceData``) scoring above ``score_thr``, and for each the index
    of its match in ``actual`` (-1 for none): the box with the same label
    and the highest IoU, if that is at least ``min_iou``, among those
    scoring above ``score_thr - score_tol`` (a box scoring 0.502 in fp32
    may score 0.498 in bf16: near the threshold, shown or not is a coin's
    toss)."""
    from mmdet.structures.bbox import bbox_overlaps
    shown = torch.nonzero(expected.scores > score_thr).flatten()
    found = torch.nonzero(actual.scores > score_thr - score_tol).flatten()
    match = torch.full_like(shown, -1)
    if len(shown) and len(found):
        iou = bbox_overlaps(expected.bboxes[shown].float(),
                            actual.bboxes[found].float())
        iou *= expected.labels[shown, None] == actual.labels[None, found]
        best_iou, best = iou.max(1)
        match = torch.where(best_iou >= min_iou, found[best], match)
    return shown, match


def box_agreement(expected, actual, score_thr: float, **match_args
                  ) -> Tuple[int, int]:
    """``(matched, shown)``: how many of ``expected``'s boxes above
    ``score_thr`` have a match in ``actual`` (see :func:`match_boxes`)."""
    shown, match = match_boxes(expected, actual, score_thr, **match_args)
    return int((match >= 0).sum()), len(shown)


def label_agreement(expected: torch.Tensor, actual: torch.Tensor) -> float:
    """The share of pixels on which two label maps agree."""
    return float((expected == actual).float().mean())
