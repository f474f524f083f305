"""PoolFormer's fast path against the plain path and the original: same
outputs and gradients (within 1e-4) for inference and training, on every
device; which path runs where; the private torch kernels it leans on."""
import copy

import pytest
import torch
from mmengine.analysis import FlopAnalyzer
from torch.utils._python_dispatch import TorchDispatchMode

from mmpoolformer.checkpoints.weight_layouts import to_ours
from mmpoolformer.models import PoolFormer
from mmpoolformer.models.backbones import fast_path, onednn_kernels
from mmpoolformer.models.backbones.fast_path import (BlockPath, NormPoolMixer,
                                                     PoolMixer,
                                                     choose_block_path,
                                                     group_norm_stats,
                                                     is_foldable)
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
    plain = PoolFormer(arch, fork_last3=False, fast_path=False, **kwargs)
    plain.load_state_dict(original.state_dict())
    fast = copy.deepcopy(plain)
    fast.fast_path = True
    return original, plain, fast


class RecordOps(TorchDispatchMode):
    """Names every operator that runs inside it (e.g. 'aten.lerp',
    'mkldnn._linear_pointwise')."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def _ops_of_a_step(model, x, train):
    """The operators of a forward (and, to train, a backward) of ``model``
    on ``x``, and its outputs."""
    model.train(train)
    with RecordOps() as record, torch.set_grad_enabled(train):
        outs = model(x)
        if train:
            sum(o.sum() for o in outs).backward()
    return record.ops, outs


def _onednn_ops(ops):
    return {op for op in ops if op.startswith('mkldnn.')}


def _assert_outputs_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        torch.testing.assert_close(g, e, **TOL)


def _grads(model) -> dict:
    """Each parameter's gradient under our names (an original's renamed)."""
    return to_ours({name: param.grad
                    for name, param in model.named_parameters()})


def _assert_grads_close(model, reference_model):
    theirs = _grads(reference_model)
    for name, param in model.named_parameters():
        expected = theirs[name]
        assert param.grad is not None, name
        if name.endswith('.norm1.bias'):
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
    assert all(o.is_contiguous() for o in got)  # NCHW for necks and heads


@pytest.mark.filterwarnings('ignore:TF32')
def test_inference_without_onednn_matches(monkeypatch):
    """With oneDNN switched off, CPU inference takes the path of standard
    ops that every other device takes, and computes the same."""
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original, _, fast = (m.eval() for m in _models('s12'))
    x = torch.randn(SIZES[0])
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):
        assert choose_block_path(True, x, False) is BlockPath.FOLDED_EVAL
        _assert_outputs_close(fast(x), original(x))


@pytest.mark.parametrize('train', [False, True])
def test_forced_torch_ops_path_on_cpu_matches_plain(train, monkeypatch):
    """Without the private oneDNN op (as a torch that dropped it would be),
    CPU takes the standard-op path: no oneDNN op runs, same results."""
    monkeypatch.setattr(onednn_kernels, 'linear_pointwise', lambda: None)
    _, plain, fast = _models(CUSTOM)
    x = torch.randn(SIZES[1])
    ops, got = _ops_of_a_step(fast, x, train)
    assert not _onednn_ops(ops)
    assert ('aten.lerp' in ops) != train  # the folded mixer of each mode
    _, expected = _ops_of_a_step(plain, x, train)
    _assert_outputs_close(got, expected)
    if train:
        _assert_grads_close(fast, plain)


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
    fast = PoolFormer('s12', fork_last3=False, fast_path=True,
                      with_cp=True)
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
    for size in (3, 5):
        assert torch.autograd.gradcheck(
            lambda a, b: PoolMixer.apply(a, b, size), (x, k),
            fast_mode=True)


def test_norm_pool_mixer_backward_is_the_exact_adjoint():
    x = torch.randn(2, 3, 5, 4, dtype=torch.double).contiguous(
        memory_format=torch.channels_last).requires_grad_()
    weight, bias, scale = (torch.randn(3, dtype=torch.double,
                                       requires_grad=True) for _ in range(3))
    for size in (3, 5):
        assert torch.autograd.gradcheck(
            lambda *a: NormPoolMixer.apply(*a, size, 1e-5),
            (x, weight, bias, scale), fast_mode=True)


def test_other_blocks_take_the_fast_forms_of_their_parts():
    """Blocks the folds do not cover (here attention mixers and a
    channel-only LayerNorm) run the fast forms of their parts on
    channels_last maps, with the plain outputs."""
    mixers = ['pooling', 'pooling', 'attention', 'attention']
    plain = PoolFormer('s12', token_mixers=mixers, fork_last3=False,
                       fast_path=False).eval()
    perturb_affines(plain)
    fast = copy.deepcopy(plain)
    fast.fast_path = True
    assert [is_foldable(stage.blocks[0]) for stage in fast.stages] \
        == [True, True, False, False]
    x = torch.randn(SIZES[0])
    with torch.no_grad():
        _assert_outputs_close(fast(x), plain(x))

    ln = PoolFormer('s12', norm_cfg=dict(type='LN2d'), fast_path=True)
    assert not any(is_foldable(b) for s in ln.stages for b in s.blocks)
    with torch.no_grad():
        got = ln.eval()(x)
        ln.fast_path = False
        _assert_outputs_close(got, ln(x))


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


@pytest.mark.parametrize('train', [False, True])
def test_bf16_autocast_runs_and_stays_close(train):
    """Under CPU bf16 autocast the linears run in bf16 (as autocast
    expects), the residual stream stays fp32, and training gives fp32
    gradients close to the plain path's."""
    _, plain, fast = (m.train(train) for m in _models(CUSTOM))
    x = torch.randn(SIZES[0])
    with torch.set_grad_enabled(train):
        expected = plain(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = fast(x)
    for g, e in zip(got, expected):
        assert g.dtype == torch.float32
        assert (g - e).abs().max() < 0.05 * e.abs().max()
    if train:
        grads = [torch.randn_like(e) for e in expected]
        torch.autograd.backward(expected, grads)
        torch.autograd.backward(got, grads)
        theirs = dict(plain.named_parameters())
        for name, param in fast.named_parameters():
            expected_grad = theirs[name].grad
            assert param.grad.dtype == torch.float32, name
            if not name.endswith('.norm1.bias'):
                assert (param.grad - expected_grad).abs().max() <= \
                    0.1 * expected_grad.abs().max(), name


@pytest.mark.parametrize('train', [False, True])
def test_mlp_in_row_blocks_matches_plain(train, monkeypatch):
    """Hidden maps above HIDDEN_BLOCK_BYTES are computed in row blocks
    (here several, of uneven fit) with the same results."""
    monkeypatch.setattr(fast_path, 'HIDDEN_BLOCK_BYTES', 5000)
    _, plain, fast = (m.train(train) for m in _models(CUSTOM))
    x = torch.randn(SIZES[1])
    with torch.set_grad_enabled(train):
        got, expected = fast(x), plain(x)
    _assert_outputs_close(got, expected)
    if train:
        grads = [torch.randn_like(e) for e in expected]
        torch.autograd.backward(expected, grads)
        torch.autograd.backward(got, grads)
        _assert_grads_close(fast, plain)


@pytest.mark.parametrize('train', [False, True])
def test_fast_path_off_the_cpu_uses_standard_ops(train):
    """On a device without oneDNN kernels (``meta`` stands in for CUDA and
    the rest), ``fast_path=True`` runs the folded blocks with standard
    torch ops, in eval and in training, and gives the plain shapes."""
    fast = PoolFormer(CUSTOM, fast_path=True).to('meta')
    x = torch.empty(2, 3, 70, 45, device='meta')
    ops, outs = _ops_of_a_step(fast, x, train)
    assert not _onednn_ops(ops)
    # Folded: the mixer is a lerp (eval) or PoolMixer, which never calls
    # the pooling's own backward (training).
    assert ('aten.lerp' in ops) != train
    assert 'aten.avg_pool2d_backward' not in ops
    plain = PoolFormer(CUSTOM, fast_path=False).to('meta')
    assert [o.shape for o in outs] == \
        [o.shape for o in _ops_of_a_step(plain, x, train)[1]]


@pytest.mark.parametrize('train', [False, True])
def test_default_is_fast_on_cpu_and_plain_elsewhere(train):
    """Left unset, ``fast_path`` folds CPU training and inference (oneDNN
    kernels for fp32) and runs the original operations on other devices;
    the device is read from each input, so moving the model moves the
    choice."""
    model = PoolFormer(CUSTOM)
    assert model.fast_path is None
    cpu_ops, _ = _ops_of_a_step(model, torch.randn(1, 3, 64, 48), train)
    assert 'aten.avg_pool2d_backward' not in cpu_ops
    assert ('aten.lerp' in cpu_ops) != train
    if onednn_kernels.takes(torch.ones(1)):
        assert 'mkldnn._linear_pointwise' in cpu_ops
    meta_ops, _ = _ops_of_a_step(model.to('meta'),
                                 torch.empty(1, 3, 64, 48, device='meta'),
                                 train)
    assert not _onednn_ops(meta_ops) and 'aten.lerp' not in meta_ops
    if train:
        assert 'aten.avg_pool2d_backward' in meta_ops


def test_path_is_chosen_from_settings_and_input():
    cpu, meta = torch.ones(1), torch.ones(1, device='meta')
    with torch.no_grad():
        assert choose_block_path(None, meta, False) is BlockPath.PLAIN
        assert choose_block_path(True, meta, False) is BlockPath.FOLDED_EVAL
        assert choose_block_path(True, meta, True) is BlockPath.FOLDED
        assert choose_block_path(False, cpu, False) is BlockPath.PLAIN
        assert choose_block_path(None, cpu.double(), False) \
            is BlockPath.FOLDED_EVAL
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert choose_block_path(None, cpu, False) \
                is BlockPath.FOLDED_EVAL
    onednn = onednn_kernels.takes(cpu)
    trained = BlockPath.ONEDNN if onednn else BlockPath.FOLDED
    assert choose_block_path(None, cpu, True) is trained
    assert choose_block_path(True, cpu, True) is trained
    assert choose_block_path(None, cpu.double(), True) is BlockPath.FOLDED
    assert choose_block_path(None, meta, True) is BlockPath.PLAIN
    with pytest.raises(TypeError, match='fast_path'):
        PoolFormer(CUSTOM, fast_path='yes')


def test_plain_path_is_the_original_bit_for_bit(monkeypatch):
    monkeypatch.delenv('FORK_LAST3', raising=False)
    original, plain, _ = _models(CUSTOM)
    x = torch.randn(SIZES[1])
    for train in (False, True):
        original.train(train), plain.train(train)
        with torch.set_grad_enabled(train):
            expected, got = original(x), plain(x)
        assert all(torch.equal(g, e) for g, e in zip(got, expected))
    grads = [torch.randn_like(e) for e in expected]
    torch.autograd.backward(expected, grads)
    torch.autograd.backward(got, grads)
    theirs = _grads(original)
    for name, param in plain.named_parameters():
        assert torch.equal(param.grad, theirs[name]), name


def test_flop_count_sees_the_original_operations():
    """mmengine's tracer counts no oneDNN ops: under tracing the default
    takes the plain path, so FLOP counts do not change."""
    default, plain = PoolFormer(CUSTOM), PoolFormer(CUSTOM, fast_path=False)
    x = torch.randn(1, 3, 64, 64)
    counts = [FlopAnalyzer(m.eval(), x).unsupported_ops_warnings(False)
              .total() for m in (default, plain)]
    assert counts[0] == counts[1] > 0


@pytest.mark.parametrize('with_residual', [False, True])
def test_onednn_linears_give_the_gradients_of_f_linear(with_residual):
    if not onednn_kernels.takes(torch.ones(1)):
        pytest.skip('no oneDNN linear kernels in this torch build')
    x, weight, bias, residual = (
        torch.randn(shape, requires_grad=True)
        for shape in ((37, 8), (24, 8), (24, ), (37, 24)))
    grad = torch.randn(37, 24)
    if with_residual:
        got = onednn_kernels.linear_add(x, residual, weight, bias)
        expected = residual + torch.nn.functional.linear(x, weight, bias)
    else:
        got = onednn_kernels.linear(x, weight, bias)
        expected = torch.nn.functional.linear(x, weight, bias)
    torch.testing.assert_close(got, expected)
    inputs = (x, weight, bias, residual) if with_residual else \
        (x, weight, bias)
    for g, e in zip(torch.autograd.grad(got, inputs, grad),
                    torch.autograd.grad(expected, inputs, grad)):
        torch.testing.assert_close(g, e)


def test_private_torch_kernels_are_there():
    """The fast path leans on two torch kernels that are not public API;
    a torch that drops them fails here (the path then falls back)."""
    assert hasattr(torch, 'native_group_norm'), \
        'torch.native_group_norm is gone: group_norm_stats falls back'
    if torch.backends.mkldnn.is_available():
        assert onednn_kernels.linear_pointwise() is not None, \
            'torch.ops.mkldnn._linear_pointwise is gone: F.linear is used'


def test_group_norm_stats_fallback_matches(monkeypatch):
    x = torch.randn(2, 5, 7, 3).contiguous(memory_format=torch.channels_last)
    expected = group_norm_stats(x, 1e-5)
    monkeypatch.delattr(torch, 'native_group_norm')
    for got, want in zip(group_norm_stats(x, 1e-5), expected):
        torch.testing.assert_close(got, want)
    normed = torch.nn.functional.group_norm(x, 1, eps=1e-5)
    mean, rstd = expected
    torch.testing.assert_close((x - mean) * rstd, normed)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('fast_path', [None, True])
def test_cuda_matches_plain(fast_path, monkeypatch):
    """On CUDA, True folds with standard ops and None runs the original
    operations; both match the plain path in eval and in training (in
    full fp32: TF32 off, as it rounds convolutions and matmuls apart)."""
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', False)
    _, plain, fast = (m.cuda() for m in _models(CUSTOM))
    fast.fast_path = fast_path
    x = torch.randn(SIZES[1], device='cuda')
    for train in (False, True):
        ops, got = _ops_of_a_step(fast, x, train)
        assert not _onednn_ops(ops)
        assert ('aten.lerp' in ops) == (bool(fast_path) and not train)
        _, expected = _ops_of_a_step(plain, x, train)
        _assert_outputs_close(got, expected)
    if fast_path:
        _assert_grads_close(fast, plain)
