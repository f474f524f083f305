"""PoolFormer(fast_path=True) against the plain path and the original: same
outputs and gradients (within 1e-4) for inference and training."""
import copy

import pytest
import torch

from mmpoolformer.models import PoolFormer
from mmpoolformer.models.backbones.fast_path import (PoolMixer,
                                                     supports_fast_path)
from mmpoolformer.testing import perturb_affines
from tests import reference_poolformer as ref

# Not multiples of 32, so every stage pads its pooling and convolutions.
SIZES = [(1, 3, 97, 75), (2, 3, 70, 45)]
TOL = dict(rtol=0, atol=1e-4)
# Other widths, MLP ratios and depths than the named archs, yet cheap.
CUSTOM = dict(layers=[1, 1, 2, 1], embed_dims=[48, 96, 160, 256],
              mlp_ratios=[3, 4, 2, 4], layer_scale_init_value=1e-6)


def _models(arch, **kwargs):
    """The original, our plain path and our fast path, same weights."""
    torch.manual_seed(0)
    if isinstance(arch, dict):
        original = ref.PoolFormer(fork_feat=True, downsamples=[True] * 4,
                                  **arch, **kwargs)
    else:
        original = ref.poolformer(arch, fork_feat=True, **kwargs)
    perturb_affines(original)
    plain = PoolFormer(arch, fork_last3=False, **kwargs)
    plain.load_state_dict(original.state_dict())
    fast = copy.deepcopy(plain)
    fast.fast_path = True
    return original, plain, fast


def _assert_outputs_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        torch.testing.assert_close(g, e, **TOL)


def _assert_grads_close(model, reference_model):
    theirs = dict(reference_model.named_parameters())
    for name, param in model.named_parameters():
        expected = theirs[name].grad
        assert param.grad is not None, name
        if name.endswith('norm1.bias'):
            # It cancels in pool(y) - y: the exact gradient is zero.
            assert not param.grad.any(), name
            continue
        torch.testing.assert_close(
            param.grad, expected, rtol=1e-4,
            atol=1e-4 * expected.abs().max().item(), msg=name)


@pytest.mark.parametrize('arch,size', [('s12', SIZES[0]), ('s12', SIZES[1]),
                                       (CUSTOM, SIZES[0])])
def test_inference_matches_plain_and_original(arch, size, monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original, plain, fast = (m.eval() for m in _models(arch))
    x = torch.randn(size)
    with torch.no_grad():
        expected = original(x)
        _assert_outputs_close(fast(x), plain(x))
        got = fast(x)
    _assert_outputs_close(got, expected)
    assert all(o.is_contiguous(memory_format=torch.channels_last)
               for o in got)


@pytest.mark.filterwarnings('ignore:TF32')
def test_inference_without_onednn_matches(monkeypatch):
    """The fallback for builds without oneDNN computes the same."""
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original, _, fast = (m.eval() for m in _models('s12'))
    x = torch.randn(SIZES[0])
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):
        _assert_outputs_close(fast(x), original(x))


def test_training_matches_original(monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    # drop_path draws one number per sample and branch, in the original's
    # order, so with the same seed both drop the same branches.
    original, _, fast = _models('s12', drop_path_rate=0.2)
    original.train(), fast.train()
    x = torch.randn(SIZES[1])
    torch.manual_seed(1)
    expected = original(x)
    torch.manual_seed(1)
    got = fast(x)
    _assert_outputs_close(got, expected)
    grads = [torch.randn_like(e) for e in expected]
    torch.autograd.backward(expected, grads)
    torch.autograd.backward(got, grads)
    _assert_grads_close(fast, original)


def test_gradient_checkpointing_keeps_gradients(monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original, _, _ = _models('s12')
    fast = PoolFormer('s12', fork_last3=False, fast_path=True, with_cp=True)
    fast.load_state_dict(original.state_dict())
    x = torch.randn(1, 3, 45, 38).requires_grad_()
    sum(o.square().sum() for o in original(x)).backward()
    expected_input_grad = x.grad
    x.grad = None
    sum(o.square().sum() for o in fast(x)).backward()
    torch.testing.assert_close(x.grad, expected_input_grad, rtol=1e-4,
                               atol=1e-4 * expected_input_grad.abs().max())
    _assert_grads_close(fast, original)


def test_pool_mixer_backward_is_the_exact_adjoint():
    x = torch.randn(2, 3, 5, 4, dtype=torch.double).contiguous(
        memory_format=torch.channels_last).requires_grad_()
    k = torch.randn(3, dtype=torch.double, requires_grad=True)
    residual = torch.randn_like(x).requires_grad_()
    for size in (3, 5):
        assert torch.autograd.gradcheck(
            lambda a, b: PoolMixer.apply(a, b, size, None), (x, k),
            fast_mode=True)
    assert torch.autograd.gradcheck(
        lambda a, b, r: PoolMixer.apply(a, b, 3, r), (x, k, residual),
        fast_mode=True)


def test_other_blocks_keep_their_own_forward():
    """Blocks the fast path does not cover (here attention mixers and a
    channel-only LayerNorm) run their usual forward, on channels_last maps."""
    mixers = ['pooling', 'pooling', 'attention', 'attention']
    plain = PoolFormer('s12', token_mixers=mixers, fork_last3=False).eval()
    perturb_affines(plain)
    fast = copy.deepcopy(plain)
    fast.fast_path = True
    assert [supports_fast_path(stage[0]) for stage in fast.network[::2]] \
        == [True, True, False, False]
    x = torch.randn(SIZES[0])
    with torch.no_grad():
        _assert_outputs_close(fast(x), plain(x))

    ln = PoolFormer('s12', norm_cfg=dict(type='LN2d'), fast_path=True)
    assert not any(supports_fast_path(b) for s in ln.network[::2] for b in s)


def test_folding_is_exact_in_float64():
    """In float64 the fast path equals the plain one to rounding: the folds
    are algebra, not approximations (this also runs the non-oneDNN
    fallbacks, which take every dtype)."""
    _, plain, fast = _models(CUSTOM)
    plain.double(), fast.double()
    x = torch.randn(SIZES[1], dtype=torch.double)
    for train in (False, True):
        plain.train(train), fast.train(train)
        with torch.set_grad_enabled(train):
            expected, got = plain(x), fast(x)
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e, rtol=0, atol=1e-10)
    grads = [torch.randn_like(e) for e in expected]
    torch.autograd.backward(expected, grads)
    torch.autograd.backward(got, grads)
    theirs = dict(plain.named_parameters())
    for name, param in fast.named_parameters():
        torch.testing.assert_close(param.grad, theirs[name].grad, rtol=0,
                                   atol=1e-10, msg=name)


def test_bf16_autocast_runs_and_stays_close():
    """Under CPU bf16 autocast the linears run in bf16 (through F.linear,
    as autocast expects) and the residual stream stays fp32."""
    _, plain, fast = (m.eval() for m in _models(CUSTOM))
    x = torch.randn(SIZES[0])
    with torch.no_grad():
        expected = plain(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = fast(x)
    for g, e in zip(got, expected):
        assert g.dtype == torch.float32
        assert (g - e).abs().max() < 0.05 * e.abs().max()
