"""PoolFormer's mm-style options: archs, outputs, freezing, checkpointing."""
import pytest
import torch
from torch import nn

from mmpoolformer.models import ARCH_SETTINGS, LEGACY_BUILDERS, PoolFormer


def test_dense_outputs_have_strides_4_to_32():
    model = PoolFormer('s12').eval()
    x = torch.randn(1, 3, 100, 130)
    outs = model(x)
    assert isinstance(outs, tuple) and len(outs) == 4
    size = [(100 + 4 - 7) // 4 + 1, (130 + 4 - 7) // 4 + 1]  # the stem
    assert model.out_channels == ARCH_SETTINGS['s12']['embed_dims']
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
    assert norms == {'norm2', 'norm6'}
    assert PoolFormer('s12', out_indices=(-1,)).out_indices == (3,)


@pytest.mark.parametrize('bad', [(0, 4), (5,), ()])
def test_out_of_range_out_indices_list_valid_values(bad):
    with pytest.raises(ValueError, match=r'\(0, 1, 2, 3\)'):
        PoolFormer('s12', out_indices=bad)


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        PoolFormer('s13')
    for arch in ARCH_SETTINGS:
        assert arch in str(err.value)


def test_custom_arch_dict():
    model = PoolFormer(dict(layers=[1, 1, 1, 1], embed_dims=[8, 16, 24, 32],
                            mlp_ratios=[2, 2, 2, 2]))
    outs = model(torch.randn(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [8, 16, 24, 32]
    assert model.network[0][0].mlp.fc1.out_channels == 16
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
    (-1, []), (0, ['patch_embed']),
    (2, ['patch_embed', 'network.0', 'norm0', 'network.1', 'network.2',
         'norm2'])])
def test_frozen_stages(frozen, expect_frozen):
    model = PoolFormer('s12', frozen_stages=frozen)
    model.train()
    frozen_prefixes = {n.rsplit('.', 1)[0] if n.startswith('norm')
                       else '.'.join(n.split('.')[:2]) if
                       n.startswith('network') else n.split('.')[0]
                       for n, p in model.named_parameters()
                       if not p.requires_grad}
    assert frozen_prefixes == set(expect_frozen)
    for name in expect_frozen:
        assert not model.get_submodule(name).training
    if frozen >= 0:
        assert model.network[4].training


def test_norm_eval_keeps_batchnorm_in_eval_mode():
    model = PoolFormer('s12', norm_cfg=dict(type='BN'), norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(bn.training for bn in bns)
    assert model.network[0].training


def test_with_cp_gives_same_outputs_and_grads():
    torch.manual_seed(0)
    plain = PoolFormer('s12')
    ckpt = PoolFormer('s12', with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    sum(o.sum() for o in plain(x)).backward()
    grad_plain = x.grad.clone()
    x.grad = None
    sum(o.sum() for o in ckpt(x)).backward()
    torch.testing.assert_close(x.grad, grad_plain)


def test_legacy_builders_match_original_configs():
    model = LEGACY_BUILDERS['poolformer_m36_feat'](style='pytorch')
    assert isinstance(model, PoolFormer) and model.fork_feat
    assert model.embed_dims == ARCH_SETTINGS['m36']['embed_dims']
    assert set(LEGACY_BUILDERS) == {f'poolformer_{a}_feat'
                                    for a in ARCH_SETTINGS}


def test_classifier_is_the_head_on_the_features():
    torch.manual_seed(0)
    model = PoolFormer('s12', fork_feat=False, num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert [f.shape[1] for f in feats] == model.out_channels == [512]
        torch.testing.assert_close(model.forward_head(feats), model(x),
                                   rtol=0, atol=0)
    assert model(x).shape == (2, 7)
