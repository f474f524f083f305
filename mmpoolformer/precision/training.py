"""bf16 training on the CPU: an mmengine optimizer wrapper that runs the
forward (and so the backward) under ``torch.autocast('cpu', bfloat16)``.

mmengine's :class:`~mmengine.optim.AmpOptimWrapper` asserts a GPU, and
its loss scaler exists for fp16, whose exponent range lets small gradients
underflow. bf16 has fp32's exponent range, so this wrapper needs no
scaler: it is :class:`~mmengine.optim.OptimWrapper` (gradient clipping,
accumulation, state dicts unchanged) with CPU autocast in its
``optim_context``. Autocast runs convolutions and matrix products in bf16
(AMX or AVX-512 BF16) and keeps what it lists as precision-sensitive, and
every parameter, gradient and optimizer state, in fp32.

bf16 runs inside each part of the model (backbone, neck, heads: the
model's children), channels_last: every convolution gets its input
channels_last, so oneDNN's bf16 convolutions need no reorder (the demo's
Semantic FPN step: 1.97x -> 2.3x the original fp32), and its weight cast
to bf16 channels_last once per forward: autocast casts a weight once but
keeps it NCHW, which oneDNN then reorders on every call, five times for
each of RetinaNet's head convolutions, one per level (the demo's
RetinaNet step: 1.92x -> 2.06x). What a part returns is cast back to fp32
NCHW. The libraries' code between the parts (losses,
box decoding) then sees what it sees in fp32, and so do mmcv's compiled
CPU ops that Mask R-CNN calls on the neck's maps and the RPN's
predictions: RoIAlign and NMS take fp32 only, and RoIAlign reads NCHW
memory as is. The hooks and the convolutions' forward live only inside
``optim_context``: the model itself (its weights' layout, its validation)
is left as it is.

In a config (mmdet's and mmseg's own tools/train.py take it too)::

    custom_imports = dict(imports=['mmpoolformer'],
                          allow_failed_imports=False)
    optim_wrapper = dict(type='CPUBf16OptimWrapper', optimizer=...,
                         clip_grad=...)
"""
from contextlib import contextmanager
from functools import partial
from typing import Any, Dict, Iterator, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.utils import apply_to
from torch import nn
from torch.optim import Optimizer

from .capability import require_cpu_bf16

# What AmpOptimWrapper takes beside OptimWrapper's arguments; a config
# switched to bf16 drops them (bf16 needs no loss scaler).
AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')
# torch's optimizers with a fused CPU kernel (torch >= 2.4), which
# CPUBf16OptimWrapper switches to.
FUSED_CPU_OPTIMIZERS = ('Adam', 'AdamW', 'SGD', 'Adagrad')


