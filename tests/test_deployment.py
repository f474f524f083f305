"""ONNX export and ONNX Runtime inference equal PyTorch (issue 14).

Tiny untrained, seeded models (one block per stage) keep this fast; the
archs' own widths and depths are exported at 64 px in ``test_every_config``.
"""
import copy
import glob
import os.path as osp

import pytest
import torch
from PIL import Image

from mmpoolformer.deployment import (OnnxPredictor, export_onnx,
                                     largest_difference, make_exportable)
from mmpoolformer.deployment.export import load_model
from mmpoolformer.models import BASELINE_ARCHS
from mmpoolformer.testing import load_tool
from tests.model_support import build
from tests.tool_support import DETECTION, REPO, SEGMENTATION, write_config

pytest.importorskip('onnxruntime')

MASK_RCNN = f"""_base_ = [{osp.join(REPO, 'configs', 'detection',
                                  'mask_rcnn_poolformer_s12.py')!r}]
model = dict(
    backbone=dict(arch=dict(_delete_=True, layers=[1, 1, 1, 1],
                            embed_dims=[8, 16, 32, 64]), init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=16),
        bbox_head=dict(in_channels=16, fc_out_channels=32, num_classes=3),
        mask_roi_extractor=dict(out_channels=16),
        mask_head=dict(in_channels=16, conv_out_channels=16, num_classes=3)))
test_dataloader = dict(
    dataset=dict(metainfo=dict(classes=('person', 'car', 'dog'))))
"""
# The MetaFormer baselines' mixers (separable convolution; attention in
# CAFormer's last two stages, one and two heads of 32 channels here) in the
# tiny models above, their PoolFormer backbone replaced.
TINY_BASELINES = {
    family: dict(BASELINE_ARCHS[f'{family}_s18'], layers=[1, 1, 1, 1],
                 embed_dims=[8, 16, 32, 64])
    for family in ('convformer', 'caformer')}
# Every arch once (the segmentation configs), both detectors and the hybrid
# backbone; the detectors' S24/S36 configs differ from S12's (S18's for
# ConvFormer and CAFormer) only in the backbone, exported here with
# Semantic FPN.
CONFIGS = sorted(
    path for path in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if 'segmentation' in path or '_s12' in path or '_s18' in path)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    """``name: (config, checkpoint)`` of tiny seeded models, and 'photo':
    scikit-image's cat photo as a file."""
    from mmpoolformer.demo.photos import inference_photos
    from mmpoolformer.demo.predict import save_initial_checkpoint
    root = tmp_path_factory.mktemp('deploy')
    templates = dict(fpn=SEGMENTATION, retinanet=DETECTION,
                     mask_rcnn=MASK_RCNN)
    swaps = {f'{name}_{family}': (name, 'model["backbone"] = ' + repr(
        dict(_delete_=True, type='MetaFormer', arch=arch, init_cfg=None)))
        for name in ('fpn', 'mask_rcnn')
        for family, arch in TINY_BASELINES.items()}
    swaps.update({name: (name, '') for name in templates})
    made = {}
    for name, (template, extra) in swaps.items():
        config = write_config(str(root / f'{name}.py'), templates[template],
                              str(root / 'unused_data'), extra=extra)
        made[name] = (config, save_initial_checkpoint(
            config, str(root / f'{name}.pth'), seed=0))
    made['photo'] = str(root / 'chelsea.png')
    Image.fromarray(inference_photos()['chelsea']).save(made['photo'])
    return made


def pytorch_prediction(config: str, checkpoint: str, image: str):
    """PyTorch's prediction with the operations the graph holds: the
    exporter writes the plain path, and the CPU's default folded path
    differs from it by float rounding, enough to reorder an untrained
    model's near-tied proposals."""
    model, cfg = load_model(config, checkpoint)
    model.backbone.fast_path = False
    if cfg.default_scope == 'mmdet':
        from mmdet.apis import inference_detector
        return inference_detector(model, image)
    from mmseg.apis import inference_model
    return inference_model(model, image)


