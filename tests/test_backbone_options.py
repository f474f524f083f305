"""The backbone's mm-style options: archs, outputs, freezing,
checkpointing, the classifier."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmpoolformer.models import (LEGACY_BUILDERS, POOLFORMER_ARCHS, MetaFormer,
                                 PoolFormer)

S12 = POOLFORMER_ARCHS['poolformer_s12']


def test_dense_outputs_have_strides_4_to_32():
    model = PoolFormer('s12').eval()
    x = torch.randn(1, 3, 100, 130)
    outs = model(x)
    assert isinstance(outs, tuple) and len(outs) == 4
    size = [(100 + 4 - 7) // 4 + 1, (130 + 4 - 7) // 4 + 1]  # the stem
    assert model.out_channels == S12['embed_dims']
    for out, dim in zip(outs, model.out_channels):
        assert out.shape == (1, dim, *size)
        size = [(s + 2 - 3) // 2 + 1 for s in size]  # each downsampling
    assert outs[0].shape[-2:] == (25, 32) and outs[3].shape[-2:] == (4, 4)


def test_out_indices_count_stages_and_build_only_their_norms():
    model = PoolFormer('s12', out_indices=(1, 3))
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == model.out_channels == [128, 512]
    norms = {n.split('.')[0] for n, _ in model.named_parameters()
             if n.startswith('norm')}
    assert norms == {'norm1', 'norm3'}
    assert PoolFormer('s12', out_indices=(-1,)).out_indices == (3,)


@pytest.mark.parametrize('bad', [(0, 4), (5,), ()])
def test_out_of_range_out_indices_list_valid_values(bad):
    with pytest.raises(ValueError, match=r'\(0, 1, 2, 3\)'):
        PoolFormer('s12', out_indices=bad)


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        PoolFormer('s13')
    for arch in POOLFORMER_ARCHS:
        assert arch in str(err.value)
    assert "did you mean" in str(err.value) and "'s12'" in str(err.value)


def test_custom_arch_dict():
    model = PoolFormer(dict(layers=[1, 1, 1, 1], embed_dims=[8, 16, 24, 32],
                            mlp_ratios=[2, 2, 2, 2]))
    outs = model(torch.randn(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [8, 16, 24, 32]
    assert model.stages[0].blocks[0].mlp.fc1.out_channels == 16
    with pytest.raises(ValueError, match='embed_dims'):
        PoolFormer(dict(layers=[1, 1, 1, 1]))


@pytest.mark.parametrize('arch,params', [
    ('s12', 11.9), ('s24', 21.4), ('s36', 30.9), ('m36', 56.2), ('m48', 73.5)])
def test_classification_params_match_paper(arch, params):
    model = PoolFormer(arch, fork_feat=False)
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert count == pytest.approx(params, abs=0.1)


def test_fork_last3_is_a_plain_argument(monkeypatch):
    monkeypatch.setenv('FORK_LAST3', '1')  # PoolFormer never reads it
    assert isinstance(PoolFormer('s12').norm0, nn.GroupNorm)
    assert isinstance(PoolFormer('s12', fork_last3=True).norm0, nn.Identity)


def test_legacy_builders_read_fork_last3_env_with_a_deprecation(
        monkeypatch):
    build = LEGACY_BUILDERS['poolformer_s12_feat']
    monkeypatch.setenv('FORK_LAST3', '1')
    with pytest.warns(FutureWarning, match='argument fork_last3=True'):
        assert isinstance(build().norm0, nn.Identity)
    # the argument wins, and then the environment is not read at all
    assert isinstance(build(fork_last3=False).norm0, nn.GroupNorm)
    monkeypatch.delenv('FORK_LAST3')
    assert isinstance(build().norm0, nn.GroupNorm)


@pytest.mark.parametrize('value', ['0', 'false', 'False', ''])
def test_fork_last3_env_off_values(value, monkeypatch):
    monkeypatch.setenv('FORK_LAST3', value)
    with pytest.warns(FutureWarning, match='fork_last3=False'):
        model = LEGACY_BUILDERS['poolformer_s12_feat']()
    assert isinstance(model.norm0, nn.GroupNorm)


def test_fork_last3_leaves_no_parameter_unused_from_level_1():
    model = PoolFormer('s12', fork_last3=True)
    outs = model(torch.randn(1, 3, 64, 64))
    sum(o.sum() for o in outs[1:]).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []


@pytest.mark.parametrize('frozen,expect_frozen', [
    (-1, []), (0, ['stem']),
    (2, ['stem', 'stages.0', 'norm0', 'stages.1', 'norm1'])])
@pytest.mark.parametrize('arch', ['s12', 'caformer_s18'])
def test_frozen_stages(frozen, expect_frozen, arch):
    model = MetaFormer(arch, frozen_stages=frozen)
    model.train()
    frozen_prefixes = {'.'.join(n.split('.')[:2]) if n.startswith('stages')
                       else n.split('.')[0]
                       for n, p in model.named_parameters()
                       if not p.requires_grad}
    assert frozen_prefixes == set(expect_frozen)
    for name in expect_frozen:
        assert not model.get_submodule(name).training
    if frozen >= 0:
        assert model.stages[2].training


def test_norm_eval_keeps_batchnorm_in_eval_mode():
    model = PoolFormer('s12', norm_cfg=dict(type='BN'), norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(bn.training for bn in bns)
    assert model.stages[0].training


@pytest.mark.parametrize('arch', ['s12', 'caformer_s18'])
@pytest.mark.parametrize('fast_path', [False, None])
def test_with_cp_gives_same_outputs_and_grads(arch, fast_path):
    """Checkpointed blocks recompute their forward in the backward: every
    output and every parameter's gradient are those of the plain model."""
    torch.manual_seed(0)
    plain = MetaFormer(arch, fast_path=fast_path, drop_path_rate=0.)
    ckpt = MetaFormer(arch, fast_path=fast_path, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 64)
    outs = {}
    for name, model in (('plain', plain), ('ckpt', ckpt)):
        outs[name] = model(x)
        sum(o.square().sum() for o in outs[name]).backward()
    for got, want in zip(outs['ckpt'], outs['plain']):
        assert torch.equal(got, want)
    grads = dict(plain.named_parameters())
    for name, param in ckpt.named_parameters():
        assert param.grad is not None, name
        assert torch.equal(param.grad, grads[name].grad), name


