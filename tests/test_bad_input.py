"""Bad input gets an error naming the problem and the fix, or is handled:
odd images through the configs' own pipelines, missing datasets, bad
backbone settings and checkpoints, configs of libraries not installed."""
import copy
import json
import os
import os.path as osp
import re
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmpoolformer.checkpoints.weight_files import CheckpointError
from mmpoolformer.config_checks import check_data_roots
from mmpoolformer.libraries import (LibraryNotInstalledError, import_library,
                                    load_config)
from mmpoolformer.models import PoolFormer
from mmpoolformer.stacks import library_distribution
from mmpoolformer.testing import load_tool
from tests.tool_support import (DETECTION_BASE, SEGMENTATION_BASE,
                                TINY_DETECTOR, TINY_SEGMENTOR)

RNG = np.random.default_rng(0)
# name -> image as cv2 writes it: grayscale, RGBA, 16-bit, and sizes that
# are not multiples of 32 (nor of 2).
IMAGES = {
    'gray.png': RNG.integers(0, 255, (97, 131), dtype=np.uint8),
    'rgba.png': RNG.integers(0, 255, (70, 45, 4), dtype=np.uint8),
    'gray16.png': RNG.integers(0, 65535, (33, 65), dtype=np.uint16),
    'color16.png': RNG.integers(0, 65535, (50, 77, 3), dtype=np.uint16),
    'odd.png': RNG.integers(0, 255, (131, 97, 3), dtype=np.uint8),
}


