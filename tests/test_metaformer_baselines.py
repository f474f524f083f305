"""The MetaFormer baselines (PoolFormerV2, ConvFormer, CAFormer): their
weights load through ``init_cfg=Pretrained`` in both released layouts, the
fast path trains as the original operations, and the dense-backbone options.
``tests/test_family_parity.py`` checks every arch against the original."""
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmpoolformer.checkpoints.weight_files import CheckpointError
from mmpoolformer.checkpoints.weight_layouts import detect_format
from mmpoolformer.config_checks import check_wiring
from mmpoolformer.config_checks.model_wiring import WiringError
from mmpoolformer.libraries import load_config
from mmpoolformer.models import BASELINE_ARCHS, MetaFormer
from mmpoolformer.models.backbones import metaformer
from tests import reference_metaformer_baselines as ref
from tests.model_support import BIG, built_empty, original_model
from tests.tool_support import REPO

SQUARE, NON_SQUARE, SMALL = (224, 224), (96, 128), (64, 96)
TINY_CAFORMER = dict(BASELINE_ARCHS['caformer_s18'], layers=[1, 1, 2, 1],
                     embed_dims=[32, 32, 64, 64])


def reference(arch: str) -> nn.Module:
    """The original model, drawn with weights of std .02."""
    return original_model(arch, std=.02).eval()


def timm_layout(state_dict: dict, arch: str) -> dict:
    """An original file in timm's layout, as timm's ``checkpoint_filter_fn``
    writes it: renamed, with 1x1 convolutions in the stages that do not
    attend (timm runs those channels-first)."""
    mixers = ref.ARCHS[arch]['token_mixers']
    attending = [i for i, mixer in enumerate(mixers)
                 if mixer is ref.Attention] if isinstance(mixers, list) \
        else []
    out = {}
    for key, value in state_dict.items():
        key = re.sub(r'downsample_layers.([0-9]+)', r'stages.\1.downsample',
                     key)
        key = re.sub(r'([0-9]+).([0-9]+)', r'\1.blocks.\2', key)
        key = key.replace('stages.0.downsample', 'stem')
        key = key.replace('post_norm', 'norm').replace('pre_norm', 'norm')
        key = re.sub(r'^head', 'head.fc', key)
        key = re.sub(r'^norm', 'head.norm', key)
        stage = re.match(r'stages\.(\d+)\.blocks', key)
        if value.dim() == 2 and stage and int(stage[1]) not in attending \
                and re.search(r'(pwconv\d|mlp\.fc\d)\.weight$', key):
            value = value[..., None, None]
        out[key] = value
    return out


def load_through_init_cfg(model: MetaFormer, state_dict: dict,
                          path) -> None:
    torch.save(state_dict, path)
    model.init_cfg = dict(type='Pretrained', checkpoint=str(path))
    model.init_weights()


@pytest.mark.parametrize('arch', ['poolformerv2_s12', 'convformer_s18',
                                  'caformer_s18', 'caformer_m36'])
def test_logits_match_original_in_both_layouts(arch, tmp_path):
    """Each layout loads strictly (every tensor of the model from the
    file), and gives the original's logits exactly, each at its own input
    size: the original's at 224x224 (64x96 for the big archs), timm's at
    96x128."""
    original = reference(arch)
    files = {'original': original.state_dict()}
    files['timm'] = timm_layout(files['original'], arch)
    sizes = {'original': SMALL if arch in BIG else SQUARE,
             'timm': NON_SQUARE}
    inputs = {size: torch.randn(1, 3, *size) for size in sizes.values()}
    with torch.no_grad():
        expected = {size: original(x) for size, x in inputs.items()}
    del original
    ours = built_empty(MetaFormer, arch, fork_feat=False,
                       fast_path=False).eval()
    for layout, state_dict in files.items():
        assert detect_format(state_dict) == layout
        load_through_init_cfg(ours, state_dict, tmp_path / f'{layout}.pth')
        with torch.no_grad():
            logits = ours(inputs[sizes[layout]])
        assert torch.equal(logits, expected[sizes[layout]]), layout


