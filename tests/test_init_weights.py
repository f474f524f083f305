"""Initialisation lives in ``PoolFormer.init_weights``: the original's
scheme from scratch, or ``Pretrained`` in every form mmengine accepts."""
import pytest
import torch
from mmengine.model import BaseModule
from torch import nn

from mmpoolformer.models import PoolFormer

TINY = dict(layers=[1, 1, 1, 1], embed_dims=[8, 16, 32, 64])
HYBRID = ['pooling', 'pooling', 'attention', 'attention']


def _linear_and_mlp_weights(model):
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or name.endswith(('mlp.fc1',
                                                           'mlp.fc2')):
            yield name, module


def test_constructor_builds_and_init_weights_initialises():
    torch.manual_seed(0)
    model = PoolFormer('s12', token_mixers=HYBRID, fork_feat=False)
    fc1 = model.stages[0].blocks[0].mlp.fc1.weight
    assert fc1.std() > .05  # PyTorch's default, not yet the original's
    stem = model.stem.conv.weight.clone()
    model.init_weights()
    for name, module in _linear_and_mlp_weights(model):
        assert module.weight.std().item() == pytest.approx(.02, rel=.15), \
            name
        assert module.bias is None or not module.bias.any(), name
    # the stem keeps PyTorch's default, as in the original
    assert torch.equal(model.stem.conv.weight, stem)


def _detector_file(tmp_path, model):
    """A whole-detector file: the backbone's tensors under 'backbone.'."""
    state = {f'backbone.{k}': torch.full_like(v, 0.5)
             for k, v in model.state_dict().items() if k.startswith('stages')}
    state['neck.conv.weight'] = torch.zeros(3, 3)
    path = tmp_path / 'detector.pth'
    torch.save(dict(state_dict=state), str(path))
    return str(path)


def test_pretrained_with_prefix_and_other_init_cfgs(tmp_path):
    path = _detector_file(tmp_path, PoolFormer(TINY))
    model = PoolFormer(TINY, init_cfg=[
        dict(type='Constant', val=0.25, layer='Conv2d'),
        dict(type='Pretrained', checkpoint=path, prefix='backbone.')])
    model.init_weights()
    # Pretrained last: the network comes from the file ...
    assert (model.stages[0].blocks[0].mlp.fc1.weight == 0.5).all()
    # ... and what the file lacks keeps the other init_cfg's value.
    assert (model.stem.conv.weight == 0.25).all()


def test_parent_module_initialises_the_backbone(tmp_path):
    path = _detector_file(tmp_path, PoolFormer(TINY))

    class Detector(BaseModule):

        def __init__(self):
            super().__init__()
            self.backbone = PoolFormer(TINY, init_cfg=dict(
                type='Pretrained', checkpoint=path, prefix='backbone'))

    detector = Detector()
    detector.init_weights()
    assert (detector.backbone.stages[3].blocks[0].layer_scale1.scale
            == .5).all()


def test_a_prefix_that_matches_nothing_is_named(tmp_path):
    path = _detector_file(tmp_path, PoolFormer(TINY))
    model = PoolFormer(TINY, init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='encoder.'))
    with pytest.raises(Exception, match="prefix 'encoder.'"):
        model.init_weights()
