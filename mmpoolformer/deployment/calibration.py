"""Calibration batches for post-training quantization: photos of the
config's own training set through its test pipeline and the model's data
preprocessor, the batches the exported graph takes."""
import copy
import importlib
from typing import List

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn

from .predict import test_pipeline


def _innermost(dataset: dict) -> dict:
    """The dataset a wrapper (RepeatDataset, ClassBalancedDataset) holds."""
    while 'dataset' in dataset and 'pipeline' not in dataset:
        dataset = dataset['dataset']
    return dataset


def calibration_batches(cfg: Config, preprocessor: nn.Module,
                        count: int) -> List[torch.Tensor]:
    """The first ``count`` photos of ``cfg``'s training set as the graph's
    inputs (one ``1 x 3 x H x W`` batch each): the test pipeline's resize
    and the data preprocessor's normalisation and padding, no
    augmentation. ``preprocessor`` is the model's data preprocessor."""
    if count < 1:
        raise ValueError(f'--calib {count}: give at least 1 photo.')
    init_default_scope(cfg.default_scope)
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    dataset_cfg = copy.deepcopy(_innermost(cfg.train_dataloader.dataset))
    dataset_cfg['pipeline'] = test_pipeline(cfg)
    dataset = registry.DATASETS.build(dataset_cfg)
    if len(dataset) < count:
        raise ValueError(
            f'--calib {count}: the training set of the config has only '
            f'{len(dataset)} photos; give --calib {len(dataset)} or fewer.')
    batches = []
    with torch.no_grad():
        for index in range(count):
            data = preprocessor(pseudo_collate([dataset[index]]), False)
            batches.append(data['inputs'].float().contiguous())
    return batches
