"""The flags users type from habit, with each library's own meaning:
tools/test.py --show/--wait-time/--tta/--out, tools/train.py
--auto-scale-lr; and checkpoints of mmseg's own PoolFormer configs."""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmpoolformer.checkpoints.weight_files import load_file
from mmpoolformer.checkpoints.weight_layouts import from_ours
from mmpoolformer.libraries import load_config
from mmpoolformer.testing import load_tool
from tests.tool_support import REPO, run_tool

test_tool = load_tool('test.py')
train_tool = load_tool('train.py')
CONFIGS = osp.join(REPO, 'configs')


def metrics(work_dir: str) -> Dict[str, float]:
    """The metrics tools/test.py wrote into ``work_dir``."""
    [path] = glob.glob(osp.join(work_dir, '*', '*.json'))
    with open(path) as f:
        return {k: v for k, v in json.load(f).items()
                if k not in ('data_time', 'time')}


def without(cfg: Config, *keys: str) -> Config:
    """``cfg`` less its top-level ``keys``."""
    return Config({k: v for k, v in cfg.to_dict().items() if k not in keys},
                  filename=cfg.filename)


@pytest.mark.parametrize('task', ['detector', 'segmentor'])
def test_show_and_wait_time_reach_the_visualization_hook(
        task, request, monkeypatch):
    run = request.getfixturevalue(f'tiny_{task}_run')
    monkeypatch.setenv('DISPLAY', ':0')
    args = test_tool.parse_args([run.config, run.checkpoint, '--show',
                                 '--wait-time', '0.5'])
    hook = test_tool.build_test_config(args).default_hooks.visualization
    assert (hook.draw, hook.show, hook.wait_time) == (True, True, 0.5)

    monkeypatch.delenv('DISPLAY')
    monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
    with pytest.raises(SystemExit, match='--show opens a window, but '
                       'there is no display'):
        test_tool.parse_args([run.config, run.checkpoint, '--show'])


def test_segmentation_tta_is_the_originals_multiscale_flip(
        tiny_segmentor_run, tmp_path):
    run = tiny_segmentor_run
    cfg = test_tool.build_test_config(test_tool.parse_args(
        [run.config, run.checkpoint, '--tta']))
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module.type == 'EncoderDecoder'
    resizes, multiple, flips, _, _ = \
        cfg.test_dataloader.dataset.pipeline[1].transforms
    assert [r.scale for r in resizes] == [
        (1024, 256), (1536, 384), (2048, 512), (2560, 640), (3072, 768),
        (3584, 896)]
    assert multiple == [dict(type='ResizeToMultiple', size_divisor=32)]
    assert [f.prob for f in flips] == [0., 1.]

    # One image, 6 scales x 2 flips, through the real pipeline and metric.
    result = run_tool('test.py', run.config, run.checkpoint, '--tta',
                      '--work-dir', str(tmp_path), '--cfg-options',
                      'test_dataloader.dataset.indices=1')
    assert "type='SegTTAModel'" in result.stdout + result.stderr
    assert set(metrics(str(tmp_path))) == {'aAcc', 'mIoU', 'mAcc'}


def test_detection_tta_is_the_bases(tiny_detector_run, tmp_path):
    """RetinaNet inherits mmdet's retinanet_tta.py (3 scales x flip)."""
    run = tiny_detector_run
    result = run_tool('test.py', run.config, run.checkpoint, '--tta',
                      '--work-dir', str(tmp_path), '--cfg-options',
                      'test_dataloader.dataset.indices=1')
    assert "type='DetTTAModel'" in result.stdout + result.stderr
    assert 'coco/bbox_mAP' in metrics(str(tmp_path))


def test_detection_tta_without_tta_config_flips_as_mmdet_does():
    cfg = without(load_config(osp.join(
        CONFIGS, 'detection', 'retinanet_poolformer_s12.py')),
        'tta_model', 'tta_pipeline')
    test_pipeline = list(cfg.test_dataloader.dataset.pipeline)
    with pytest.warns(UserWarning, match='mmdet flip TTA'):
        test_tool.use_tta(cfg)
    assert cfg.model.type == 'DetTTAModel'
    assert cfg.model.module.backbone.type == 'PoolFormer'
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[:-1] == test_pipeline[:-1]
    flips, [pack] = pipeline[-1].transforms
    assert [f.prob for f in flips] == [1., 0.]
    assert pack.type == 'PackDetInputs'


def test_mask_rcnn_tta_is_refused_with_the_reason():
    cfg = load_config(osp.join(CONFIGS, 'detection',
                               'mask_rcnn_poolformer_s12.py'))
    with pytest.raises(SystemExit, match='predicts masks.*merges augmented '
                       'boxes only.*test without --tta'):
        test_tool.use_tta(cfg)


def test_detection_out_must_be_a_pickle(tiny_detector_run, tmp_path):
    run = tiny_detector_run
    args = test_tool.parse_args([run.config, run.checkpoint, '--out',
                                 str(tmp_path / 'predictions')])
    with pytest.raises(SystemExit, match='name a .pkl file'):
        test_tool.build_test_config(args)


