"""A tiny detector and segmentor trained once per test session (the
``tiny_detector_run`` and ``tiny_segmentor_run`` fixtures of conftest.py),
for the tests of what reads checkpoints and training logs: the image demo,
tools/test.py's flags, the libraries' log analysis.

The segmentor trains with ``--auto-scale-lr``, validates at its last
iteration (mIoU in the logs) and logs to TensorBoard as well."""
import glob
import os.path as osp
from typing import NamedTuple

from tests.tiny_data import write_tiny_ade, write_tiny_coco
from tests.tool_support import DETECTION, SEGMENTATION, run_tool, write_config

ITERS = 2
# Validation on two images, and TensorBoard beside the local json backend.
SEGMENTOR_EXTRA = """
train_cfg.update(val_interval={iters})
val_cfg = dict(type='ValLoop')
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, indices=2))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                dict(type='TensorboardVisBackend')])
""".format(iters=ITERS)


class TinyRun(NamedTuple):
    config: str
    data_root: str
    work_dir: str
    checkpoint: str
    scalars: str  # vis_data/scalars.json
    log: str  # what tools/train.py printed


def train(root: str, task: str) -> TinyRun:
    """Write tiny data and a config below ``root`` and train on them."""
    if task == 'detection':
        data = write_tiny_coco(osp.join(root, 'data')) + '/'
        config = write_config(osp.join(root, 'tiny.py'), DETECTION, data,
                              iters=ITERS, interval=ITERS)
        flags = []
    else:
        data = write_tiny_ade(osp.join(root, 'data')) + '/'
        config = write_config(osp.join(root, 'tiny.py'), SEGMENTATION, data,
                              iters=ITERS, interval=ITERS,
                              extra=SEGMENTOR_EXTRA)
        flags = ['--auto-scale-lr']
    work_dir = osp.join(root, 'work')
    result = run_tool('train.py', config, '--work-dir', work_dir, *flags)
    [scalars] = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json'))
    return TinyRun(config, data, work_dir,
                   osp.join(work_dir, f'iter_{ITERS}.pth'), scalars,
                   result.stdout + result.stderr)
