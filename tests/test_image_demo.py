"""tools/image_demo.py: one image, a folder or a glob, through mmdet's and
mmseg's Inferencers, writing drawn and raw predictions."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmpoolformer.cli.images import list_images
from mmpoolformer.testing import load_tool

image_demo = load_tool('image_demo.py')


def test_detection_on_a_folder(tiny_detector_run, tmp_path):
    run = tiny_detector_run
    images = osp.join(run.data_root, 'images')
    out = str(tmp_path / 'out')
    image_demo.main([images, run.config, run.checkpoint, '--out-dir', out,
                     '--device', 'cpu', '--pred-score-thr', '0.01'])
    names = sorted(os.listdir(images))
    assert sorted(os.listdir(osp.join(out, 'vis'))) == names
    for name in names:
        with Image.open(osp.join(out, 'vis', name)) as drawn, \
                Image.open(osp.join(images, name)) as image:
            assert drawn.size == image.size
        with open(osp.join(out, 'preds', name[:-4] + '.json')) as f:
            pred = json.load(f)
        assert len(pred['labels']) == len(pred['scores']) \
            == len(pred['bboxes']) > 0  # untrained: score_thr 0 keeps all
        assert all(len(box) == 4 for box in pred['bboxes'])


def test_segmentation_on_a_glob_and_on_one_image(tiny_segmentor_run,
                                                 tmp_path):
    run = tiny_segmentor_run
    pattern = osp.join(run.data_root, 'images', '*', '*_0000000[01].jpg')
    out = str(tmp_path / 'glob')
    image_demo.main([pattern, run.config, run.checkpoint, '--out-dir', out,
                     '--device', 'cpu'])
    with open(osp.join(out, 'predictions.json')) as f:
        index = json.load(f)
    assert [osp.basename(item['image']) for item in index] == [
        'ADE_training_00000000.jpg', 'ADE_training_00000001.jpg',
        'ADE_validation_00000000.jpg', 'ADE_validation_00000001.jpg']
    for item in index:
        label_map = np.array(Image.open(osp.join(out, item['label_map'])))
        assert label_map.shape == (96, 128)  # the image's size
        assert item['classes'] and label_map.max() < 150
        assert osp.isfile(osp.join(out, 'vis', osp.basename(item['image'])))

    single = str(tmp_path / 'single')
    image_demo.main([index[0]['image'], run.config, run.checkpoint,
                     '--out-dir', single, '--device', 'cpu'])
    with open(osp.join(single, 'predictions.json')) as f:
        [item] = json.load(f)
    assert np.array_equal(
        np.array(Image.open(osp.join(single, item['label_map']))),
        np.array(Image.open(osp.join(out, index[0]['label_map']))))


def test_inputs_without_images_are_named(tmp_path):
    missing = str(tmp_path / 'nothing_here.jpg')
    with pytest.raises(FileNotFoundError, match='nothing_here.jpg'):
        list_images(missing)
    (tmp_path / 'notes.txt').write_text('not an image')
    with pytest.raises(FileNotFoundError, match=f'folder {str(tmp_path)!r}'):
        list_images(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='glob'):
        list_images(str(tmp_path / '*.png'))


def test_wrong_flags_are_named(tiny_segmentor_run, monkeypatch):
    run = tiny_segmentor_run
    with pytest.raises(SystemExit, match='--pred-score-thr is for '
                       'detection'):
        image_demo.main([run.data_root, run.config, run.checkpoint,
                         '--pred-score-thr', '0.5'])
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
    with pytest.raises(SystemExit, match='no display'):
        image_demo.parse_args([run.data_root, run.config, run.checkpoint,
                               '--show'])
