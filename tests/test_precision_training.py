"""bf16 training on the CPU: CPUBf16OptimWrapper trains a tiny PoolFormer
under bf16 autocast with fp32 parameters, gradients and optimizer state;
clips, accumulates and resumes as OptimWrapper does; tools/train.py
--bf16 and a config's ``optim_wrapper.type`` both reach it through
mmengine's Runner; a CPU without native bf16 gets a clear error."""
import copy
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmpoolformer.models import PoolFormer
from mmpoolformer.precision import (Bf16Support, Bf16UnavailableError,
                                    CPUBf16OptimWrapper, bf16_optim_wrapper,
                                    bf16_support, capability)
from mmpoolformer.testing import load_tool
from tests.tiny_data import write_tiny_ade
from tests.tool_support import SEGMENTATION, run_tool, train_logs, write_config

needs_bf16 = pytest.mark.skipif(not bf16_support().native,
                                reason='needs a CPU with native bf16')


class TinyRegressor(BaseModel):
    """A tiny PoolFormer, a 1x1 conv neck and a linear head regressing one
    number an image (the parts whose outputs the wrapper casts)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = PoolFormer(
            dict(layers=[1, 1, 1, 1], embed_dims=[8, 16, 32, 64]),
            out_indices=(3, ), init_cfg=None)
        self.neck = nn.Conv2d(64, 16, 1)
        self.head = nn.Linear(16, 1)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor,
                mode: str = 'loss') -> dict:
        [feature] = self.backbone(inputs)
        feature = self.neck(feature)
        pred = self.head(feature.mean((2, 3))).squeeze(1)
        self.seen_between_parts = (feature.dtype, feature.is_contiguous(),
                                   pred.dtype)
        return dict(loss=F.mse_loss(pred, targets))


def tiny_batch() -> dict:
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(4, 3, 64, 64, generator=gen)
    return dict(inputs=inputs, targets=inputs.mean((1, 2, 3)) * 10)


def tiny_setup(optimizer: str = 'AdamW', lr: float = 1e-2, **wrapper_args):
    torch.manual_seed(0)
    model = TinyRegressor().train()
    optim = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
    return model, CPUBf16OptimWrapper(optimizer=optim, **wrapper_args)


@needs_bf16
def test_trains_in_bf16_with_fp32_parameters_grads_and_state():
    model, wrapper = tiny_setup()
    batch = tiny_batch()
    seen = []
    hook = model.neck.register_forward_hook(
        lambda module, inputs, output: seen.append((
            output.dtype,
            output.is_contiguous(memory_format=torch.channels_last))))
    losses = [model.train_step(batch, wrapper)['loss'].item()
              for _ in range(10)]
    hook.remove()
    # The neck's convolution ran in bf16 on a channels_last map (the
    # backbone returns NCHW), the linear head in bf16 too; between the parts
    # the wrapper's hooks give fp32 NCHW.
    assert seen == [(torch.bfloat16, True)] * 10
    assert model.seen_between_parts == (torch.float32, True, torch.float32)
    assert losses[-1] < losses[0] / 2, losses
    with wrapper.optim_context(model):
        loss = model(**batch)['loss']
    wrapper.backward(loss)
    for name, param in model.named_parameters():
        assert param.dtype == torch.float32, name
        assert param.grad is None or param.grad.dtype == torch.float32, name
    for state in wrapper.optimizer.state.values():
        assert state['exp_avg'].dtype == torch.float32
    # Outside the wrapper's context nothing is cast and the layouts are
    # the model's own: no hooks left behind, the weights untouched.
    assert model.neck.weight.is_contiguous()
    out = model.neck(torch.zeros(1, 64, 4, 4))
    assert out.dtype == torch.float32 and out.is_contiguous()


class SharedConv(nn.Module):
    """One convolution applied to three levels, as RetinaNet's head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.other = nn.Conv2d(8, 8, 1)
        self.other.forward = lambda x: x  # a forward its owner set

    def forward(self, levels):
        return sum(self.conv(self.other(x)).square().mean() for x in levels)


@needs_bf16
def test_a_shared_convolution_casts_its_weight_once_per_forward():
    torch.manual_seed(0)
    model = SharedConv()
    reference = copy.deepcopy(model)
    wrapper = CPUBf16OptimWrapper(torch.optim.SGD(model.parameters(), 0.1))
    levels = [torch.randn(2, 8, s, s) for s in (16, 8, 4)]
    casts = []
    with wrapper.optim_context(model):
        with torch.autograd.graph.saved_tensors_hooks(
                lambda t: casts.append(t) or t, lambda t: t):
            loss = model(levels)
    weights = {t.data_ptr() for t in casts if t.shape == (8, 8, 3, 3)}
    assert len(weights) == 1  # one bf16 channels_last copy, used thrice
    [weight] = [t for t in casts if t.shape == (8, 8, 3, 3)][:1]
    assert weight.dtype == torch.bfloat16
    assert weight.is_contiguous(memory_format=torch.channels_last)
    # The gradient reaches the fp32 weight, as under autocast alone.
    loss.backward()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        reference(levels).backward()
    assert model.conv.weight.grad.dtype == torch.float32
    torch.testing.assert_close(model.conv.weight.grad,
                               reference.conv.weight.grad, rtol=0.05,
                               atol=1e-4)
    # Afterwards the modules' forwards are their own again.
    assert 'forward' not in vars(model.conv)
    assert model.other.forward(levels[0]) is levels[0]


