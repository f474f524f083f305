"""tools/train.py, test.py and analysis/get_flops.py on detection and
segmentation configs alike, with the options OpenMMLab's tools have."""
import glob
import os
import os.path as osp
import pickle
import re

import pytest
import torch
from mmdet.registry import MODELS

from mmpoolformer.testing import load_tool
from tests.tiny_data import write_tiny_ade, write_tiny_coco
from tests.tool_support import (DETECTION, REPO, SEGMENTATION, run_tool,
                                train_logs, write_config)

TASKS = {
    'detection': (DETECTION, write_tiny_coco, 'coco/bbox_mAP',
                  '*.jpg'),
    'segmentation': (SEGMENTATION, write_tiny_ade, 'mIoU',
                     'vis_data/vis_image/*.png'),
}


@pytest.mark.parametrize('task', sorted(TASKS))
def test_train_then_test_with_out_and_show_dir(task, tmp_path):
    template, write_data, metric, drawn = TASKS[task]
    root = write_data(str(tmp_path / 'data')) + '/'
    config = write_config(str(tmp_path / 'tiny.py'), template, root,
                          iters=2, interval=2)
    work_dir = str(tmp_path / 'work')
    run_tool('train.py', config, '--work-dir', work_dir)
    [logs] = train_logs(work_dir)
    assert [log['step'] for log in logs] == [1, 2]

    out, show_dir = str(tmp_path / 'out.pkl'), str(tmp_path / 'show')
    result = run_tool('test.py', config, osp.join(work_dir, 'iter_2.pth'),
                      '--work-dir', work_dir, '--out', out,
                      '--show-dir', show_dir)
    assert metric in result.stdout + result.stderr
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4  # one per test image
    assert len(glob.glob(osp.join(show_dir, drawn))) == 4


def test_get_flops_of_a_config_needs_no_dataset(capsys):
    """Semantic FPN PoolFormer-S12 at 512 x 512: Table 4 of the paper gives
    15.7M parameters and 31.0 GFLOPs (multiply-adds, as mmengine counts)."""
    get_flops = load_tool('analysis/get_flops.py')
    config = osp.join(REPO, 'configs', 'segmentation', 'fpn_poolformer_s12.py')
    get_flops.main([config, '--shape', '512'])
    out = capsys.readouterr().out
    assert 'Input shape: (3, 512, 512)' in out
    flops = float(re.search(r'Flops: ([\d.]+)G', out).group(1))
    params = float(re.search(r'Params: ([\d.]+)M', out).group(1))
    assert (round(flops, 1), round(params, 1)) == (31.0, 15.7)


def test_get_flops_builds_two_stage_detectors_without_data():
    get_flops = load_tool('analysis/get_flops.py')
    config = osp.join(REPO, 'configs', 'detection',
                      'mask_rcnn_poolformer_s12.py')
    few_proposals = {'model.test_cfg.rpn.nms_pre': 20,
                     'model.test_cfg.rpn.max_per_img': 10}
    info = get_flops.complexity(config, (64, 96), few_proposals)
    model = MODELS.build(get_flops.load_config(config).model)
    assert info['params'] == sum(p.numel() for p in model.parameters())
    assert info['flops'] > 0


def test_get_flops_is_the_same_on_every_run():
    """Mask R-CNN on two different random images: the count stops at the
    RPN head (the RoI heads' cost follows the proposal count)."""
    get_flops = load_tool('analysis/get_flops.py')
    config = osp.join(REPO, 'configs', 'detection',
                      'mask_rcnn_poolformer_s12.py')
    flops = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        flops.append(get_flops.complexity(config, (64, 64))['flops'])
    assert flops[0] == flops[1] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU-only box')
def test_amp_without_gpu_is_refused_before_anything_runs(capsys):
    train = load_tool('train.py')
    with pytest.raises(SystemExit):
        train.parse_args(['any_config.py', '--amp'])
    assert '--amp needs a GPU' in capsys.readouterr().err


class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('how', ['test', 'resume'])
def test_checkpoint_with_a_pickle_payload_is_refused(how, tmp_path):
    root = write_tiny_coco(str(tmp_path / 'coco')) + '/'
    config = write_config(str(tmp_path / 'tiny.py'), DETECTION, root)
    marker, evil = tmp_path / 'payload_ran', str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': Payload(str(marker))}, evil)
    args = (['test.py', config, evil] if how == 'test' else
            ['train.py', config, '--resume', evil])
    result = run_tool(*args, '--work-dir', str(tmp_path / 'work'),
                      check=False)
    assert result.returncode != 0
    assert f"Refused to load '{evil}'" in result.stderr
    assert 'posix.system' in result.stderr  # names what it refused
    assert not marker.exists()
