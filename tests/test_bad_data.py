"""Bad data is named, in training and in testing: an image or label map
that cannot be decoded, an annotation file that cannot be parsed, label
values that are no class of the dataset (mmseg's metric would ignore them
without a word). tools/train.py and tools/test.py exit non-zero with the
file and the value; so does any tool running a config that names
CheckedRunner, which builds datasets with ``build_dataset``."""
import re

import numpy as np
import pytest
import torch
from mmengine.registry import MODELS, init_default_scope
from PIL import Image

from mmpoolformer.config_checks import DatasetError, build_dataset
from mmpoolformer.libraries import load_config
from tests.tiny_data import write_tiny_ade, write_tiny_coco
from tests.tool_support import (DETECTION, DETECTION_BASE, SEGMENTATION,
                                SEGMENTATION_BASE, run_tool, write_config)

ADE_IMAGE = 'images/{split}/ADE_{split}_{i:08d}.jpg'
ADE_LABELS = 'annotations/{split}/ADE_{split}_{i:08d}.png'
LABELS_200 = ('label values 199 (200 in the file, before reduce_zero_label '
              'subtracts 1) are not classes of ADE20KDataset, which has 150 '
              'classes (0..149) and ignore_index 255.')


def empty(path: str) -> str:
    open(path, 'wb').close()
    return path


def paint_labels(path: str, value: int) -> str:
    """Give part of the label map at ``path`` the label ``value``."""
    labels = np.array(Image.open(path))
    labels[:8, :8] = value
    Image.fromarray(labels).save(path)
    return path


def cut(path: str) -> str:
    """Keep the first half of the file at ``path``."""
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text[:len(text) // 2])
    return path


def tiny_checkpoint(config: str, path: str) -> str:
    """Weights of the tiny model of ``config``, for tools/test.py."""
    cfg = load_config(config)
    init_default_scope(cfg.default_scope)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), path)
    return path


def failure(*args: str) -> str:
    """Run a tool that must fail; return its output."""
    result = run_tool(*args, check=False)
    assert result.returncode != 0, result.stdout[-2000:]
    return result.stderr


@pytest.fixture
def ade(tmp_path):
    root = write_tiny_ade(str(tmp_path / 'ade') + '/')
    return root, write_config(str(tmp_path / 'seg.py'), SEGMENTATION, root)


def test_training_names_an_empty_image(ade, tmp_path):
    root, config = ade
    image = empty(root + ADE_IMAGE.format(split='training', i=2))
    out = failure('train.py', config, '--work-dir', str(tmp_path / 'work'))
    assert re.search(
        r'DatasetError: LoadImageFromFile failed on sample 2 of '
        rf'ADE20KDataset \(img_path={re.escape(image)} \(empty: 0 bytes\), '
        r'seg_map_path=.*ADE_training_00000002.png\): error: OpenCV', out)


def test_testing_names_label_values_outside_the_classes(ade, tmp_path):
    """mmseg's metric would ignore them without a word."""
    root, config = ade
    labels = paint_labels(root + ADE_LABELS.format(split='validation', i=1),
                          200)
    out = failure('test.py', config,
                  tiny_checkpoint(config, str(tmp_path / 'tiny.pth')),
                  '--work-dir', str(tmp_path / 'work'))
    assert f'DatasetError: {labels}: {LABELS_200}' in out


def test_training_set_names_label_values_outside_the_classes(tmp_path):
    """Training would end in CrossEntropyLoss's ``IndexError: Target 199
    is out of bounds``."""
    root = write_tiny_ade(str(tmp_path) + '/', num_images=2)
    labels = paint_labels(root + ADE_LABELS.format(split='training', i=1),
                          200)
    dataset = ade_dataset(root, 'train_dataloader')
    dataset[0]
    with pytest.raises(DatasetError, match=re.escape(
            f'{labels}: {LABELS_200}')):
        dataset[1]


def test_testing_names_an_annotation_file_cut_short(tmp_path):
    root = write_tiny_coco(str(tmp_path / 'coco') + '/')
    annotations = cut(root + 'annotations/instances_val.json')
    config = write_config(str(tmp_path / 'det.py'), DETECTION, root)
    out = failure('test.py', config,
                  tiny_checkpoint(config, str(tmp_path / 'tiny.pth')),
                  '--work-dir', str(tmp_path / 'work'))
    assert re.search(
        rf'DatasetError: Building CocoDataset \(ann_file={annotations}, '
        rf'data_root={root}\) failed: JSONDecodeError: .* line 1 column '
        r'\d+', out)