# mmpretrain's PoolFormer (mmpretrain/models/backbones/poolformer.py), the
# backbone of mmseg 1.2.2's configs/poolformer/: ``patch_embed.proj``, then
# ``network`` alternating a stage (an nn.Sequential of PoolFormerBlocks) and
# a downsampling PatchEmbed, and ``norm{i}`` for each out index, counted
# in network positions: out_indices=(0, 2, 4, 6).
MMPRETRAIN_BLOCK = ('norm1.weight', 'norm1.bias', 'norm2.weight',
                    'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
                    'mlp.fc2.weight', 'mlp.fc2.bias', 'layer_scale_1',
                    'layer_scale_2')


def mmpretrain_backbone_keys(layers: Sequence[int],
                             out_indices=(0, 2, 4, 6)) -> List[str]:
    keys = ['patch_embed.proj.weight', 'patch_embed.proj.bias']
    for stage, depth in enumerate(layers):
        keys += [f'network.{2 * stage}.{block}.{name}'
                 for block in range(depth) for name in MMPRETRAIN_BLOCK]
        if stage < len(layers) - 1:
            keys += [f'network.{2 * stage + 1}.proj.{name}'
                     for name in ('weight', 'bias')]
    return keys + [f'norm{i}.{name}' for i in out_indices
                   for name in ('weight', 'bias')]


def save_as_mmseg_release(checkpoint: str, path: str) -> None:
    """The weights of ``checkpoint`` in the file layout of mmseg's trained
    PoolFormer FPNs (download.openmmlab.com/mmsegmentation/v0.5/poolformer/:
    mmseg 0.x, mmcls PoolFormer): the backbone under mmpretrain's names,
    FPN and FPNHead as mmseg names them, mmcv 1.x's meta and optimizer."""
    ours = load_file(checkpoint)
    weights = ours['state_dict']
    backbone = from_ours({k[len('backbone.'):]: v for k, v in weights.items()
                          if k.startswith('backbone.')}, 'original')
    expected = mmpretrain_backbone_keys(layers=[1, 1, 1, 1])
    assert set(backbone) == set(expected)
    state_dict = {f'backbone.{k}': backbone[k] for k in expected}
    state_dict.update({k: v for k, v in weights.items()
                       if k.startswith(('neck.', 'decode_head.'))})
    assert len(state_dict) == len(weights)
    meta = ours['meta']['dataset_meta']
    torch.save(dict(
        meta=dict(mmseg_version='0.24.1', mmcv_version='1.5.0', iter=40000,
                  CLASSES=tuple(meta['classes']),
                  PALETTE=[list(c) for c in meta['palette']]),
        state_dict=state_dict,
        optimizer=dict(state={}, param_groups=[dict(lr=0.0, params=[0])])),
        path)


def test_segmentation_out_dir_and_an_mmseg_release_checkpoint(
        tiny_segmentor_run, tmp_path):
    """--out DIR writes mmseg's label PNGs (ADE ids 1-150); a checkpoint
    in the layout of mmseg's released PoolFormer FPNs evaluates unchanged,
    to the same metrics as ours."""
    run = tiny_segmentor_run
    out = tmp_path / 'label_maps'
    result = run_tool('test.py', run.config, run.checkpoint, '--out',
                      str(out), '--work-dir', str(tmp_path / 'ours'))
    ours = metrics(str(tmp_path / 'ours'))
    images = sorted(glob.glob(osp.join(run.data_root, 'images',
                                       'validation', '*.jpg')))
    assert sorted(p.name for p in out.iterdir()) == [
        osp.basename(p)[:-4] + '.png' for p in images]
    for png in out.iterdir():
        label_map = np.array(Image.open(png))
        assert label_map.shape == (96, 128)
        assert 1 <= label_map.min() and label_map.max() <= 150

    release = str(tmp_path / 'fpn_poolformer_mmseg_layout.pth')
    save_as_mmseg_release(run.checkpoint, release)
    result = run_tool('test.py', run.config, release, '--work-dir',
                      str(tmp_path / 'mmseg'))
    assert 'do not match exactly' not in result.stdout + result.stderr
    assert metrics(str(tmp_path / 'mmseg')) == ours


def test_auto_scale_lr_scales_by_the_total_batch(tiny_segmentor_run):
    """The tiny segmentor trained with --auto-scale-lr: batch 2 on one
    process against the config's 32 (8 GPUs x 4 images)."""
    run = tiny_segmentor_run
    assert 'LR is set based on batch size of 32 and the current batch ' \
        'size is 2. Scaling the original LR by 0.0625.' in run.log
    with open(run.scalars) as f:
        first = json.loads(f.readline())
    # AdamW lr 2e-4 x 2 / 32, LinearLR starting at half of it.
    assert first['step'] == 1
    assert first['lr'] == pytest.approx(2e-4 * 2 / 32 * 0.5)


@pytest.mark.parametrize('config, batch', [
    ('detection/retinanet_poolformer_s12.py', 16),
    ('detection/mask_rcnn_poolformer_s36.py', 16),
    ('segmentation/fpn_poolformer_m48.py', 32)])
def test_configs_state_the_originals_total_batch(config, batch):
    cfg = load_config(osp.join(CONFIGS, config))
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=batch)
    train_tool.enable_auto_scale_lr(cfg)
    assert cfg.auto_scale_lr.enable


def test_auto_scale_lr_without_a_base_batch_is_refused():
    cfg = without(load_config(osp.join(
        CONFIGS, 'detection', 'retinanet_poolformer_s12.py')),
        'auto_scale_lr')
    with pytest.raises(SystemExit, match='no auto_scale_lr.base_batch_size'):
        train_tool.enable_auto_scale_lr(cfg)