@pytest.mark.parametrize('name', [
    'fpn', 'retinanet', 'mask_rcnn', 'fpn_convformer', 'fpn_caformer',
    'mask_rcnn_convformer', 'mask_rcnn_caformer'
])
def test_onnx_predictions_equal_pytorch(name, tiny, tmp_path, capsys):
    config, checkpoint = tiny[name]
    onnx = str(tmp_path / f'{name}.onnx')
    assert load_tool('deployment/pytorch2onnx.py').main(
        [config, checkpoint, '--out', onnx, '--shape', '64', '64',
         '--dynamic']) == 0
    report = capsys.readouterr().out
    # Checked at the export size and at a batch of two of another size.
    assert report.count(') ok') == 2, report

    expected = pytorch_prediction(config, checkpoint, tiny['photo'])
    actual = OnnxPredictor(config, onnx)(tiny['photo'])
    if name.startswith('fpn'):
        same = expected.pred_sem_seg.data == actual.pred_sem_seg.data
        assert same.float().mean() >= 0.999
    else:
        want, got = expected.pred_instances, actual.pred_instances
        assert len(want) > 0 and len(got) == len(want)
        torch.testing.assert_close(got.bboxes, want.bboxes, rtol=0,
                                   atol=1e-2)
        torch.testing.assert_close(got.scores, want.scores, rtol=0,
                                   atol=1e-4)
        assert torch.equal(got.labels, want.labels)
        if 'masks' in want:
            assert (got.masks == want.masks).float().mean() >= 0.999

    out_dir = tmp_path / 'drawn'
    assert load_tool('deployment/onnx_inference.py').main(
        [config, onnx, tiny['photo'], '--out-dir', str(out_dir)]) == 0
    with Image.open(out_dir / 'chelsea.png') as drawn, \
            Image.open(tiny['photo']) as photo:
        assert drawn.size == photo.size


def test_fixed_size_upsample_made_exportable(tiny, tmp_path):
    """mmseg's Upsample records its output size as a constant: exported at
    64 px, Semantic FPN is wrong at any other size until replaced."""
    model = build(tiny['fpn'][0])
    naive = str(tmp_path / 'naive.onnx')
    export_onnx(copy.deepcopy(model), torch.randn(1, 3, 64, 64), naive,
                dynamic=True)
    other = torch.randn(2, 3, 96, 128)
    diff, scale = largest_difference(model, naive, other)
    assert diff > 0.05 * scale

    changes = make_exportable(model)
    # scale_heads 1, 2, 3 upsample once, twice and three times.
    assert len(changes) == 6 and all('Upsample' in c for c in changes)
    fixed = str(tmp_path / 'fixed.onnx')
    export_onnx(model, torch.randn(1, 3, 64, 64), fixed, dynamic=True,
                dynamo=True)
    diff, scale = largest_difference(model, fixed, other)
    assert diff <= 1e-5 * scale


def test_fast_path_model_exports_its_plain_equivalent(tiny, tmp_path):
    fast = build(tiny['fpn'][0], fast_path=True)
    model = copy.deepcopy(fast)
    changes = make_exportable(model)
    assert any('backbone: fast_path=True -> False' in c for c in changes)
    assert not model.backbone.fast_path
    path = str(tmp_path / 'plain.onnx')
    inputs = torch.randn(1, 3, 64, 96)
    export_onnx(model, inputs, path)
    diff, scale = largest_difference(fast, path, inputs)
    assert diff <= 1e-4 * scale


def test_spatial_mlp_refuses_dynamic_sizes(tiny, tmp_path):
    model = build(tiny['fpn'][0], token_mixers=[
        'pooling', 'pooling', 'pooling',
        dict(type='spatial_mlp', token_size=(2, 2))])
    inputs = torch.randn(1, 3, 64, 64)
    path = str(tmp_path / 'mlp.onnx')
    with pytest.raises(ValueError, match=r"'spatial_mlp'.*--shape"):
        export_onnx(model, inputs, path, dynamic=True)
    export_onnx(model, inputs, path)  # a fixed size is fine
    diff, scale = largest_difference(model, path, inputs)
    assert diff <= 1e-5 * scale


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_every_config_exports(config, tmp_path):
    """The config's model at its own widths and depths, at 64 px (192 px
    for UperNet: ONNX pools adaptively only by factors of the map, and its
    pyramid pools the stride-32 map to 1, 2, 3 and 6)."""
    model = build(config)
    make_exportable(model)
    path = str(tmp_path / 'model.onnx')
    size = 192 if 'upernet' in osp.basename(config) else 64
    inputs = torch.randn(1, 3, size, size)
    export_onnx(model, inputs, path)
    # The exporter leaves the model as it found it: in eval mode.
    assert not any(module.training for module in model.modules())
    diff, scale = largest_difference(model, path, inputs)
    assert diff <= 1e-3 * scale