@needs_bf16
def test_clip_grad_bounds_the_update():
    model, wrapper = tiny_setup('SGD', lr=1.0, clip_grad=dict(max_norm=1e-3))
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    model.train_step(tiny_batch(), wrapper)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    # Plain SGD with lr 1 moves the parameters by the clipped gradient.
    assert (after - before).norm() == pytest.approx(1e-3, rel=1e-3)
    grad_norm = MessageHub.get_current_instance().get_scalar(
        'train/grad_norm').current()
    assert grad_norm > 1e-2  # the norm before clipping, logged


@needs_bf16
def test_accumulates_gradients_over_counts():
    model, wrapper = tiny_setup('SGD', lr=0.1, accumulative_counts=2)
    start = [p.detach().clone() for p in model.parameters()]
    model.train_step(tiny_batch(), wrapper)
    assert all(torch.equal(p, s) for p, s in zip(model.parameters(), start))
    assert model.head.weight.grad is not None
    model.train_step(tiny_batch(), wrapper)
    assert not torch.equal(model.head.weight, start[-2])
    assert model.head.weight.grad is None  # zeroed after the update


@needs_bf16
def test_state_dict_resumes_exactly(tmp_path):
    batch = tiny_batch()
    full, full_wrapper = tiny_setup()
    for _ in range(4):
        full.train_step(batch, full_wrapper)
    first, first_wrapper = tiny_setup()
    for _ in range(2):
        first.train_step(batch, first_wrapper)
    path = str(tmp_path / 'state.pth')
    torch.save(dict(model=first.state_dict(),
                    optimizer=first_wrapper.state_dict()), path)
    resumed, resumed_wrapper = tiny_setup()
    state = torch.load(path, weights_only=True)
    resumed.load_state_dict(state['model'])
    resumed_wrapper.load_state_dict(state['optimizer'])
    for _ in range(2):
        resumed.train_step(batch, resumed_wrapper)
    for (name, a), b in zip(full.state_dict().items(),
                            resumed.state_dict().values()):
        assert torch.equal(a, b), name
    for a, b in zip(full_wrapper.optimizer.state.values(),
                    resumed_wrapper.optimizer.state.values()):
        assert all(torch.equal(a[k], b[k]) for k in a)


@needs_bf16
def test_refuses_bf16_parameters():
    model = TinyRegressor().bfloat16()
    with pytest.raises(ValueError, match='fp32 parameters.*bfloat16'):
        CPUBf16OptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_the_bf16_units_are_described_as_they_are():
    assert Bf16Support(avx512_bf16=True, amx=True).describe() == \
        'AMX and AVX-512 BF16'
    assert 'without AMX' in Bf16Support(avx512_bf16=True,
                                        amx=False).describe()
    assert Bf16Support(avx512_bf16=False, amx=False).describe() == \
        'no native bf16 unit'


def test_cpu_without_native_bf16_gets_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(capability, 'bf16_support',
                        lambda: Bf16Support(avx512_bf16=False, amx=False))
    model = TinyRegressor()
    with pytest.raises(Bf16UnavailableError,
                       match="optim_wrapper.type='CPUBf16OptimWrapper': "
                       'this CPU has neither AMX nor AVX-512 BF16'):
        CPUBf16OptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    for tool, argv in (('train.py', ['any_config.py', '--bf16']),
                       ('demo.py', ['--bf16'])):
        with pytest.raises(SystemExit):
            load_tool(tool).parse_args(argv)
        err = capsys.readouterr().err
        assert '--bf16: this CPU has neither AMX nor AVX-512 BF16' in err
        assert 'Run without --bf16' in err


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU-only box')
def test_amp_on_the_cpu_points_at_bf16(capsys):
    train = load_tool('train.py')
    with pytest.raises(SystemExit):
        train.parse_args(['any_config.py', '--amp'])
    assert 'on the CPU use --bf16' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(['any_config.py', '--amp', '--bf16'])
    assert 'not allowed with argument' in capsys.readouterr().err


