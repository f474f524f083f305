"""The COCO detection configs: they build to the paper's sizes, follow the
original recipe, train and predict, load pretrained backbones from a local
file or fail clearly without network, and accept checkpoints trained with
the original mmdet 2.x code."""
import glob
import os.path as osp
import socket
from typing import List

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmpoolformer.checkpoints.weight_files import CheckpointError
from mmpoolformer.checkpoints.weight_layouts import to_ours
from mmpoolformer.models import PoolFormer
from tests import reference_poolformer as ref
from tests.tiny_data import COCO_CATEGORIES, write_tiny_coco
from tests.tool_runs import (assert_loads_as_original, evaluate_as_original,
                             train)
from tests.tool_support import REPO

CONFIGS = osp.join(REPO, 'configs', 'detection')
MMDET2_META = dict(mmdet_version='2.19.0', epoch=12, iter=87960,
                   CLASSES=tuple(c['name'] for c in COCO_CATEGORIES))
RELEASES = 'https://github.com/sail-sg/poolformer/releases/download/v1.0/'
# Table 3 of the paper, in millions.
PAPER_PARAMS = {
    'retinanet_poolformer_s12': 21.7, 'retinanet_poolformer_s24': 31.1,
    'retinanet_poolformer_s36': 40.6, 'mask_rcnn_poolformer_s12': 31.6,
    'mask_rcnn_poolformer_s24': 41.0, 'mask_rcnn_poolformer_s36': 50.5}


def load_config(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIGS, name + '.py'))


def build_detector(cfg: Config) -> torch.nn.Module:
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('name', sorted(PAPER_PARAMS))
def test_config_builds_to_the_papers_size(name):
    cfg = load_config(name)
    model = build_detector(cfg)
    arch = name.rsplit('_', 1)[1]
    assert isinstance(model.backbone, PoolFormer)
    assert cfg.model.backbone.arch == arch
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'{RELEASES}poolformer_{arch}.pth.tar')
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6, 1) == PAPER_PARAMS[name]


@pytest.mark.parametrize('detector', ['retinanet', 'mask_rcnn'])
@pytest.mark.parametrize('arch', ['s24', 's36'])
def test_bigger_configs_change_only_arch_and_checkpoint(detector, arch):
    parent = load_config(f'{detector}_poolformer_s12').to_dict()
    child = load_config(f'{detector}_poolformer_{arch}').to_dict()
    backbone = child['model']['backbone']
    assert backbone['init_cfg']['checkpoint'].endswith(
        f'poolformer_{arch}.pth.tar')
    backbone['arch'] = 's12'
    backbone['init_cfg'] = parent['model']['backbone']['init_cfg']
    assert child == parent


@pytest.mark.parametrize('detector, lr', [('retinanet', 1e-4),
                                          ('mask_rcnn', 2e-4)])
def test_original_recipe(detector, lr):
    cfg = load_config(f'{detector}_poolformer_s12')
    assert cfg.custom_imports == dict(
        imports=['mmpoolformer', 'mmpoolformer.safe_loading'],
        allow_failed_imports=False)
    # AdamW alone: nothing of the base's SGD (momentum) may leak in.
    assert cfg.optim_wrapper.optimizer == dict(
        type='AdamW', lr=lr, weight_decay=1e-4)
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False,
                                                          500)
    assert (steps.type, steps.milestones) == ('MultiStepLR', [8, 11])
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=16)
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    pipeline = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert pipeline['Resize'].scale == (1333, 800)
    assert pipeline['RandomFlip'].prob == 0.5
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    neck = cfg.model.neck
    assert neck.in_channels == [64, 128, 320, 512] and neck.num_outs == 5
    if detector == 'retinanet':
        assert cfg.model.backbone.fork_last3
        assert (neck.start_level, neck.add_extra_convs) == (1, 'on_input')
    else:
        assert neck.get('start_level', 0) == 0
        assert not cfg.model.backbone.get('fork_last3')


def _batch(model, with_mask: bool, training: bool) -> dict:
    """Two random images of different sizes with two boxes each (and their
    masks), through the model's own data preprocessor."""
    inputs, samples = [], []
    for h, w in [(128, 96), (112, 128)]:
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.)))
        boxes = torch.tensor([[8., 10., 60., 90.], [30., 20., 90., 100.]])
        gt = InstanceData(bboxes=boxes, labels=torch.tensor([0, 17]))
        if with_mask:
            masks = np.zeros((2, h, w), dtype=np.uint8)
            for mask, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
                mask[y0:y1, x0:x1] = 1
            gt.masks = BitmapMasks(masks, h, w)
        sample.gt_instances = gt
        samples.append(sample)
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   training)


