"""Our PoolFormer against the transcription of the original: same keys,
same outputs (1e-5, fp32) for every arch, in both modes."""
import pytest
import torch

from mmpoolformer.models import ARCH_SETTINGS, LEGACY_BUILDERS, PoolFormer
from mmpoolformer.testing import perturb_affines
from tests import reference_poolformer as ref

# Sizes that are not multiples of 32, to exercise padding at every stage.
SIZES = [(1, 3, 97, 75), (2, 3, 64, 64)]


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
@pytest.mark.parametrize('fork_feat', [True, False])
def test_outputs_match_original(arch, fork_feat, monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    torch.manual_seed(0)
    original = ref.poolformer(arch, fork_feat=fork_feat).eval()
    perturb_affines(original)
    ours = PoolFormer(arch, fork_feat=fork_feat, fast_path=False).eval()
    # strict: every key name and shape is the original's.
    ours.load_state_dict(original.state_dict(), strict=True)
    for size in SIZES[:1] if arch.startswith('m') else SIZES:
        x = torch.randn(size)
        with torch.no_grad():
            expected, got = original(x), ours(x)
        if fork_feat:
            assert len(got) == 4
            for e, g in zip(expected, got):
                torch.testing.assert_close(g, e, rtol=0, atol=1e-5)
        else:
            torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_layer_scale_init_and_params_match_original():
    for arch in ARCH_SETTINGS:
        original = ref.poolformer(arch, fork_feat=False)
        ours = PoolFormer(arch, fork_feat=False)
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: v.shape for k, v in original.state_dict().items()}
        expected = ARCH_SETTINGS[arch]['layer_scale_init_value']
        assert torch.all(ours.network[0][0].layer_scale_1 == expected)
        assert torch.equal(ours.network[0][0].layer_scale_1,
                           original.network[0][0].layer_scale_1)


def test_gradients_match_original(monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    torch.manual_seed(0)
    original = ref.poolformer('s12', fork_feat=True)
    perturb_affines(original)
    ours = PoolFormer('s12', fast_path=False)
    ours.load_state_dict(original.state_dict())
    x = torch.randn(1, 3, 70, 45)
    sum(o.square().sum() for o in original(x)).backward()
    sum(o.square().sum() for o in ours(x)).backward()
    theirs = dict(original.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, theirs[name].grad,
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('env', ['1', 'yes'])
def test_fork_last3_env_matches_original(env, monkeypatch):
    # Only the original's config name reads FORK_LAST3 (deprecated).
    monkeypatch.setenv('FORK_LAST3', env)
    original = ref.poolformer('s12', fork_feat=True).eval()
    with pytest.warns(FutureWarning, match='fork_last3=True'):
        ours = LEGACY_BUILDERS['poolformer_s12_feat'](fast_path=False).eval()
    assert isinstance(ours.norm0, torch.nn.Identity)
    ours.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for e, g in zip(original(x), ours(x)):
            torch.testing.assert_close(g, e, rtol=0, atol=1e-5)


def test_drop_path_rises_linearly_as_original():
    ours = PoolFormer('s24', drop_path_rate=0.3)
    original = ref.poolformer('s24', fork_feat=True, drop_path_rate=0.3)
    ours_rates = [b.drop_path.drop_prob for stage in ours.network[::2]
                  for b in stage if hasattr(b.drop_path, 'drop_prob')]
    their_rates = [b.drop_path.drop_prob for stage in original.network[::2]
                   for b in stage if hasattr(b.drop_path, 'drop_prob')]
    assert ours_rates == pytest.approx(their_rates)
    assert ours_rates[-1] == pytest.approx(0.3)
    assert len(ours_rates) == sum(ARCH_SETTINGS['s24']['layers']) - 1
