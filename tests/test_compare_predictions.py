"""tools/analysis/compare_predictions.py on prediction files written as
tools/test.py's --out writes them."""
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmengine.fileio import dump

from mmpoolformer.testing import load_tool

compare = load_tool('analysis/compare_predictions.py')


def rle(x1: int, y1: int, x2: int, y2: int) -> dict:
    mask = np.zeros((40, 60), dtype=np.uint8, order='F')
    mask[y1:y2, x1:x2] = 1
    return mask_utils.encode(mask)


def detections(path: str, boxes, scores, labels, masks=None) -> dict:
    pred = dict(bboxes=torch.tensor(boxes, dtype=torch.float32),
                scores=torch.tensor(scores), labels=torch.tensor(labels))
    if masks is not None:
        pred['masks'] = masks
    return dict(img_path=path, pred_instances=pred)


def test_boxes_and_masks(tmp_path, capsys):
    box = [[0, 0, 20, 20], [30, 10, 50, 30], [5, 25, 25, 39]]
    fp32 = [detections('a.jpg', box, [0.9, 0.6, 0.1], [0, 1, 2],
                       [rle(*b) for b in box])]
    # The first box kept (score 0.28: within 0.05 of the threshold), the
    # second labelled otherwise, the third below the threshold in both.
    moved = [[0, 0, 20, 20], [30, 10, 50, 30], [5, 25, 25, 39]]
    bf16 = [detections('a.jpg', moved, [0.28, 0.6, 0.1], [0, 2, 2],
                       [rle(0, 0, 20, 18), rle(*box[1]), rle(*box[2])])]
    # A second image: one box whose masks are empty in both (they agree).
    empty = [detections('b.jpg', [[1, 1, 9, 9]], [0.8], [1],
                        [rle(0, 0, 0, 0)])]
    dump(fp32 + empty, str(tmp_path / 'fp32.pkl'))
    dump(bf16 + empty, str(tmp_path / 'bf16.pkl'))
    compare.main([str(tmp_path / 'fp32.pkl'), str(tmp_path / 'bf16.pkl'),
                  '--score-thr', '0.3'])
    out = capsys.readouterr().out
    assert 'a.jpg: 1/2 boxes' in out and 'b.jpg: 1/1 boxes' in out
    assert 'boxes above 0.3: 2 of 3 match (66.7%' in out
    # 360 of 400 pixels, and the empty pair
    assert 'IoU median 0.950, lowest 0.900' in out


def test_unmatched_boxes_get_their_cause(tmp_path, capsys):
    near, kept = [0, 0, 20, 20], [8, 0, 28, 20]  # IoU 0.43: a near-tie
    low, moved, gone = [40, 0, 60, 20], [0, 25, 20, 39], [40, 25, 55, 39]
    fp32 = [detections('a.jpg', [near, kept, low, moved, gone],
                       [0.9, 0.5, 0.8, 0.7, 0.6], [0, 0, 1, 2, 1])]
    bf16 = [detections('a.jpg', [near, low, [0, 25, 16, 39]],
                       [0.9, 0.1, 0.7], [0, 1, 2])]
    dump(fp32, str(tmp_path / 'fp32.pkl'))
    dump(bf16, str(tmp_path / 'bf16.pkl'))
    compare.main([str(tmp_path / 'fp32.pkl'), str(tmp_path / 'bf16.pkl')])
    out = capsys.readouterr().out
    assert 'boxes above 0.3: 1 of 5 match' in out
    assert ('unmatched: 1 below threshold, 1 NMS near-tie, 1 moved, '
            '1 other') in out
    # Under an NMS at 0.6, two kept boxes overlapping by 0.43 were far from
    # its threshold: no near-tie.
    compare.main([str(tmp_path / 'fp32.pkl'), str(tmp_path / 'bf16.pkl'),
                  '--nms-iou', '0.6'])
    assert 'unmatched: 1 below threshold, 1 moved, 2 other' in \
        capsys.readouterr().out


def test_label_maps(tmp_path, capsys):
    a = torch.zeros(1, 10, 10, dtype=torch.long)
    b = a.clone()
    b[0, :3, :3] = 1  # 9 of 100 pixels differ
    for name, data in (('a.pkl', a), ('b.pkl', b)):
        dump([dict(img_path='x.png', pred_sem_seg=dict(data=data))],
             str(tmp_path / name))
    compare.main([str(tmp_path / 'a.pkl'), str(tmp_path / 'b.pkl')])
    assert 'label maps: 91.00% of 100 pixels agree' in capsys.readouterr().out


def test_files_of_other_test_sets_are_refused(tmp_path):
    dump([detections('a.jpg', [[0, 0, 5, 5]], [0.9], [0])],
         str(tmp_path / 'a.pkl'))
    dump([detections('b.jpg', [[0, 0, 5, 5]], [0.9], [0])],
         str(tmp_path / 'b.pkl'))
    dump({'not': 'predictions'}, str(tmp_path / 'c.pkl'))
    with pytest.raises(SystemExit, match='no prediction for 1 images'):
        compare.main([str(tmp_path / 'a.pkl'), str(tmp_path / 'b.pkl')])
    with pytest.raises(SystemExit, match='not a --out prediction file'):
        compare.main([str(tmp_path / 'c.pkl'), str(tmp_path / 'a.pkl')])
