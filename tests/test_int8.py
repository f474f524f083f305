"""INT8 deployment (issue 32): the quantizable form of PoolFormer's blocks
computes the original function."""
import copy
import os.path as osp

import pytest
import torch

from mmpoolformer.deployment import make_exportable
from mmpoolformer.deployment.export import TensorOutputs
from mmpoolformer.deployment.quantizable import (QuantizableBlock,
                                                 make_quantizable)
from mmpoolformer.testing import largest_difference
from tests.model_support import build
from tests.tool_support import REPO

CONFIGS = {
    'fpn': osp.join(REPO, 'configs', 'segmentation', 'fpn_poolformer_s12.py'),
    'retinanet': osp.join(REPO, 'configs', 'detection',
                          'retinanet_poolformer_s12.py'),
}


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