def test_bf16_keeps_the_config_but_the_loss_scaler():
    amp = dict(type='AmpOptimWrapper', loss_scale='dynamic',
               dtype='float16', optimizer=dict(type='AdamW', lr=2e-4),
               clip_grad=dict(max_norm=10), accumulative_counts=2,
               paramwise_cfg=dict(norm_decay_mult=0.))
    assert bf16_optim_wrapper(amp) == dict(
        type='CPUBf16OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4),
        clip_grad=dict(max_norm=10), accumulative_counts=2,
        paramwise_cfg=dict(norm_decay_mult=0.))


@needs_bf16
@pytest.mark.parametrize('optimizer,fused', [
    (dict(type='SGD', lr=0.1), True),
    (dict(type=torch.optim.Adam, lr=0.1), True),
    (dict(type='AdamW', lr=0.1, fused=True), True),
    (dict(type='AdamW', lr=0.1, foreach=False), False),  # the user's choice
    (dict(type='AdamW', lr=0.1, fused=False), False),
    (dict(type='RMSprop', lr=0.1), False),  # no fused CPU kernel
])
def test_the_wrapper_steps_with_the_fused_kernel(optimizer, fused):
    """Where the optimizer has a fused CPU kernel and the config chose
    none; and its step is the unfused step's, to float rounding."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    plain = copy.deepcopy(model)
    wrapper = build_optim_wrapper(model, dict(type='CPUBf16OptimWrapper',
                                              optimizer=optimizer))
    reference = build_optim_wrapper(plain, dict(type='OptimWrapper',
                                                optimizer=optimizer))
    assert all(bool(group.get('fused')) == fused
               for group in wrapper.optimizer.param_groups)
    for _ in range(3):
        for net, optim in ((model, wrapper), (plain, reference)):
            optim.update_params(net(torch.ones(4, 3)).square().sum())
    for ours, theirs in zip(model.parameters(), plain.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


# A config that names the wrapper itself (as mmdet's and mmseg's own
# tools/train.py would read it), beside the config's optimizer.
CONFIG_ROUTE = "\noptim_wrapper = dict(type='CPUBf16OptimWrapper')\n"


@pytest.fixture(scope='module')
def bf16_runs(tmp_path_factory):
    """A tiny Semantic FPN trained 4 iterations with --bf16; the same with
    the wrapper named in its config, stopped at 2, then resumed to 4.

    Not the tiny RetinaNet: its 64x48 inputs give a 1x1 P6 map, and
    torch 2.13's oneDNN computes the weight gradient of a stride-2 3x3 bf16
    convolution of a 1x1 map (RetinaNet's P7 conv) from uninitialised
    memory: garbage that differs run to run."""
    tmp = tmp_path_factory.mktemp('bf16')
    root = write_tiny_ade(str(tmp / 'ade')) + '/'
    flag = write_config(str(tmp / 'tiny.py'), SEGMENTATION, root, iters=4)
    named = write_config(str(tmp / 'named.py'), SEGMENTATION, root,
                         iters=4, extra=CONFIG_ROUTE)
    full, part = str(tmp / 'full'), str(tmp / 'part')
    logs = [run_tool('train.py', flag, '--bf16', '--work-dir', full).stdout,
            run_tool('train.py', named, '--work-dir', part, '--cfg-options',
                     'train_cfg.max_iters=2').stdout,
            run_tool('train.py', named, '--work-dir', part,
                     '--resume').stdout]
    return full, part, logs


@needs_bf16
def test_flag_and_config_train_with_the_wrapper_and_resume_exactly(
        bf16_runs):
    full, part, logs = bf16_runs
    for log in logs:
        assert 'CPUBf16OptimWrapper: training under CPU bf16 autocast' in log
    assert "type='CPUBf16OptimWrapper'" in open(
        osp.join(full, 'tiny.py')).read()
    [uninterrupted] = train_logs(full)
    first, resumed = train_logs(part)
    losses = [log['loss'] for log in uninterrupted]
    assert len(losses) == 4 and all(map(math.isfinite, losses)), losses
    assert losses == [log['loss'] for log in first + resumed]
    a, b = (torch.load(osp.join(d, 'iter_4.pth'), weights_only=False)
            for d in (full, part))
    for name, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][name]), name
    for key, state in a['optimizer']['state'].items():
        for k, value in state.items():
            assert torch.equal(value, b['optimizer']['state'][key][k])


def test_benchmark_training_profiles_the_update_and_the_top_ops():
    """The training benchmark's --profile: the optimizer's update first,
    then the operations by their own time, in ms a step."""
    from mmpoolformer.benchmarking.cases import training as benchmark
    model, _ = tiny_setup()
    trainer = benchmark.Trainer(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3)))
    rows = benchmark.profile_step(trainer, tiny_batch(), steps=2, top=3)
    assert [name for name, _ in rows[:1]] == ['optimizer update']
    assert len(rows) == 4 and all(ms > 0 for _, ms in rows)
    assert rows[1][1] >= rows[2][1] >= rows[3][1]
