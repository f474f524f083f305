"""The demo dataset builder: real photos written as COCO instances and mmseg
label maps that agree with each other and with the demo configs."""
import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from PIL import Image

from mmpoolformer.demo import CLASSES, SEG_CLASSES, build_demo_data
from mmpoolformer.demo.photos import _package_dir, annotated_photos

TRAIN_VIEWS = 2
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('demo'))
    build_demo_data(root, train_views=TRAIN_VIEWS, seed=0)
    return root


def _coco(root, split):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def test_photos_carry_human_made_masks():
    photos = annotated_photos()
    assert [p.name for p in photos] == ['voc', 'arc2017', 'quokka']
    assert [len(p.labels) for p in photos] == [19, 8, 1]
    for p in photos:
        assert p.masks.shape == (len(p.labels), ) + p.image.shape[:2]
        assert all(m.sum() > 100 for m in p.masks)


def test_counts_and_categories(demo_root):
    train, val = _coco(demo_root, 'train'), _coco(demo_root, 'val')
    assert len(train['images']) == 3 * TRAIN_VIEWS
    assert len(val['images']) == 3
    # the val split is the photos whole: every annotated instance
    assert len(val['annotations']) == 19 + 8 + 1
    assert 0 < len(train['annotations']) <= TRAIN_VIEWS * 28
    for coco in (train, val):
        assert [c['name'] for c in coco['categories']] == list(CLASSES)
        ids = [a['id'] for a in coco['annotations']]
        assert len(set(ids)) == len(ids)
    names = {c: 0 for c in CLASSES}
    for a in val['annotations']:
        names[CLASSES[a['category_id'] - 1]] += 1
    assert names == dict(person=7, chair=8, diningtable=3, bottle=1,
                         animal=1, item=8)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_boxes_and_areas_match_masks(demo_root, split):
    coco = _coco(demo_root, split)
    images = {i['id']: i for i in coco['images']}
    for a in coco['annotations']:
        info = images[a['image_id']]
        mask = mask_utils.decode(a['segmentation']).astype(bool)
        assert mask.shape == (info['height'], info['width'])
        ys, xs = np.nonzero(mask)
        x, y, w, h = a['bbox']
        # the box is the tightest one around the mask
        assert (x, y) == (xs.min(), ys.min())
        assert (x + w, y + h) == (xs.max() + 1, ys.max() + 1)
        assert a['area'] == mask.sum() > 0
        assert a['iscrowd'] == 0


@pytest.mark.parametrize('split', ['train', 'val'])
def test_label_maps_agree_with_instances(demo_root, split):
    coco = _coco(demo_root, split)
    by_image = {i['id']: [] for i in coco['images']}
    for a in coco['annotations']:
        by_image[a['image_id']].append(a)
    for info in coco['images']:
        stem = osp.splitext(info['file_name'])[0]
        image = Image.open(osp.join(demo_root, 'images', split,
                                    info['file_name']))
        label_map = np.asarray(Image.open(
            osp.join(demo_root, 'semantic', split, stem + '.png')))
        assert image.size == (info['width'], info['height'])
        assert label_map.shape == (info['height'], info['width'])
        assert label_map.max() < len(SEG_CLASSES)
        covered = np.zeros(label_map.shape, bool)
        for a in by_image[info['id']]:
            mask = mask_utils.decode(a['segmentation']).astype(bool)
            # each instance shows its class on most of its pixels
            # (the rest is covered by a smaller instance painted on top)
            assert (label_map[mask] == a['category_id']).mean() > 0.5
            covered |= mask
        assert np.array_equal(label_map > 0, covered)


def test_build_is_deterministic(demo_root, tmp_path):
    build_demo_data(str(tmp_path), train_views=TRAIN_VIEWS, seed=0)
    assert _coco(str(tmp_path), 'train') == _coco(demo_root, 'train')


def test_inference_photos_written(demo_root):
    """Each new photo decodes as a colour picture of some size, not a
    blank or cut-short file."""
    for name in ('astronaut', 'chelsea', 'coffee'):
        with Image.open(osp.join(demo_root, 'infer', name + '.jpg')) as img:
            pixels = np.asarray(img.convert('RGB'))
        assert pixels.ndim == 3 and min(pixels.shape[:2]) >= 200
        assert pixels.std() > 20


def test_missing_package_names_the_fix():
    with pytest.raises(ModuleNotFoundError,
                       match='make setup.*pip install --no-deps no-such-dist'):
        _package_dir('no_such_package_for_the_demo', 'no-such-dist')


@pytest.mark.parametrize('config, key', [
    ('configs/detection/demo/retinanet_poolformer_s12_demo.py', 'det'),
    ('configs/detection/demo/mask_rcnn_poolformer_s12_demo.py', 'det'),
    ('configs/segmentation/demo/fpn_poolformer_s12_demo.py', 'seg'),
])
def test_demo_configs_use_the_builder_classes(config, key):
    from mmengine.config import Config

    from mmpoolformer.libraries import library_bases_by_module
    with library_bases_by_module():
        cfg = Config.fromfile(osp.join(REPO, config),
                              import_custom_modules=False)
    classes = cfg.train_dataloader.dataset.metainfo.classes
    assert tuple(classes) == (CLASSES if key == 'det' else SEG_CLASSES)
    assert cfg.val_dataloader.dataset.metainfo.classes == classes
    assert cfg.model.backbone.init_cfg is None


def test_report_reads_mmengine_logs(tmp_path):
    from mmpoolformer.demo.report import (format_table, plot_losses,
                                          read_losses, read_test_metrics)
    for stamp, loss in (('20260101_000000', 9.0), ('20260102_000000', 2.0)):
        run = tmp_path / stamp
        (run / 'vis_data').mkdir(parents=True)
        (run / 'vis_data' / 'scalars.json').write_text(
            json.dumps(dict(iter=6, loss=loss, lr=0.1)) + '\n' +
            json.dumps(dict(iter=12, loss=loss / 4)) + '\n' +
            json.dumps({'coco/bbox_mAP': 0.5, 'step': 2}) + '\n')
        (run / f'{stamp}.json').write_text(
            json.dumps({'coco/bbox_mAP': loss / 10, 'time': 'x'}))
    # the newest run wins; non-loss and non-number entries are left out
    assert read_losses(str(tmp_path)) == ([6, 12], [2.0, 0.5])
    assert read_test_metrics(str(tmp_path)) == {'coco/bbox_mAP': 0.2}
    with pytest.raises(FileNotFoundError, match='did the run finish'):
        read_losses(str(tmp_path / 'missing'))
    table = format_table(['model', 'mAP'], [['RetinaNet', '0.2']])
    assert table.splitlines()[2] == '| RetinaNet | 0.2 |'
    png = plot_losses({'RetinaNet': ([6, 12], [2.0, 0.5])},
                      str(tmp_path / 'loss.png'))
    assert Image.open(png).size[0] > 100
