"""``fast_path=False`` against each original model's code, transcribed in
``tests/reference_*.py``: for every arch of the family the outputs are
equal (``torch.equal``), at two input sizes, and so are the gradients of
every parameter, for one arch of each original."""
import pytest
import torch
from torch import nn

from mmpoolformer.checkpoints.weight_layouts import to_ours
from mmpoolformer.models import (ARCHS, HYBRID_ARCHS, POOLFORMER_ARCHS,
                                 MetaFormer)
from tests import reference_poolformer as poolformer_ref
from tests.model_support import BIG, built_empty, original_model

# Sizes that are not multiples of 32, to exercise padding at every stage.
SIZES = [(1, 3, 97, 75), (2, 3, 64, 64)]


def ours_from(original: nn.Module, arch: str, **kwargs) -> MetaFormer:
    ours = built_empty(MetaFormer, arch, fast_path=False, **kwargs)
    ours.load_state_dict(to_ours(original.state_dict()), strict=True)
    return ours


def assert_equal(got, expected) -> None:
    got = got if isinstance(got, (tuple, list)) else [got]
    expected = expected if isinstance(expected, (tuple, list)) else [expected]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        assert torch.equal(g, e), float((g - e).abs().max())


def sizes_of(arch: str) -> list:
    if arch in HYBRID_ARCHS and arch != 'metaformer_id_s12':
        # position embeddings and spatial FCs of one token grid
        return [(2, 3, 224, 224)]
    if arch in BIG or arch.startswith(('poolformer_m', 'poolformerv2_m')):
        return [(1, 3, 64, 96), (1, 3, 33, 47)]
    return SIZES


@pytest.mark.parametrize('arch,fork_feat', [
    *((arch, True) for arch in sorted(POOLFORMER_ARCHS)),
    *((arch, False) for arch in sorted(ARCHS))])
def test_outputs_equal_original(arch, fork_feat, monkeypatch):
    """Dense maps of PoolFormer's originals (whose dense form is theirs),
    logits of every arch."""
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original = original_model(arch, fork_feat).eval()
    ours = ours_from(original, arch, fork_feat=fork_feat).eval()
    for size in sizes_of(arch):
        x = torch.randn(size)
        with torch.no_grad():
            assert_equal(ours(x), original(x))


@pytest.mark.parametrize('arch', ['poolformer_s12', 'metaformer_ppaa_s12_224',
                                  'poolformerv2_s12', 'convformer_s18',
                                  'caformer_s18'])
def test_gradients_equal_original(arch, monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original = original_model(arch, arch in POOLFORMER_ARCHS).train()
    ours = ours_from(original, arch,
                     fork_feat=arch in POOLFORMER_ARCHS).train()
    for size in sizes_of(arch):
        x = torch.randn(size)
        for model in (original, ours):
            model.zero_grad()
            out = model(x)
            out = out if isinstance(out, (tuple, list)) else [out]
            sum(o.square().sum() for o in out).backward()
        theirs = to_ours({name: param.grad for name, param
                          in original.named_parameters()})
        for name, param in ours.named_parameters():
            assert torch.equal(param.grad, theirs[name]), name


def test_fork_last3_leaves_the_first_map_unnormalised():
    original = original_model('poolformer_s12', True).eval()
    ours = MetaFormer('s12', fork_last3=True, fast_path=False).eval()
    assert isinstance(ours.norm0, nn.Identity)
    state = {k: v for k, v in to_ours(original.state_dict()).items()
             if not k.startswith('norm0.')}
    ours.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        got, expected = ours(x), original(x)
    assert_equal(got[1:], expected[1:])


def test_drop_path_rises_linearly_as_original():
    ours = MetaFormer('s24', drop_path_rate=0.3)
    original = poolformer_ref.poolformer('s24', fork_feat=True,
                                         drop_path_rate=0.3)
    ours_rates = [b.drop_path.drop_prob for stage in ours.stages
                  for b in stage.blocks if hasattr(b.drop_path, 'drop_prob')]
    their_rates = [b.drop_path.drop_prob for stage in original.network[::2]
                   for b in stage if hasattr(b.drop_path, 'drop_prob')]
    assert ours_rates == pytest.approx(their_rates)
    assert ours_rates[-1] == pytest.approx(0.3)
    assert len(ours_rates) == sum(POOLFORMER_ARCHS['poolformer_s24']
                                  ['layers']) - 1


def test_layer_scales_start_as_the_originals():
    for arch in POOLFORMER_ARCHS:
        original = poolformer_ref.poolformer(arch.split('_')[1],
                                             fork_feat=False)
        ours = MetaFormer(arch, fork_feat=False)
        theirs = to_ours(original.state_dict())
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: v.shape for k, v in theirs.items()}
        scale = ours.stages[0].blocks[0].layer_scale1.scale
        assert torch.equal(scale, theirs['stages.0.blocks.0.layer_scale1'
                                         '.scale'])