@pytest.mark.parametrize('detector', ['retinanet', 'mask_rcnn'])
def test_s12_trains_and_predicts(detector):
    torch.manual_seed(0)
    cfg = load_config(f'{detector}_poolformer_s12')
    # Untrained heads score below the default 0.05 threshold: keep the 10
    # best boxes. 2 images with 2 objects need fewer proposals and RoIs.
    if detector == 'retinanet':
        cfg.model.test_cfg.update(score_thr=0., max_per_img=10)
    else:
        cfg.model.test_cfg.rcnn.update(score_thr=0., max_per_img=10)
        cfg.model.test_cfg.rpn.max_per_img = 100
        cfg.model.train_cfg.rcnn.sampler.num = 64
    model = build_detector(cfg)
    with_mask = detector == 'mask_rcnn'

    model.train()
    losses = model(**_batch(model, with_mask, training=True), mode='loss')
    expected = {'loss_cls', 'loss_bbox'} if detector == 'retinanet' else {
        'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'}
    assert expected <= set(losses)
    total, log_vars = model.parse_losses(losses)
    assert all(torch.isfinite(v).all() for v in log_vars.values())
    total.backward()
    for name, param in model.backbone.named_parameters():
        # norm1.bias cancels in pool(y) - y: its exact gradient is zero,
        # which the (default, CPU) fast path gives; the plain one rounds.
        if name.startswith(('stem', 'stages.0.blocks.0')) and \
                not name.endswith('norm1.bias'):
            assert param.grad is not None and param.grad.abs().sum() > 0, name

    model.eval()
    with torch.no_grad():
        results = model(**_batch(model, with_mask, training=False),
                        mode='predict')
    for result, (h, w) in zip(results, [(128, 96), (112, 128)]):
        pred = result.pred_instances
        assert len(pred) > 0 and pred.bboxes.shape == (len(pred), 4)
        assert (pred.bboxes[:, 2] <= w).all()
        assert (pred.bboxes[:, 3] <= h).all()
        if with_mask:
            assert pred.masks.shape == (len(pred), h, w)


def test_pretrained_backbone_from_a_local_file(tmp_path):
    """The one override a user needs without network access."""
    original = ref.poolformer('s12', fork_feat=True)
    path = str(tmp_path / 'poolformer_s12.pth.tar')
    torch.save(original.state_dict(), path)
    cfg = load_config('mask_rcnn_poolformer_s12')
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': path})
    model = build_detector(cfg)
    model.backbone.init_weights()  # what the runner's init_weights() calls
    for key, value in to_ours(original.state_dict()).items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def test_unreachable_release_url_says_what_to_do(tmp_path, monkeypatch):
    """No network and nothing cached: the error names the URL and the
    --cfg-options override."""
    def no_network(*args, **kwargs):
        raise socket.gaierror('no network')

    monkeypatch.setattr(socket, 'getaddrinfo', no_network)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    model = build_detector(load_config('retinanet_poolformer_s12'))
    with pytest.raises(CheckpointError) as err:
        model.init_weights()
    message = str(err.value)
    assert f'{RELEASES}poolformer_s12.pth.tar' in message
    assert '--cfg-options model.backbone.init_cfg.checkpoint=' in message


# Parameter names of the mmdet 2.19 modules the original configs used (sail-
# sg/poolformer trained with them), transcribed from their definitions:
# ConvModule keeps its convolution as ``.conv``, plain layers have none.
def _conv_module(prefix: str, count: int) -> List[str]:
    return [f'{prefix}.{i}.conv.{p}' for i in range(count)
            for p in ('weight', 'bias')]


def _layers(prefix: str, *names: str) -> List[str]:
    return [f'{prefix}.{n}.{p}' for n in names for p in ('weight', 'bias')]


def mmdet2_keys(detector: str) -> List[str]:
    """mmdet 2.x state dict keys of the neck and heads."""
    if detector == 'retinanet':  # FPN from level 1 with 2 extra convs
        return (_conv_module('neck.lateral_convs', 3) +
                _conv_module('neck.fpn_convs', 5) +
                _conv_module('bbox_head.cls_convs', 4) +
                _conv_module('bbox_head.reg_convs', 4) +
                _layers('bbox_head', 'retina_cls', 'retina_reg'))
    return (_conv_module('neck.lateral_convs', 4) +
            _conv_module('neck.fpn_convs', 4) +
            _layers('rpn_head', 'rpn_conv', 'rpn_cls', 'rpn_reg') +
            _layers('roi_head.bbox_head', 'shared_fcs.0', 'shared_fcs.1',
                    'fc_cls', 'fc_reg') +
            _conv_module('roi_head.mask_head.convs', 4) +
            _layers('roi_head.mask_head', 'upsample', 'conv_logits'))


