"""The libraries' own entry points on checkpoints our configs' training
wrote, under torch's ``weights_only=True`` default, with the configs'
``custom_imports`` (``mmpoolformer`` and ``mmpoolformer.safe_loading``) as
the only preparation, on either stack: mmdet's and mmseg's packaged
``tools/train.py --resume`` and ``tools/test.py``,
``init_detector``/``inference_detector``, ``DetInferencer``,
``init_model``/``inference_model`` and ``MMSegInferencer``. A checkpoint
carrying a pickle payload is refused by each and its code never runs;
nothing else about ``torch.load`` changes."""
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
from typing import Iterator, NamedTuple

import pytest
import torch
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_local

import mmpoolformer  # noqa: F401 as users of the Python APIs do
from mmpoolformer.checkpoints import CheckpointError
from tests.tiny_data import write_tiny_ade, write_tiny_coco
from tests.tool_support import (DETECTION, REPO, SEGMENTATION, WritesMarker,
                                mmseg_bases_workaround, packaged_tool,
                                run_tool, train_logs, write_config)

LIBRARIES = {'mmdet': (DETECTION, write_tiny_coco, 'coco/bbox_mAP'),
             'mmseg': (SEGMENTATION, write_tiny_ade, 'mIoU')}


class Trained(NamedTuple):
    library: str
    config: str
    checkpoint: str
    image: str
    tmp: str


def run_in_process(path: str, *args: str) -> None:
    """Run the script ``path`` with ``args`` in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, 'argv', [path, *args])
        runpy.run_path(path, run_name='__main__')


@pytest.fixture(scope='module', params=sorted(LIBRARIES))
def trained(request, tmp_path_factory) -> Iterator[Trained]:
    """The library's packaged train.py for 2 of 4 iterations (here, as
    writing needs no allow-list), the same with ``--resume`` to the end and
    its test.py on the last checkpoint in fresh interpreters, which only
    the config's ``custom_imports`` prepare. On OneDL, mmseg's tools get
    the documented workaround for ``mmseg::`` bases on their path."""
    library = request.param
    template, write_data, metric = LIBRARIES[library]
    tmp = str(tmp_path_factory.mktemp(library))
    path = mmseg_bases_workaround(tmp) if library == 'mmseg' else []
    root = write_data(osp.join(tmp, 'data')) + '/'
    config = write_config(osp.join(tmp, 'tiny.py'), template, root, iters=4)
    work_dir = osp.join(tmp, 'work')
    train = packaged_tool(library, 'train.py')
    with pytest.MonkeyPatch.context() as patch:
        for folder in path:
            patch.syspath_prepend(folder)
        # A visualizer of its own: mmengine hands a Runner the instance of
        # an earlier one in this process of the same name and class, which
        # writes into that run's folder.
        run_in_process(train, config, '--work-dir', work_dir,
                       '--cfg-options', 'train_cfg.max_iters=2',
                       f'visualizer.name=entry_points_{library}')
        run_tool(train, config, '--work-dir', work_dir, '--resume',
                 path=path)
        assert [[log['step'] for log in run]
                for run in train_logs(work_dir)] == [[1, 2], [3, 4]]
        checkpoint = osp.join(work_dir, 'iter_4.pth')
        result = run_tool(packaged_tool(library, 'test.py'), config,
                          checkpoint, '--work-dir', work_dir, path=path)
        assert metric in result.stdout + result.stderr
        image = (osp.join(root, 'images', '0000.jpg') if library == 'mmdet'
                 else osp.join(root, 'images', 'validation',
                               'ADE_validation_00000000.jpg'))
        yield Trained(library, config, checkpoint, image, tmp)


def payload_checkpoint(trained: Trained, name: str) -> tuple:
    """A copy of the trained checkpoint with a payload beside its state
    dict; returns the file and the marker the payload would create."""
    marker = osp.join(trained.tmp, f'{name}.ran')
    checkpoint = torch.load(trained.checkpoint, weights_only=True)
    checkpoint['meta']['note'] = WritesMarker(marker)
    path = osp.join(trained.tmp, f'{name}.pth')
    torch.save(checkpoint, path)
    return path, marker


@pytest.fixture
def mmengine_loader(monkeypatch):
    """This process as a fresh one finds it: local files load through
    mmengine's own ``load_from_local`` (a test in this process may have
    installed our loader in its place), and a config's ``custom_imports``
    runs ``mmpoolformer.safe_loading`` anew."""
    monkeypatch.setitem(CheckpointLoader._schemes, '', load_from_local)
    monkeypatch.delitem(sys.modules, 'mmpoolformer.safe_loading',
                        raising=False)


def test_packaged_tools_resume_and_test(trained):
    meta = torch.load(trained.checkpoint, weights_only=True)['meta']
    assert meta['iter'] == 4


def test_payload_really_runs_without_weights_only(trained):
    """The payload is real: plain unpickling runs it."""
    path, marker = payload_checkpoint(trained, 'unsafe')
    torch.load(path, weights_only=False)
    assert osp.exists(marker)


def test_packaged_tools_refuse_a_payload(trained, mmengine_loader):
    checkpoint, marker = payload_checkpoint(trained, 'tools')
    work_dir = osp.join(trained.tmp, 'resume_payload')
    with pytest.raises(CheckpointError, match='global exec'):
        run_in_process(packaged_tool(trained.library, 'test.py'),
                       trained.config, checkpoint, '--work-dir', work_dir)
    # Bare --resume (mmseg has no other form) reads work_dir's pointer.
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(checkpoint)
    with pytest.raises(CheckpointError, match='global exec'):
        run_in_process(packaged_tool(trained.library, 'train.py'),
                       trained.config, '--work-dir', work_dir, '--resume')
    assert not osp.exists(marker)


def _apis(library: str):
    """``(load, infer)``: the library's init_* + inference_* pair and its
    Inferencer, each as ``load(config, checkpoint) -> model`` and
    ``infer(model, image) -> prediction``."""
    if library == 'mmdet':
        from mmdet.apis import DetInferencer as Inferencer
        from mmdet.apis import inference_detector as infer
        from mmdet.apis import init_detector as init

        def first(predictions):  # one dict of boxes, scores, labels an image
            return predictions[0]
    else:
        from mmseg.apis import MMSegInferencer as Inferencer
        from mmseg.apis import inference_model as infer
        from mmseg.apis import init_model as init

        def first(predictions):  # the label map itself for one image
            return predictions
    return {
        'init': (lambda cfg, ckpt: init(cfg, ckpt, device='cpu'), infer),
        'Inferencer': (
            lambda cfg, ckpt: Inferencer(model=cfg, weights=ckpt,
                                         device='cpu'),
            lambda inferencer, image: first(inferencer(image)['predictions'])),
    }


@pytest.mark.parametrize('api', ['init', 'Inferencer'])
def test_python_apis_load_our_checkpoints(trained, mmengine_loader, api):
    load, infer = _apis(trained.library)[api]
    prediction = infer(load(trained.config, trained.checkpoint),
                       trained.image)
    if trained.library == 'mmdet':
        boxes = (prediction.pred_instances.bboxes if api == 'init'
                 else prediction['bboxes'])
        assert len(boxes) > 0  # score_thr=0: an untrained model's boxes
    else:
        label = (prediction.pred_sem_seg.data[0] if api == 'init'
                 else prediction)
        assert tuple(label.shape) == (96, 128)


@pytest.mark.parametrize('api', ['init', 'Inferencer'])
def test_python_apis_refuse_a_payload(trained, mmengine_loader, api):
    load, _ = _apis(trained.library)[api]
    checkpoint, marker = payload_checkpoint(trained, api)
    with pytest.raises(CheckpointError, match='global exec'):
        load(trained.config, checkpoint)
    assert not osp.exists(marker)


PROBE = """
import json, pickle, sys
from collections import OrderedDict
import torch