@OPTIM_WRAPPERS.register_module()
class CPUBf16OptimWrapper(OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` whose forward runs under CPU
    bf16 autocast, without a loss scaler; fp32 parameters on the CPU. An
    Adam, AdamW, SGD or Adagrad optimizer that names no kernel steps with
    torch's fused CPU kernel.

    Raises :class:`~mmpoolformer.precision.Bf16UnavailableError` on a CPU
    without native bf16 (emulated bf16 is slower than fp32), and
    ``ValueError`` for parameters off the CPU or not fp32.
    """

    def __init__(self, optimizer: Optimizer, accumulative_counts: int = 1,
                 clip_grad: Optional[dict] = None) -> None:
        name = type(self).__name__
        support = require_cpu_bf16(f"optim_wrapper.type='{name}'")
        super().__init__(optimizer, accumulative_counts, clip_grad)
        for group in self.optimizer.param_groups:
            for param in group['params']:
                _check_param(param)
        fused = _use_fused_step(self.optimizer)
        print_log(f'{name}: training under CPU bf16 autocast on '
                  f'{support.describe()}, fp32 parameters'
                  + (', the fused optimizer step' if fused else ''),
                  logger='current')

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """OptimWrapper's context (no gradient sync while accumulating)
        with CPU bf16 autocast, channels_last convolutions and fp32 NCHW
        outputs from the model's parts."""
        inner = model.module if is_model_wrapper(model) else model
        handles = [part.register_forward_hook(_fp32_nchw_outputs)
                   for part in inner.children()]
        handles += [conv.register_forward_pre_hook(_channels_last_input)
                    for conv in inner.modules()
                    if isinstance(conv, nn.Conv2d)]
        try:
            with super().optim_context(model), torch.autocast(
                    'cpu', dtype=torch.bfloat16), \
                    _bf16_channels_last_weights(inner):
                yield
        finally:
            for handle in handles:
                handle.remove()


@contextmanager
def _bf16_channels_last_weights(model: nn.Module) -> Iterator[None]:
    """Every plain ``nn.Conv2d`` of ``model`` (forward not overridden,
    zero padding) convolves with its weight cast to bf16 channels_last,
    cast once while the context lasts (one forward) however often the
    module is called; the gradient flows back to the fp32 weight."""
    cache: Dict[nn.Module, torch.Tensor] = {}
    convs = [conv for conv in model.modules()
             if type(conv).forward is nn.Conv2d.forward
             and conv.padding_mode == 'zeros' and 'forward' not in vars(conv)]
    for conv in convs:
        conv.forward = partial(_conv2d_cached_weight, conv, cache)
    try:
        yield
    finally:
        for conv in convs:
            del conv.forward


def _conv2d_cached_weight(conv: nn.Conv2d, cache: Dict[nn.Module,
                                                       torch.Tensor],
                          x: torch.Tensor) -> torch.Tensor:
    weight = cache.get(conv)
    if weight is None:
        weight = cache[conv] = conv.weight.to(
            torch.bfloat16, memory_format=torch.channels_last)
    return F.conv2d(x, weight, conv.bias, conv.stride, conv.padding,
                    conv.dilation, conv.groups)


def _channels_last_input(conv: nn.Module, inputs: tuple) -> tuple:
    """A forward pre-hook: a convolution's map channels_last (a no-op
    where it is already, as inside a chain of convolutions)."""
    return (inputs[0].contiguous(memory_format=torch.channels_last),
            *inputs[1:])


def _fp32_nchw_outputs(module: nn.Module, inputs: Any, output: Any) -> Any:
    """A forward hook: ``output`` with its bf16 tensors (also inside
    tuples, lists and dicts) cast to fp32 and its maps made NCHW."""
    return apply_to(output, lambda value: isinstance(value, torch.Tensor),
                    _to_fp32_nchw)


def _to_fp32_nchw(tensor: torch.Tensor) -> torch.Tensor:
    """One copy, none where fp32 NCHW already."""
    dtype = torch.float32 if tensor.dtype == torch.bfloat16 else tensor.dtype
    layout = torch.contiguous_format if tensor.dim() == 4 \
        else torch.preserve_format
    return tensor.to(dtype, memory_format=layout)


def _use_fused_step(optimizer: Optimizer) -> bool:
    """Switch ``optimizer`` to torch's fused CPU kernel where it has one
    and the config chose no kernel (``fused``/``foreach`` unset); return
    whether it runs fused. Once the products run in bf16, the per-tensor
    fp32 update loop is a fifth of the demo's detector steps; the fused
    kernel (the same update in one pass over each tensor) halves it."""
    defaults = optimizer.defaults
    if defaults.get('fused'):
        return True
    if type(optimizer).__name__ not in FUSED_CPU_OPTIMIZERS or any(
            group.get('fused') is not None or group.get('foreach')
            is not None for group in optimizer.param_groups):
        return False
    for group in optimizer.param_groups:  # what the step reads
        group['fused'] = True
    defaults['fused'] = True
    return True


def _check_param(param: torch.Tensor) -> None:
    if param.device.type != 'cpu':
        raise ValueError(
            f'CPUBf16OptimWrapper trains on the CPU, but a parameter is on '
            f'{param.device}; on a GPU use AmpOptimWrapper (tools/train.py '
            '--amp).')
    if param.dtype != torch.float32:
        raise ValueError(
            f'CPUBf16OptimWrapper keeps fp32 parameters and casts under '
            f'autocast; a parameter is {param.dtype}. Build the model in '
            'fp32 (do not call .bfloat16() or .half() on it).')


def bf16_optim_wrapper(optim_wrapper: dict) -> dict:
    """The config's ``optim_wrapper`` trained in CPU bf16: its type
    replaced by :class:`CPUBf16OptimWrapper`, its optimizer, clip_grad,
    accumulative_counts, paramwise_cfg and constructor kept, AmpOptimWrapper's
    own keys dropped."""
    kept = {key: value for key, value in optim_wrapper.items()
            if key not in AMP_ONLY_KEYS}
    return dict(kept, type=CPUBf16OptimWrapper.__name__)