def test_caformer_attends_at_any_size(tmp_path):
    """Token grids that no window or patch size divides (50x34 at stride 4,
    13x9 at stride 16); and the dense maps, normalised per location, are
    the original's stage outputs."""
    original = reference('caformer_s18')
    ours = MetaFormer('caformer_s18', fork_feat=False).eval()
    load_through_init_cfg(ours, original.state_dict(), tmp_path / 'ca.pth')
    dense = MetaFormer('caformer_s18', out_indices=(2, 3)).eval()
    dense.load_state_dict(ours.state_dict(), strict=False)
    x = torch.randn(1, 3, 200, 136)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), original(x), rtol=0, atol=1e-5)
        maps = dense(x)
        y = x
        for i in range(4):
            y = original.stages[i](original.downsample_layers[i](y))
            if i == 2:
                stage2 = y
    for got, want in zip(maps, (stage2, y)):
        want = F.layer_norm(want, want.shape[-1:], eps=1e-6)
        torch.testing.assert_close(got, want.permute(0, 3, 1, 2), rtol=0,
                                   atol=1e-5)


@pytest.mark.parametrize('out_indices', [(0, 1, 2, 3), (1, 3)])
def test_dense_outputs(out_indices):
    model = MetaFormer('convformer_s18', out_indices=out_indices).eval()
    with torch.no_grad():
        maps = model(torch.randn(2, 3, 96, 128))
    dims, strides = [64, 128, 320, 512], [4, 8, 16, 32]
    assert model.out_channels == [dims[i] for i in out_indices]
    assert [tuple(m.shape) for m in maps] == [
        (2, dims[i], 96 // strides[i], 128 // strides[i])
        for i in out_indices]
    assert [n for n, _ in model.named_children() if n.startswith('norm')] \
        == [f'norm{i}' for i in out_indices]
    assert not hasattr(model, 'head')


def test_dense_backbone_loads_a_classification_file(tmp_path):
    original = reference('poolformerv2_s12')
    model = MetaFormer('poolformerv2_s12')
    load_through_init_cfg(model, original.state_dict(), tmp_path / 'c.pth')
    torch.testing.assert_close(model.stages[2].blocks[1].res_scale1.scale,
                               original.stages[2][1].res_scale1.scale)


@pytest.mark.parametrize('arch', [TINY_CAFORMER, 'poolformerv2_s12'])
def test_fast_path_trains_as_the_original_operations(arch):
    """The fast path (oneDNN's products for fp32 on the CPU, fused norms,
    scaled dot-product attention) gives the outputs and every gradient of
    ``fast_path=False``, up to float rounding."""
    torch.manual_seed(0)
    model = MetaFormer(arch, out_indices=(0, 1, 2, 3)).train()
    x = torch.randn(2, 3, 64, 96)

    def outputs_and_grads(fast_path):
        model.fast_path = fast_path
        model.zero_grad()
        outs = model(x)
        sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum()
            for o in outs).backward()
        return outs, {n: p.grad.clone() for n, p in model.named_parameters()}

    fast_outs, fast_grads = outputs_and_grads(None)
    plain_outs, plain_grads = outputs_and_grads(False)
    for got, expected in zip(fast_outs, plain_outs):
        assert not torch.equal(got, expected)  # another arithmetic
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    for name, expected in plain_grads.items():
        torch.testing.assert_close(fast_grads[name], expected, rtol=1e-4,
                                   atol=1e-4 * float(expected.abs().max()),
                                   msg=name)


def test_frozen_stages_and_norm_eval():
    model = MetaFormer('poolformerv2_s12', frozen_stages=2, norm_eval=True,
                       out_norm_cfg=dict(type='BN')).train()
    frozen = [model.stem, model.stages[0], model.stages[1], model.norm0,
              model.norm1]
    for module in frozen:
        assert not module.training
        assert not any(p.requires_grad for p in module.parameters())
    for module in (model.stages[2], model.norm2, model.stages[3]):
        assert all(p.requires_grad for p in module.parameters())
    # norm_eval: BatchNorm stays in eval mode, the rest trains
    assert not model.norm3.training and model.stages[3].training