def test_legacy_builders_match_original_configs():
    model = LEGACY_BUILDERS['poolformer_m36_feat'](style='pytorch')
    assert isinstance(model, PoolFormer) and model.fork_feat
    assert model.embed_dims == POOLFORMER_ARCHS['poolformer_m36']['embed_dims']
    assert set(LEGACY_BUILDERS) == {f'{a}_feat' for a in POOLFORMER_ARCHS}


@pytest.mark.parametrize('arch', ['s12', 'poolformerv2_s12', 'caformer_s18'])
def test_classifier_head_computes_as_its_original(arch):
    """PoolFormer's head normalises the map, then pools; the baselines'
    pool, then normalise (LayerNorm); each then classifies."""
    torch.manual_seed(0)
    model = MetaFormer(arch, fork_feat=False, num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert [f.shape[1] for f in feats] == model.out_channels == [512]
        logits = model(x)
        head, feat = model.head, feats[0]
        if arch == 's12':
            norm = head.norm
            pooled = F.group_norm(feat, 1, norm.weight, norm.bias, norm.eps)
            expected = head.fc(pooled.mean((2, 3)))
        else:
            pooled = F.layer_norm(feat.mean((2, 3)), (512, ),
                                  head.norm.weight, head.norm.bias, 1e-6)
            expected = head.fc(pooled)
    assert logits.shape == (2, 7)
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-5)


def test_metaformer_and_poolformer_are_two_faces_of_one_class():
    assert issubclass(PoolFormer, MetaFormer)
    assert PoolFormer().arch_name == 'poolformer_s12'
    assert MetaFormer().arch_name == 'caformer_s18'
    assert MetaFormer('poolformer_s12').settings == PoolFormer('s12').settings
    # a custom dict starts from the face's family
    custom = dict(layers=[1, 1, 1, 1], embed_dims=[8, 16, 24, 32])
    assert PoolFormer(custom).settings['act_cfg'] == dict(type='GELU')
    assert MetaFormer(custom).settings['act_cfg'] == dict(type='StarReLU')
