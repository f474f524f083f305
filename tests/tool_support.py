"""For tool tests: runs of tools/ in a subprocess, and configs that are
ours with a tiny PoolFormer (one block per stage, 8-64 channels), tiny
necks and heads, 64 px training inputs (testing uses the configs' own
pipelines) and iteration-based schedules without validation, on
:mod:`tests.tiny_data`."""
import glob
import importlib
import json
import os
import os.path as osp
import subprocess
import sys
from typing import List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DETECTION_BASE = osp.join(REPO, 'configs', 'detection',
                          'retinanet_poolformer_s12.py')
SEGMENTATION_BASE = osp.join(REPO, 'configs', 'segmentation',
                             'fpn_poolformer_s12.py')

_TINY_WIDTHS = [8, 16, 32, 64]
_TINY_BACKBONE = dict(
    arch=dict(_delete_=True, layers=[1, 1, 1, 1], embed_dims=_TINY_WIDTHS),
    init_cfg=None)
# ``model`` overrides that make our configs' models tiny.
TINY_DETECTOR = dict(
    backbone=_TINY_BACKBONE,
    neck=dict(in_channels=_TINY_WIDTHS, out_channels=16),
    bbox_head=dict(in_channels=16, feat_channels=16, stacked_convs=1,
                   num_classes=3),  # tests.tiny_data's COCO categories
    test_cfg=dict(score_thr=0.0))  # untrained: keep boxes for the metric
TINY_SEGMENTOR = dict(
    backbone=_TINY_BACKBONE,
    neck=dict(in_channels=_TINY_WIDTHS, out_channels=16),
    decode_head=dict(in_channels=[16, 16, 16, 16], channels=16))


def _literal(value: dict) -> str:
    """``value`` as config source, inside a ``str.format`` template."""
    return repr(value).replace('{', '{{').replace('}', '}}')


_SCHEDULE = """
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters})
val_cfg = None
val_dataloader = None
val_evaluator = None
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False,
                        begin=0, end={iters})]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval={interval}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=True)
"""

DETECTION = (f"_base_ = [{DETECTION_BASE!r}]\n"
             f"model = {_literal(TINY_DETECTOR)}\n"
             + """data_root = {root!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 48), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
dataset = dict(data_root=data_root, data_prefix=dict(img='images/'),
               metainfo=dict(classes=('person', 'car', 'dog')))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(ann_file='annotations/instances_train.json',
                                     pipeline=train_pipeline, **dataset))
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                       dataset=dict(ann_file='annotations/instances_val.json',
                                    **dataset))
test_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
""" + _SCHEDULE)

# The ADE20K training pipeline of fpn_poolformer_s12.py, scaled to 64 px crops
# of tests.tiny_data's 96 x 128 images (the config then sets
# model.data_preprocessor.size = crop_size).
TINY_ADE_TRAIN_PIPELINE = """
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(128, 96), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
"""

SEGMENTATION = (f"_base_ = [{SEGMENTATION_BASE!r}]\n"
                f"model = {_literal(TINY_SEGMENTOR)}\n"
                + TINY_ADE_TRAIN_PIPELINE + """
model.update(data_preprocessor=dict(size=crop_size))
data_root = {root!r}
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root,
                                     pipeline=train_pipeline))
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root))
""" + _SCHEDULE)


def write_config(path: str, template: str, root: str, iters: int = 4,
                 interval: int = 2, extra: str = '') -> str:
    """Write ``template`` for data in ``root`` to ``path``; ``extra`` is
    appended (config lines overriding the above)."""
    with open(path, 'w') as f:
        f.write(template.format(root=root, iters=iters, interval=interval)
                + extra)
    return path


def run_tool(*args: str, check: bool = True,
             timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``tools/<args>`` (a .py with this interpreter, a .sh with bash)
    from the repository root, with ``tests`` importable for test hooks."""
    tool = osp.join(REPO, 'tools', args[0])
    command = (['bash', tool] if tool.endswith('.sh')
               else [sys.executable, tool]) + list(args[1:])
    env = dict(os.environ, PYTHONPATH=REPO, PYTHON=sys.executable,
               OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} exited with {result.returncode}:\n'
            f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


def packaged_tool(library: str, name: str) -> str:
    """``<library>/.mim/tools/<name>``, what ``mim train/test`` run."""
    package = osp.dirname(importlib.import_module(library).__file__)
    return osp.join(package, '.mim', 'tools', name)


def train_logs(work_dir: str) -> List[List[dict]]:
    """The logged training scalars (loss, lr, step, ...) of each run in
    ``work_dir``, oldest run first."""
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            logs = [json.loads(line) for line in f]
        runs.append([log for log in logs if 'loss' in log])
    return runs


class WritesMarker:
    """Unpickled, it creates ``path``: a stand-in for any code a file
    could run when loaded without ``weights_only``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return exec, (f'open({self.path!r}, "w").close()', )
