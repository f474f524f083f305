"""model-index.yml and the metafiles: every config has one entry, every
entry names an existing config, and its parameters are those of the model
the config builds; the paper's figures come back beside measured ones."""
import glob
import importlib
import os.path as osp

import pytest

from mmpoolformer.libraries import load_config
from mmpoolformer.model_zoo.metafiles import (compare_with_paper, find_model,
                                              load_model_index)
from tests.tool_support import REPO

INDEX = load_model_index(osp.join(REPO, 'model-index.yml'))
MODELS = {model['Name']: model for model in INDEX['Models']}
# Every config a user runs; `_base_` folders hold pieces of configs.
CONFIGS = sorted(osp.relpath(path, REPO) for path in glob.glob(
    osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)


def test_every_config_has_one_entry_and_every_entry_a_config():
    named = [model['Config'] for model in INDEX['Models']]
    assert sorted(named) == CONFIGS
    assert len(MODELS) == len(named)  # unique names
    # find_model matches by file name, so those must be unique too.
    assert len({osp.basename(c) for c in CONFIGS}) == len(CONFIGS)


# Each paper's models and where their ImageNet files are released.
PAPER_WEIGHTS = {
    'https://arxiv.org/abs/2111.11418':
    'https://github.com/sail-sg/poolformer/releases/',
    # MetaFormer Baselines for Vision (PoolFormerV2, ConvFormer, CAFormer)
    'https://arxiv.org/abs/2210.13452':
    'https://huggingface.co/sail/dl/resolve/main/',
}


def test_entries_name_their_collection_paper_and_weights():
    collections = {c['Name']: c for c in INDEX['Collections']}
    for model in INDEX['Models']:
        collection = collections[model['In Collection']]
        paper = collection['Paper']['URL']
        assert paper in PAPER_WEIGHTS
        assert osp.isfile(osp.join(REPO, collection['Code']['URL']))
        metadata = model['Metadata']
        assert {'Training Data', 'Parameters', 'FLOPs'} <= set(metadata)
        if metadata['Training Data'] in ('COCO', 'ADE20K'):
            assert metadata['Pretrained Weights'].startswith(
                PAPER_WEIGHTS[paper])
        assert {'Backbone', 'FLOPs Input'} <= set(metadata)
        # Every entry names its tasks and metrics (the model-zoo tables'
        # rows); published figures (not null) come with sail-sg's trained
        # checkpoint.
        figures = [value for result in model['Results']
                   for value in result['Metrics'].values()]
        assert figures, model['Name']
        published = any(value is not None for value in figures)
        assert published == ('Weights' in model), model['Name']


@pytest.mark.parametrize('config', CONFIGS)
def test_params_are_those_of_the_built_model(config):
    """Built through the library's registry, without weights."""
    model_entry = find_model(config, INDEX)
    cfg = load_config(osp.join(REPO, config))
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    model = registry.MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert params == pytest.approx(
        model_entry['Metadata']['Parameters'] / 1e6, abs=0.05)


def test_measured_metrics_beside_the_papers():
    model = MODELS['mask_rcnn_poolformer_s12']
    line = compare_with_paper(
        model, {'coco/bbox_mAP': 0.371, 'coco/segm_mAP': 0.35})
    assert line == ('mask_rcnn_poolformer_s12 on COCO: box AP 37.1 (paper '
                    '37.3, -0.2), mask AP 35.0 (paper 34.6, +0.4)')
    line = compare_with_paper(MODELS['fpn_poolformer_s12'], {'aAcc': 70.0})
    assert line == ("fpn_poolformer_s12 on ADE20K: mIoU not measured "
                    "(paper 37.2; no 'mIoU' among the results)")
    assert 'no figure' in compare_with_paper(
        MODELS['fpn_poolformer_s12_demo'], {'mIoU': 40.0})


def test_find_model_by_config_file_name():
    config = osp.join(REPO, 'configs', 'segmentation', 'fpn_poolformer_m36.py')
    assert find_model(config, INDEX)['Name'] == 'fpn_poolformer_m36'
    assert find_model('/elsewhere/tiny.py', INDEX) is None