def ade_dataset(root: str, loader: str):
    """Our segmentation config's dataset of ``loader`` on data in
    ``root``, built as the Runner builds it."""
    cfg = load_config(SEGMENTATION_BASE)
    init_default_scope('mmseg')
    split = 'training' if loader == 'train_dataloader' else 'validation'
    cfg[loader].dataset.update(data_root=root, data_prefix=dict(
        img_path=f'images/{split}', seg_map_path=f'annotations/{split}'))
    return build_dataset(cfg[loader].dataset)


@pytest.mark.parametrize('problem', ['empty', 'not a PNG'])
def test_undecodable_label_map_names_the_file(problem, tmp_path):
    root = write_tiny_ade(str(tmp_path) + '/', num_images=2)
    path = root + ADE_LABELS.format(split='validation', i=1)
    if problem == 'empty':
        empty(path)
    else:
        with open(path, 'wb') as f:
            f.write(b'GIF89a, not a PNG at all')
    dataset = ade_dataset(root, 'test_dataloader')
    assert dataset[0]['data_samples'].gt_sem_seg.data.shape == (1, 96, 128)
    with pytest.raises(DatasetError, match=(
            r'LoadAnnotations failed on sample 1 of ADE20KDataset \(img_path'
            rf'=.*ADE_validation_00000001.jpg, seg_map_path={path}')):
        dataset[1]


def test_training_set_names_an_annotation_file_cut_short(tmp_path):
    root = write_tiny_coco(str(tmp_path) + '/')
    path = cut(root + 'annotations/instances_train.json')
    cfg = load_config(DETECTION_BASE)
    init_default_scope('mmdet')
    cfg.train_dataloader.dataset.update(
        data_root=root, ann_file='annotations/instances_train.json')
    with pytest.raises(DatasetError, match=(
            rf'Building CocoDataset \(ann_file={path}, data_root={root}\) '
            'failed: JSONDecodeError')):
        build_dataset(cfg.train_dataloader.dataset)


def test_labels_of_the_classes_and_the_ignore_index_pass(tmp_path):
    """150 is ADE's last class (149 after reduce_zero_label), 0 becomes
    the ignore index 255."""
    root = write_tiny_ade(str(tmp_path) + '/', num_images=1)
    paint_labels(root + ADE_LABELS.format(split='validation', i=0), 150)
    sample = ade_dataset(root, 'test_dataloader')[0]
    values = sample['data_samples'].gt_sem_seg.data.unique().tolist()
    assert 149 in values and 255 in values and max(values) == 255


def test_wrappers_and_a_switched_pipeline_name_their_bad_samples(tmp_path):
    """The dataset inside a MultiImageMixDataset names its samples' files,
    and after a hook (mmdet's PipelineSwitchHook) gives the training set
    a new pipeline, CheckedRunner names that pipeline's errors too."""
    from mmdet.datasets import MultiImageMixDataset
    from mmengine.dataset import Compose

    from mmpoolformer.config_checks import CheckedRunner, name_sample_errors
    from mmpoolformer.config_checks.bad_data import NamedErrorsCompose
    root = write_tiny_ade(str(tmp_path / 'ade') + '/', num_images=2)
    inner = ade_dataset(root, 'train_dataloader')
    inner.pipeline = Compose(inner.pipeline.transforms)
    mixed = name_sample_errors(MultiImageMixDataset(inner, pipeline=[]))
    assert type(mixed.dataset.pipeline) is NamedErrorsCompose
    config = write_config(str(tmp_path / 'seg.py'), SEGMENTATION, root)
    cfg = load_config(config)
    cfg.work_dir = str(tmp_path / 'work')
    # A visualizer of its own: mmengine keeps named instances for the
    # process, and a later in-process run would log into this work dir.
    cfg.visualizer['name'] = 'test_bad_data_switched_pipeline'
    runner = CheckedRunner.from_cfg(cfg)
    dataset = runner.train_dataloader.dataset
    assert type(dataset.pipeline) is NamedErrorsCompose
    dataset.pipeline = Compose([dict(type='LoadImageFromFile')])
    runner.call_hook('before_train_epoch')
    assert type(dataset.pipeline) is NamedErrorsCompose
    empty(dataset.get_data_info(0)['img_path'])
    with pytest.raises(DatasetError, match='LoadImageFromFile failed on '
                       r'sample 0 of ADE20KDataset \(img_path=.*empty'):
        dataset[0]