def test_with_cp_and_drop_path(monkeypatch):
    torch.manual_seed(0)
    plain = MetaFormer(TINY_CAFORMER, out_indices=(3, ))
    checkpointed = MetaFormer(TINY_CAFORMER, out_indices=(3, ), with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    calls = []
    checkpoint = metaformer.activation_checkpoint
    monkeypatch.setattr(metaformer, 'activation_checkpoint',
                        lambda *a, **k: calls.append(1) or checkpoint(*a,
                                                                      **k))
    x = torch.randn(1, 3, 64, 64)
    for model in (plain, checkpointed):
        model(x)[0].sum().backward()
    assert len(calls) == 5  # each block of the checkpointed model, once
    for p, q in zip(plain.parameters(), checkpointed.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    rates = [getattr(b.drop_path, 'drop_prob', 0.) for s in
             MetaFormer(TINY_CAFORMER, drop_path_rate=.3).stages
             for b in s.blocks]
    assert rates == pytest.approx(torch.linspace(0, .3, 5).tolist())


def test_foreign_files_are_refused_by_name(tmp_path):
    model = MetaFormer('convformer_s18')
    other = MetaFormer('caformer_s18').state_dict()
    with pytest.raises(CheckpointError, match=r"(?s)'convformer_s18'.*no "
                       r'place in it: '
                       r'stages\.2\.blocks\.0\.token_mixer\.proj.*'
                       r'not in the file: .*token_mixer\.pwconv1'):
        load_through_init_cfg(model, other, tmp_path / 'caformer.pth')
    narrower = MetaFormer(dict(BASELINE_ARCHS['convformer_s18'],
                               embed_dims=[32, 64, 160, 256])).state_dict()
    with pytest.raises(CheckpointError, match=r'(?s)differ in shape, e\.g\.'
                       r'.*stem\.conv\.weight: \(32, 3, 7, 7\) in the file, '
                       r'\(64, 3, 7, 7\) in the model'):
        load_through_init_cfg(model, narrower, tmp_path / 'narrow.pth')
    poolformer_v1 = MetaFormer('poolformer_s12').state_dict()
    with pytest.raises(CheckpointError, match=r"(?s)no place in it: "
                       r'.*mlp\.fc1\.bias.*not in the file: '
                       r'stages\.0\.blocks\.0\.mlp\.act\.bias'):
        load_through_init_cfg(model, poolformer_v1, tmp_path / 'v1.pth')


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(ValueError, match="did you mean 'caformer_s18'.*"
                       'caformer_s18.*poolformerv2_m48'):
        MetaFormer('caformer_s19')


def test_misspelt_arch_keys_are_named():
    """A misspelt key would otherwise be dropped silently; PoolFormer's
    singular layer_scale_init_value serves every stage."""
    arch = dict(layers=[1] * 4, embed_dims=[8, 16, 32, 64])
    with pytest.raises(WiringError, match="arch dict has no key "
                       "'layer_scales'.*layer_scale_init_values"):
        MetaFormer(dict(arch, layer_scales=[1e-5] * 4))
    model = MetaFormer(dict(arch, layer_scale_init_value=1e-5))
    assert all(float(b.layer_scale1.scale[0]) == pytest.approx(1e-5)
               for s in model.stages for b in s.blocks)


def test_configs_are_wired_as_poolformer_ones():
    """The wiring check knows MetaFormer: its arguments, and the widths its
    out_indices give the neck."""
    config = osp.join(REPO, 'configs', 'detection',
                      'retinanet_poolformerv2_s12.py')
    with pytest.raises(WiringError, match=r"MetaFormer arch 'caformer_m36'"
                       r'.*outputs maps of \[192, 384, 576\] channels'):
        check_wiring(load_config(config, {'model.backbone.arch':
                                          'caformer_m36'}))
    with pytest.raises(WiringError, match="no argument 'fork_last'; did you "
                       "mean 'fork_last3'"):
        check_wiring(load_config(config,
                                 {'model.backbone.fork_last': True}))


def test_fast_star_relu_is_the_same_activation():
    """Without gradients in place, the same values; with them one addcmul,
    the same values up to rounding and the same gradients."""
    from mmpoolformer.models.backbones.activations import StarReLU
    from mmpoolformer.models.backbones.fast_path import _activation
    torch.manual_seed(0)
    act = StarReLU(scale_value=1.3, bias_value=-.2)
    x = torch.randn(64, 48)
    with torch.no_grad():
        assert torch.equal(_activation(act, x.clone()), act(x))
    x.requires_grad_()
    got = _activation(act, x)
    got.sum().backward()
    grads = [p.grad.clone() for p in (x, act.scale, act.bias)]
    for p in (x, act.scale, act.bias):
        p.grad = None
    expected = act(x)
    expected.sum().backward()
    torch.testing.assert_close(got, expected)
    for grad, p in zip(grads, (x, act.scale, act.bias)):
        torch.testing.assert_close(grad, p.grad)
