"""The paper's MetaFormer variants: every token mixer, norm and activation."""
import pytest
import torch
from torch import nn

from mmpoolformer.libraries import load_config
from mmpoolformer.models import PoolFormer
from mmpoolformer.models.backbones import token_mixers
from mmpoolformer.models.builder import build_token_mixer
from mmpoolformer.registry import TOKEN_MIXERS
from tests.tool_support import REPO

TINY = dict(layers=[1, 1, 1, 1], embed_dims=[32, 64, 96, 128])
MIXER_CFGS = {
    'pooling': 'pooling',
    'identity': 'identity',
    'dwconv': dict(type='dwconv', kernel_size=5),
    'attention': 'attention',
    'spatial_mlp': dict(type='spatial_mlp', token_size=(4, 4)),
    'sepconv': 'sepconv',
}


def test_every_registered_mixer_is_covered():
    ours = {name for name, mixer in TOKEN_MIXERS.module_dict.items()
            if mixer.__module__ == token_mixers.__name__}  # not a user's
    assert set(MIXER_CFGS) == ours


@pytest.mark.parametrize('name', sorted(MIXER_CFGS))
def test_mixer_keeps_shape_and_passes_gradients(name):
    torch.manual_seed(0)
    mixer = build_token_mixer(MIXER_CFGS[name], dim=64)
    x = torch.randn(2, 64, 4, 4, requires_grad=True)
    out = mixer(x)
    assert out.shape == x.shape
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for param in mixer.parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_mixers_differ_in_what_they_mix():
    x = torch.zeros(1, 32, 5, 5)
    x[0, :, 2, 2] = 1.  # one active token
    pooled = build_token_mixer('pooling', 32)(x)
    assert pooled[0, 0, 1, 1] == pytest.approx(1 / 9)  # spread to neighbours
    assert pooled[0, 0, 0, 0] == 0  # but not beyond the window
    assert torch.equal(build_token_mixer('identity', 32)(x), x)
    attention = build_token_mixer('attention', 32)
    out = attention(torch.randn(1, 32, 5, 5))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('name', sorted(MIXER_CFGS))
def test_backbone_with_each_mixer_in_all_stages(name):
    cfg = MIXER_CFGS[name]
    if name == 'spatial_mlp':  # one token grid per stage for a 64x64 input
        cfg = [dict(type='spatial_mlp', token_size=(s, s))
               for s in (16, 8, 4, 2)]
    model = PoolFormer(TINY, token_mixers=cfg)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [o.shape[1:] for o in outs] == [
        (32, 16, 16), (64, 8, 8), (96, 4, 4), (128, 2, 2)]
    sum(o.mean() for o in outs).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_hybrid_pooling_then_attention_accepts_any_size():
    model = PoolFormer('s12', token_mixers=['pooling', 'pooling',
                                            'attention', 'attention'])
    assert isinstance(model.stages[2].blocks[0].token_mixer,
                      TOKEN_MIXERS.get('attention'))
    assert isinstance(model.stages[0].blocks[0].token_mixer,
                      TOKEN_MIXERS.get('pooling'))
    for size in [(64, 64), (75, 101)]:
        outs = model(torch.randn(1, 3, *size))
        assert len(outs) == 4 and torch.isfinite(outs[-1]).all()


def test_spatial_mlp_refuses_other_sizes_clearly():
    model = PoolFormer(TINY, token_mixers=[
        'pooling', 'pooling', dict(type='spatial_mlp', token_size=(4, 4)),
        'pooling'])
    model(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match=r'needs 64x64 inputs.*4x4 token '
                       r'grid.*96x96 input gives 6x6'):
        model(torch.randn(1, 3, 96, 96))
    with pytest.raises(ValueError, match=r'\(4, 4\).*fixed input size'):
        model.stages[2].blocks[0].token_mixer(torch.randn(1, 96, 6, 6))
    with pytest.raises(ValueError, match='token_size'):
        PoolFormer(TINY, token_mixers='spatial_mlp')


def test_bad_mixer_configs_are_explained():
    with pytest.raises(ValueError, match="Unknown token mixer 'conv'.*"
                       "'attention'"):
        PoolFormer(TINY, token_mixers='conv')
    with pytest.raises(ValueError, match='one entry per stage'):
        PoolFormer(TINY, token_mixers=['pooling', 'attention'])
    with pytest.raises(ValueError, match='head_dim'):
        build_token_mixer(dict(type='attention', head_dim=48), 64)


def test_pool_size_reaches_the_default_mixer():
    model = PoolFormer(TINY, pool_size=5)
    assert model.stages[0].blocks[0].token_mixer.pool.kernel_size == 5
    model = PoolFormer(TINY, pool_size=7, token_mixers='pooling')
    assert model.stages[3].blocks[0].token_mixer.pool.kernel_size == 7


@pytest.mark.parametrize('norm_cfg,norm_type', [
    (dict(type='GN', num_groups=1), nn.GroupNorm),
    (dict(type='LN2d'), None),
    (dict(type='BN'), nn.BatchNorm2d)])
@pytest.mark.parametrize('act', ['GELU', 'ReLU', 'SiLU'])
def test_norm_and_activation_ablations(norm_cfg, norm_type, act):
    model = PoolFormer(TINY, norm_cfg=norm_cfg, act_cfg=dict(type=act))
    block = model.stages[0].blocks[0]
    if norm_type is not None:
        assert type(block.norm1) is norm_type
    assert type(block.mlp.act).__name__ == act
    outs = model(torch.randn(2, 3, 32, 32))
    assert all(torch.isfinite(o).all() for o in outs)


def test_channel_layer_norm_normalises_channels_only():
    model = PoolFormer(TINY, norm_cfg=dict(type='LN2d'))
    norm = model.stages[0].blocks[0].norm1
    x = torch.randn(2, 32, 3, 3) * 4 + 2
    y = norm(x)
    torch.testing.assert_close(y.mean(1), torch.zeros(2, 3, 3),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(1, unbiased=False),
                               torch.ones(2, 3, 3), atol=1e-3, rtol=0)


@pytest.mark.parametrize('config,params', [
    ('detection/retinanet_poolformer_hybrid_s12.py', 26.27),
    ('segmentation/fpn_poolformer_hybrid_s12.py', 20.29)])
def test_hybrid_configs_build_and_run(config, params):
    import importlib
    import os.path as osp

    from mmengine.registry import init_default_scope

    cfg = load_config(osp.join(REPO, 'configs', config))
    init_default_scope(cfg.default_scope)
    models = importlib.import_module(f'{cfg.default_scope}.registry').MODELS
    model = models.build(cfg.model)
    mixers = [type(model.backbone.stages[i].blocks[0].token_mixer).__name__
              for i in range(4)]
    assert mixers == ['Pooling', 'Pooling', 'Attention', 'Attention']
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert count == pytest.approx(params, abs=0.005)
    feats = model.extract_feat(torch.randn(1, 3, 96, 160))
    assert all(torch.isfinite(f).all() for f in feats)


def test_pool_size_reaches_pooling_mixers_by_name_and_by_dict():
    by_name = PoolFormer(arch='s12', pool_size=5, token_mixers='pooling')
    by_dict = PoolFormer(arch='s12', pool_size=5,
                         token_mixers=dict(type='pooling'))
    own = PoolFormer(arch='s12', pool_size=5,
                     token_mixers=dict(type='pooling', pool_size=7))
    for model, size in ((by_name, 5), (by_dict, 5), (own, 7)):
        pools = [m for m in model.modules()
                 if isinstance(m, token_mixers.Pooling)]
        assert pools and {p.pool.kernel_size for p in pools} == {size}
