"""What users see of a lower-precision run, against fp32: the boxes above
the score threshold (matched at IoU >= 0.9 with the same label) and the
label maps (the share of pixels that agree). Shared by the tests and
``tools/analysis/compare_predictions.py``."""
from typing import List, Tuple

import torch

MATCH_IOU = 0.9
SCORE_TOL = 0.05
NMS_MARGIN = 0.1
# Why a shown box has no match, in the order they are tried.
CAUSES = ('below threshold', 'NMS near-tie', 'moved', 'other')


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
    shown = torch.nonzero(expected.scores > score_thr).flatten()
    found = torch.nonzero(actual.scores > score_thr - score_tol).flatten()
    match = torch.full_like(shown, -1)
    if len(shown) and len(found):
        iou = same_class_ious(expected[shown], actual[found])
        best_iou, best = iou.max(1)
        match = torch.where(best_iou >= min_iou, found[best], match)
    return shown, match


def same_class_ious(boxes, others) -> torch.Tensor:
    """The IoU of every box of ``boxes`` with every box of ``others``
    (mmdet ``InstanceData``), 0 where their labels differ."""
    from mmdet.structures.bbox import bbox_overlaps
    if not len(boxes) or not len(others):
        return torch.zeros(len(boxes), len(others))
    iou = bbox_overlaps(boxes.bboxes.float(), others.bboxes.float())
    return iou * (boxes.labels[:, None] == others.labels[None, :])


def unmatched_causes(expected, actual, shown: torch.Tensor,
                     match: torch.Tensor, nms_iou: float = 0.5,
                     margin: float = NMS_MARGIN,
                     min_iou: float = MATCH_IOU) -> List[str]:
    """Why each of ``shown``'s unmatched boxes (``match`` -1, from
    :func:`match_boxes`) has no match, one of :data:`CAUSES`:

    * ``'below threshold'``: ``actual`` has it (same label, IoU >=
      ``min_iou``), scoring under the threshold (less the tolerance);
    * ``'NMS near-tie'``: another box of its class that ``expected`` kept
      overlaps it by at least ``nms_iou - margin``: both survived NMS
      (threshold ``nms_iou``) by a hair, and a small change in either
      box decides which one stays;
    * ``'moved'``: ``actual`` has a box of its label at IoU 0.5 to
      ``min_iou``;
    * ``'other'``: none of these, a difference not explained by a
      decision on a knife's edge.
    """
    to_actual = same_class_ious(expected, actual)
    to_kept = same_class_ious(expected, expected).fill_diagonal_(0)
    causes = []
    for row in shown[match < 0].tolist():
        best = float(to_actual[row].max()) if to_actual.shape[1] else 0.
        if best >= min_iou:
            causes.append('below threshold')
        elif float(to_kept[row].max()) >= nms_iou - margin:
            causes.append('NMS near-tie')
        elif best >= 0.5:
            causes.append('moved')
        else:
            causes.append('other')
    return causes


def box_agreement(expected, actual, score_thr: float, **match_args
                  ) -> Tuple[int, int]:
    """``(matched, shown)``: how many of ``expected``'s boxes above
    ``score_thr`` have a match in ``actual`` (see :func:`match_boxes`)."""
    shown, match = match_boxes(expected, actual, score_thr, **match_args)
    return int((match >= 0).sum()), len(shown)


def label_agreement(expected: torch.Tensor, actual: torch.Tensor) -> float:
    """The share of pixels on which two label maps agree."""
    return float((expected == actual).float().mean())