def write_images(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, image in IMAGES.items():
        assert cv2.imwrite(osp.join(folder, name), image)


def write_coco(root: str) -> None:
    """IMAGES in the COCO layout, one box each."""
    write_images(osp.join(root, 'images'))
    images, annotations = [], []
    for i, (name, image) in enumerate(IMAGES.items(), 1):
        h, w = image.shape[:2]
        images.append(dict(id=i, file_name=name, height=h, width=w))
        annotations.append(dict(id=i, image_id=i, category_id=1, iscrowd=0,
                                bbox=[2, 3, w // 2, h // 2],
                                area=w * h / 4))
    os.makedirs(osp.join(root, 'annotations'))
    with open(osp.join(root, 'annotations', 'instances.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=[dict(id=1, name='person')]), f)


def write_ade(root: str) -> None:
    """IMAGES in mmseg's ADE20K layout, with random label maps."""
    write_images(osp.join(root, 'images', 'validation'))
    labels = osp.join(root, 'annotations', 'validation')
    os.makedirs(labels)
    for name, image in IMAGES.items():
        cv2.imwrite(osp.join(labels, name), RNG.integers(
            0, 151, image.shape[:2], dtype=np.uint8))


def dataset_and_model(base: str, tiny_model: dict, dataset: dict,
                      loader: str):
    """The dataset of ``loader`` of our config ``base`` (its pipeline) on
    other data, and the config's model made tiny."""
    cfg = load_config(base, {'model': copy.deepcopy(tiny_model)})
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['DATASETS'])
    cfg[loader].dataset.update(dataset)
    return (registry.DATASETS.build(cfg[loader].dataset),
            registry.MODELS.build(cfg.model))


def assert_three_channel_uint8(sample: dict, name: str) -> None:
    inputs = sample['inputs']
    assert inputs.dtype == torch.uint8 and inputs.shape[0] == 3, name


def test_odd_images_through_the_detection_config(tmp_path):
    """Every image through the config's train and test pipelines; the model
    trains on and predicts for two of them (model time is the cost)."""
    root = str(tmp_path) + '/'
    write_coco(root)
    data = dict(data_root=root, ann_file='annotations/instances.json',
                data_prefix=dict(img='images/'), filter_cfg=None,
                metainfo=dict(classes=('person', )))
    model_cfg = dict(TINY_DETECTOR, bbox_head=dict(
        TINY_DETECTOR['bbox_head'], num_classes=1))
    train_set, model = dataset_and_model(DETECTION_BASE, model_cfg, data,
                                         'train_dataloader')
    test_set, _ = dataset_and_model(DETECTION_BASE, model_cfg, data,
                                    'test_dataloader')
    for i, name in enumerate(IMAGES):
        assert_three_channel_uint8(train_set[i], name)
        assert_three_channel_uint8(test_set[i], name)
    for name in ('odd.png', 'gray16.png'):
        i = list(IMAGES).index(name)
        batch = model.data_preprocessor(pseudo_collate([train_set[i]]), True)
        losses = model(**batch, mode='loss')
        assert torch.isfinite(model.parse_losses(losses)[0]), name
        [result] = model.test_step(pseudo_collate([test_set[i]]))
        h, w = IMAGES[name].shape[:2]
        assert result.ori_shape == (h, w), name
        boxes = result.pred_instances.bboxes  # in the original image
        assert len(boxes) and (boxes[:, 2] <= w + 1e-3).all() and (
            boxes[:, 3] <= h + 1e-3).all(), name


def test_odd_images_through_the_segmentation_config(tmp_path):
    write_ade(str(tmp_path))
    data = dict(data_root=str(tmp_path), img_suffix='.png')
    test_set, model = dataset_and_model(SEGMENTATION_BASE, TINY_SEGMENTOR,
                                        data, 'test_dataloader')
    train_set, _ = dataset_and_model(SEGMENTATION_BASE, TINY_SEGMENTOR, dict(
        data, data_prefix=dict(img_path='images/validation',
                               seg_map_path='annotations/validation')),
        'train_dataloader')
    for i in range(len(IMAGES)):
        assert_three_channel_uint8(train_set[i], i)
        assert_three_channel_uint8(test_set[i], i)
    batch = model.data_preprocessor(pseudo_collate(
        [train_set[0], train_set[1]]), True)
    assert batch['inputs'].shape[1:] == (3, 512, 512)  # crops padded
    losses = model(**batch, mode='loss')
    assert torch.isfinite(model.parse_losses(losses)[0])
    for i in (0, 2):
        [result] = model.test_step(pseudo_collate([test_set[i]]))
        name = osp.basename(result.img_path)
        assert result.pred_sem_seg.data.shape[1:] == IMAGES[name].shape[:2]


@pytest.mark.parametrize('base,tiny', [(DETECTION_BASE, TINY_DETECTOR),
                                       (SEGMENTATION_BASE, TINY_SEGMENTOR)])
def test_models_take_any_input_size(base, tiny):
    """Sizes that are not multiples of 32 (the data preprocessors pad
    detection inputs, but the models do not rely on it)."""
    cfg = load_config(base, {'model': copy.deepcopy(tiny)})
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['MODELS'])
    model = registry.MODELS.build(cfg.model).eval()
    for h, w in [(97, 131), (33, 65), (64, 200)]:
        with torch.no_grad():
            outputs = model(torch.rand(1, 3, h, w), mode='tensor')
        for output in torch.utils._pytree.tree_leaves(outputs):
            assert torch.isfinite(output).all(), (h, w)


@pytest.mark.parametrize('problem', ['corrupt', 'missing'])
def test_unreadable_image_names_the_file(problem, tmp_path):
    root = str(tmp_path) + '/'
    write_coco(root)
    path = osp.join(root, 'images', 'odd.png')
    if problem == 'corrupt':
        with open(path, 'wb') as f:
            f.write(b'\x89PNG\r\n\x1a\n' + b'not really an image' * 10)
    else:
        os.remove(path)
    data = dict(data_root=root, ann_file='annotations/instances.json',
                data_prefix=dict(img='images/'), filter_cfg=None,
                metainfo=dict(classes=('person', )))
    test_set, _ = dataset_and_model(DETECTION_BASE, TINY_DETECTOR, data,
                                    'test_dataloader')
    with pytest.raises(Exception, match=path):
        test_set[list(IMAGES).index('odd.png')]


def test_missing_dataset_root_says_what_belongs_there(tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)  # the configs' data roots are relative
    with pytest.raises(FileNotFoundError) as err:
        check_data_roots(Config.fromfile(DETECTION_BASE),
                         ['train_dataloader'])
    assert str(err.value).startswith(
        'data/coco/ does not exist: it should hold '
        'annotations/instances_train2017.json and train2017/ '
        '(train_dataloader.dataset); put the data there or pass '
        '--cfg-options train_dataloader.dataset.data_root=/path/to/data; '
        "see docs/user_guides/data.md, 'Data'")
    os.makedirs('data/ade/ADEChallengeData2016/images/validation')
    with pytest.raises(FileNotFoundError, match=(
            'data/ade/ADEChallengeData2016/annotations/validation/ does '
            'not exist: .* should hold images/validation/ and '
            r'annotations/validation/ \(test_dataloader.dataset\)')):
        check_data_roots(Config.fromfile(SEGMENTATION_BASE),
                         ['test_dataloader'])


def test_tools_check_the_data_before_building_anything(tmp_path):
    train = load_tool('train.py')
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=f'{missing} does not exist'):
        train.main([DETECTION_BASE, '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options', f'train_dataloader.dataset.data_root='
                    f'{missing}'])
    assert not (tmp_path / 'work').exists()


def test_config_of_a_library_not_installed_names_the_package(monkeypatch):
    # mmengine resolves ``mmseg::`` bases only if mmseg is installed, as
    # OpenMMLab's mmsegmentation or (its module) as OneDL's.
    monkeypatch.setattr('mmengine.config.config.is_installed',
                        lambda package: package not in ('mmsegmentation',
                                                        'mmseg'))
    with pytest.raises(LibraryNotInstalledError, match=(
            r"base configs come from 'mmseg' \(its default_scope\), which "
            r'is not installed. Install it: pip install '
            + re.escape(library_distribution('mmseg')))):
        load_config(SEGMENTATION_BASE)


def test_default_scope_that_cannot_be_imported_names_the_package(
        monkeypatch):
    monkeypatch.setitem(sys.modules, 'mmdet.utils', None)
    with pytest.raises(LibraryNotInstalledError, match=(
            r"default_scope is 'mmdet', but mmdet cannot be imported .*"
            r'Install it: pip install '
            + re.escape(library_distribution('mmdet')))):
        import_library('mmdet', 'retinanet_poolformer_s12.py')


@pytest.mark.parametrize('option,message', [
    ({'model.backbone.arch': 's13'},
     r"Unknown arch 's13' \(did you mean .*'s12'.*\)\. Valid archs: .*"
     r"'poolformer_s12'.*the short names \['m36', 'm48', 's12', 's24', "
     r"'s36'\]"),
    ({'model.backbone.out_indices': (1, 4)},
     r'out_indices \(1, 4\) is invalid: .* subset of \(0, 1, 2, 3\)'),
])
def test_bad_backbone_settings_in_a_config_list_valid_values(option,
                                                             message):
    cfg = load_config(DETECTION_BASE, option)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg.model)


def test_checkpoint_of_another_arch_names_the_mismatched_keys(tmp_path):
    path = str(tmp_path / 'poolformer_narrow.pth')
    narrow = dict(layers=[2, 2, 6, 2], embed_dims=[32, 64, 160, 256])
    torch.save(PoolFormer(narrow, fork_feat=False).state_dict(), path)
    cfg = load_config(SEGMENTATION_BASE, {
        'model.backbone.init_cfg.checkpoint': path})
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    with pytest.raises(CheckpointError, match=(
            r'stages.0.blocks.0.norm1.weight: \(32,\) in the file, \(64,\) in '
            r'the model')):
        model.init_weights()