class Custom:
    pass

class Ordered(OrderedDict):
    pass

class ViaGetattr:
    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return getattr, (HistoryBuffer, self.name)

def refused(obj, path):
    torch.save({'x': obj}, path)
    try:
        torch.load(path)
    except pickle.UnpicklingError as err:
        return str(err)
    return None

from mmengine.logging.history_buffer import HistoryBuffer
before = torch.serialization.get_safe_globals()
import mmpoolformer
from mmpoolformer.checkpoints.safe_load import checkpoint_types
after = torch.serialization.get_safe_globals()
tmp = sys.argv[1]
print(json.dumps(dict(
    kept=all(g in after for g in before),
    # torch registers its own types as its modules are imported
    added=[repr(g) for g in after if g not in before
           and not getattr(g, '__module__', '').startswith('torch.')],
    expected=[repr(g) for g in checkpoint_types()],
    load_is_torch=torch.load is torch.serialization.load,
    custom=refused(Custom(), tmp + '/custom.pth'),
    ordered=refused(Ordered(a=torch.ones(1)), tmp + '/ordered.pth'),
    mean=refused(ViaGetattr('mean'), tmp + '/mean.pth'),
    init=refused(ViaGetattr('__init__'), tmp + '/init.pth'))))
"""


def test_import_installs_exactly_the_allow_list(tmp_path):
    """In a fresh interpreter: the import adds exactly
    ``checkpoint_types()`` and nothing else, ``torch.load`` stays torch's,
    and other classes (an OrderedDict subclass too) and other uses of
    ``getattr`` are refused as before."""
    out = subprocess.run(
        [sys.executable, '-c', PROBE, str(tmp_path)], cwd=REPO,
        capture_output=True, text=True, check=True,
        env=dict(os.environ, PYTHONPATH=REPO)).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe['kept']  # torch's own entries
    assert sorted(probe['added']) == sorted(probe['expected'])
    assert probe['load_is_torch']
    assert 'Custom' in probe['custom']
    assert 'Ordered' in probe['ordered']
    # getattr only for HistoryBuffer's pickled statistics methods.
    assert probe['mean'] is None
    assert '__init__' in probe['init']
