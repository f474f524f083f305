"""INT8 deployment (issue 32): the quantizable form of PoolFormer's blocks
computes the original function, and a trained model quantized by the tools
keeps its labels on the demo photos."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from mmpoolformer.deployment import export_onnx, make_exportable
from mmpoolformer.deployment.calibration import calibration_batches
from mmpoolformer.deployment.export import TensorOutputs
from mmpoolformer.deployment.int8_cache import check_quantizable
from mmpoolformer.deployment.quantizable import (QuantizableBlock,
                                                 make_quantizable)
from mmpoolformer.deployment.runtimes import choose_precision
from mmpoolformer.libraries import load_config
from mmpoolformer.precision import Int8UnavailableError, capability, int8_units
from mmpoolformer.testing import largest_difference, load_tool
from tests.model_support import build
from tests.test_deployment import pytorch_prediction
from tests.tool_support import REPO, run_tool

CONFIGS = {
    'fpn': osp.join(REPO, 'configs', 'segmentation', 'fpn_poolformer_s12.py'),
    'retinanet': osp.join(REPO, 'configs', 'detection',
                          'retinanet_poolformer_s12.py'),
}

DEMO_FPN = osp.join(REPO, 'configs', 'segmentation', 'demo',
                    'fpn_poolformer_s12_demo.py')
# The demo's Semantic FPN with one PoolFormer block per stage, narrower,
# trained on 128 x 128 crops; tested at the demo's size.
SMALL_FPN = """_base_ = [{base!r}]
dims = [32, 64, 160, 256]
model = dict(
    backbone=dict(arch=dict(_delete_=True, layers=[1, 1, 1, 1],
                            embed_dims=dims)),
    neck=dict(in_channels=dims, out_channels=64),
    decode_head=dict(in_channels=[64] * 4, channels=64),
    data_preprocessor=dict(size=(128, 128)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(160, 120), ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, dataset=dict(data_root={data!r},
                                                   pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(data_root={data!r}))
val_dataloader = test_dataloader
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=5),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, by_epoch=False, begin=5,
         end={iters})
]
default_hooks = dict(checkpoint=dict(interval={iters}))
"""
TRAIN_ITERS = 60
# The threshold: the share of Semantic FPN's pixels whose labels
# agree with fp32's.
FPN_PIXELS = 0.99


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_quantizable_blocks_compute_the_same_function(name):
    # Two sizes, one odd, so that windows reach over every kind of border.
    model = build(CONFIGS[name], arch=dict(layers=[1, 1, 2, 1],
                                           embed_dims=[64, 128, 320, 512]))
    make_exportable(model)
    model.backbone.fast_path = False
    reshaped = copy.deepcopy(model)
    changes = make_quantizable(reshaped)
    assert changes and sum(isinstance(m, QuantizableBlock)
                           for m in reshaped.modules()) == 5
    for shape in ((1, 3, 64, 96), (2, 3, 97, 130)):
        x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            diff, scale = largest_difference(TensorOutputs(reshaped)(x),
                                             TensorOutputs(model)(x))
        assert diff <= 1e-5 * scale, (shape, diff, scale)


def test_quantizable_form_needs_eval_mode():
    model = build(CONFIGS['fpn'])
    with pytest.raises(ValueError, match='model.eval'):
        make_quantizable(model.train())


@pytest.fixture(scope='module')
def small_fpn(tmp_path_factory) -> dict:
    """The demo photos (four training views of each) below a temporary
    folder and the small FPN's config on them: ``{'config', 'root',
    'photos'}`` (the validation and inference photos)."""
    from mmpoolformer.demo import build_demo_data
    root = tmp_path_factory.mktemp('int8')
    data = str(root / 'demo') + '/'
    build_demo_data(data, train_views=4, seed=0)
    config = str(root / 'fpn_small.py')
    with open(config, 'w') as f:
        f.write(SMALL_FPN.format(base=DEMO_FPN, data=data, iters=TRAIN_ITERS))
    return dict(config=config, root=root,
                photos=sorted(glob.glob(data + 'images/val/*.jpg')
                              + glob.glob(data + 'infer/*')))


@pytest.fixture(scope='module')
def trained_fpn(small_fpn) -> dict:
    """:func:`small_fpn` trained for :data:`TRAIN_ITERS` iterations, so that
    its labels have margins as a trained model's do (an untrained model's
    logits are near ties everywhere); adds ``'checkpoint'``."""
    work_dir = small_fpn['root'] / 'work'
    run_tool('train.py', small_fpn['config'], '--work-dir', str(work_dir))
    return dict(small_fpn,
                checkpoint=str(work_dir / f'iter_{TRAIN_ITERS}.pth'))


@pytest.mark.skipif(not int8_units(), reason='no int8 dot products')
def test_int8_keeps_semantic_fpn_pixels(trained_fpn):
    """pytorch2onnx.py --precision int8, then the tools' predictor in INT8,
    against PyTorch's fp32 labels on the demo photos."""
    pytest.importorskip('nncf')
    from mmpoolformer.deployment import OnnxPredictor
    config, checkpoint = trained_fpn['config'], trained_fpn['checkpoint']
    onnx_path = str(trained_fpn['root'] / 'fpn_small.onnx')
    export = load_tool('deployment/pytorch2onnx.py')
    assert export.main([config, checkpoint, '--out', onnx_path, '--dynamic',
                        '--precision', 'int8', '--calib', '4']) == 0
    int8 = OnnxPredictor(config, onnx_path, backend='openvino',
                         precision='int8', calib=4)
    assert 'int8' in int8.runtime.description
    agree = pixels = 0
    for photo in trained_fpn['photos']:
        expected = pytorch_prediction(config, checkpoint,
                                      photo).pred_sem_seg.data
        actual = int8(photo).pred_sem_seg.data
        agree += int((actual == expected).sum())
        pixels += expected.numel()
    assert agree / pixels >= FPN_PIXELS, agree / pixels


def test_int8_runs_in_openvino_only():
    with pytest.raises(ValueError, match='use --backend openvino'):
        choose_precision('onnxruntime', 'int8')


def test_cpu_without_int8_units_is_told(monkeypatch):
    monkeypatch.setattr(capability, '_cpu_flags', lambda: {'avx2', 'fma'})
    assert capability.int8_units() == []
    with pytest.raises(Int8UnavailableError, match='--precision int8: .*'
                       'no int8 dot-product instructions'):
        choose_precision('openvino', 'int8')


def test_a_graph_exported_for_float_is_refused(tmp_path):
    pytest.importorskip('onnx')
    model = build(CONFIGS['fpn'], arch=dict(layers=[1, 1, 1, 1],
                                            embed_dims=[64, 128, 320, 512]))
    make_exportable(model)
    path = str(tmp_path / 'fpn.onnx')
    export_onnx(model, torch.randn(1, 3, 64, 64), path)
    with pytest.raises(ValueError, match='pool.x. - x.*pytorch2onnx.py '
                       r'CONFIG CHECKPOINT --out .*--precision int8'):
        check_quantizable(path)


def test_calibration_beyond_the_training_set_is_refused(small_fpn):
    cfg = load_config(small_fpn['config'])
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model).data_preprocessor
    with pytest.raises(ValueError, match='--calib 1000: the training set '
                       'of the config has only 12 photos'):
        calibration_batches(cfg, preprocessor, 1000)
    [batch] = calibration_batches(cfg, preprocessor, 1)
    assert batch.shape[:2] == (1, 3) and batch.dtype == torch.float32