@pytest.mark.parametrize('detector', ['retinanet', 'mask_rcnn'])
def test_mmdet2_checkpoint_of_the_original_code_loads(detector, tmp_path,
                                                      monkeypatch):
    """A checkpoint as mmdet 2.x + the sail-sg backbone wrote it loads into
    our config strictly, every tensor in place, through mmengine's own
    ``load_checkpoint`` (the backbone renames its keys as it loads)."""
    # The original ran RetinaNet with FORK_LAST3=1 (no norm0).
    if detector == 'retinanet':
        monkeypatch.setenv('FORK_LAST3', '1')
    else:
        monkeypatch.delenv('FORK_LAST3', raising=False)
    backbone = ref.poolformer('s12', fork_feat=True).state_dict()
    keys = [f'backbone.{k}' for k in backbone] + mmdet2_keys(detector)

    cfg = load_config(f'{detector}_poolformer_s12')
    trained = build_detector(cfg).state_dict()
    assert sorted(trained) == sorted(
        [f'backbone.{k}' for k in to_ours(backbone)] + mmdet2_keys(detector))
    torch.manual_seed(1)
    shapes = {k: v.shape for k, v in backbone.items()}
    state_dict = {k: torch.randn(shapes[k[len('backbone.'):]]
                                 if k.startswith('backbone.')
                                 else trained[k].shape) for k in keys}
    assert_loads_as_original(build_detector(cfg), state_dict,
                             str(tmp_path / 'epoch_12.pth'), MMDET2_META)


# The three classes of tiny_data's COCO. Untrained heads score below the
# default threshold, so keep a few low-scoring boxes for the evaluation;
# fewer proposals and RoIs, as 2 small images have few objects.
TINY_HEADS = {
    'retinanet': 'bbox_head=dict(num_classes=3), '
                 'test_cfg=dict(score_thr=0., max_per_img=20)',
    'mask_rcnn': 'roi_head=dict(bbox_head=dict(num_classes=3), '
                 'mask_head=dict(num_classes=3)), '
                 'train_cfg=dict(rcnn=dict(sampler=dict(num=64))), '
                 'test_cfg=dict(rpn=dict(max_per_img=100), '
                 'rcnn=dict(score_thr=0., max_per_img=20))'}
TINY_TRAINING = '''
_base_ = [{base!r}]
data_root = {root!r}
metainfo = dict(classes=('person', 'car', 'dog'))
model = dict(backbone=dict(init_cfg=None), {heads})
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask={masks}),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask={masks}),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor')),
]
dataset = dict(data_root=data_root, metainfo=metainfo,
               data_prefix=dict(img='images/'))
loader = dict(batch_size=1, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(
    ann_file='annotations/instances_train.json', pipeline=train_pipeline,
    **dataset))
val_dataloader = dict(**loader, dataset=dict(
    ann_file='annotations/instances_val.json', pipeline=test_pipeline,
    **dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(save_optimizer=False))
'''


@pytest.mark.parametrize('detector', ['retinanet', 'mask_rcnn'])
def test_tools_train_and_test_on_tiny_coco(detector, tmp_path):
    """tools/train.py: two iterations and a COCO evaluation; only the data
    (2 images of 96 x 128), classes, sampling, thresholds, epochs and what
    the checkpoint holds change. Then tools/test.py evaluates the weights
    saved as the original mmdet 2.x code did, to the same COCO AP."""
    root = write_tiny_coco(str(tmp_path / 'coco'), num_images=2) + '/'
    config = str(tmp_path / f'tiny_{detector}.py')
    with open(config, 'w') as f:
        f.write(TINY_TRAINING.format(
            base=osp.join(CONFIGS, f'{detector}_poolformer_s12.py'),
            root=root, masks=detector == 'mask_rcnn',
            heads=TINY_HEADS[detector]))
    work_dir = str(tmp_path / 'train')
    losses, val = train(config, work_dir, metric='coco/bbox_mAP')
    assert len(losses) == 2 and all(np.isfinite(losses))
    tasks = ['bbox'] + (['segm'] if detector == 'mask_rcnn' else [])
    for task in tasks:
        assert 0 <= val[f'coco/{task}_mAP'] <= 1
    # Saved by AtomicCheckpointHook, with no temporary file left.
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert not glob.glob(osp.join(work_dir, '.*.tmp'))

    metrics = evaluate_as_original(config, checkpoint, MMDET2_META,
                                   str(tmp_path / 'test'))
    for task in tasks:
        for name in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
            key = f'coco/{task}_{name}'
            assert metrics[key] == val[key], key
