"""CPU only: oneDNN's fused linear kernels for the fast path.

``torch.ops.mkldnn._linear_pointwise`` (a private torch op, the one
Inductor uses for CPU) computes ``linear(x)`` with its bias,
``gelu(linear(x))`` and ``linear(x) + residual`` in one pass each, where
``F.linear`` first copies the bias into its output. It exists only for CPU
tensors and has no autograd: :func:`linear` and :func:`linear_add` run it
forward inside autograd Functions whose backward runs its two matrix
products through the same op (:func:`_grad_input`, :func:`_grad_weight`):
``torch.mm`` goes to MKL, which on AMD's CPUs runs fp32 products at about
half oneDNN's rate (200 vs 330-460 GFLOP/s on 2 threads of an EPYC), and
made the fast path's training step slower than the original's there;
:func:`linear_gelu` is for inference only. :func:`takes` admits
fp32 CPU tensors outside autocast and, for inference, bf16 CPU tensors (a
model converted to bf16, ``precision/inference.py``); everything else uses
the torch fallbacks in ``fast_path.py``.
"""
from functools import lru_cache
from typing import Optional

import torch
import torch.nn.functional as F


@lru_cache(maxsize=None)
def linear_pointwise() -> Optional[object]:
    """torch's private fused-linear op, or None where this torch build
    lacks it (then callers fall back to ``F.linear``)."""
    if not torch.backends.mkldnn.is_available():
        return None
    return getattr(torch.ops.mkldnn, '_linear_pointwise', None)


def traced() -> bool:
    """Whether torch is tracing or compiling (an exporter, a FLOP counter,
    ``torch.compile``): then the models run torch's own operations, which
    those see and export."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def takes(x: torch.Tensor, inference: bool = False) -> bool:
    """Whether the oneDNN kernels may run on ``x``: a CPU fp32 tensor
    without CPU autocast (which ``F.linear`` follows and these ops do not)
    or, for ``inference``, a bf16 one (what autocast would compute too),
    oneDNN enabled and the op present."""
    if x.dtype == torch.bfloat16:
        dtype_fits = inference
    else:
        dtype_fits = x.dtype == torch.float32 and \
            not torch.is_autocast_enabled('cpu')
    return dtype_fits and x.device.type == 'cpu' and \
        torch.backends.mkldnn.enabled and linear_pointwise() is not None


def _grad_input(grad: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``grad @ weight`` in oneDNN (its op computes ``a @ b.T``)."""
    return linear_pointwise()(grad, weight.t().contiguous(), None, 'none',
                              [], '')


def _grad_weight(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``grad.T @ x`` in oneDNN, a product over the tokens. oneDNN takes
    its second operand as a weight and repacks it; it is 3-4x faster when
    that is the wider of the two (measured on the stages' shapes), so the
    narrower one goes first and the result is transposed back when that
    is ``x``."""
    if x.shape[1] >= grad.shape[1]:
        return linear_pointwise()(grad.t(), x.t(), None, 'none', [], '')
    return linear_pointwise()(x.t(), grad.t(), None, 'none', [], '').t()


class _Linear(torch.autograd.Function):
    """``x @ weight.T + bias`` (+ ``residual``), oneDNN forward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor,
                residual: Optional[torch.Tensor]) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        if residual is None:
            return linear_pointwise()(x, weight, bias, 'none', [], '')
        return linear_pointwise().binary(x, residual, weight, bias, 'add')

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad_x = _grad_input(grad, weight) if ctx.needs_input_grad[0] \
            else None
        grad_weight = _grad_weight(grad, x) if ctx.needs_input_grad[1] \
            else None
        grad_bias = grad.sum(0) if ctx.needs_input_grad[2] else None
        grad_residual = grad if ctx.needs_input_grad[3] else None
        return grad_x, grad_weight, grad_bias, grad_residual


def linear(x: torch.Tensor, weight: torch.Tensor,
           bias: torch.Tensor) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` for 2-D ``x`` in one oneDNN kernel,
    with autograd; ``x`` must pass :func:`takes`."""
    return _Linear.apply(x, weight, bias, None)


def linear_or_torch(x: torch.Tensor, weight: torch.Tensor,
                    bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` for 2-D ``x``: oneDNN's product
    (:func:`linear`) where it :func:`takes` ``x`` in eager mode, torch's
    where traced or compiled (exporters and FLOP counters see
    ``F.linear``) and for any other tensor."""
    if not traced() and takes(x) and x.is_contiguous():
        return linear(x, weight, bias)
    return F.linear(x, weight, bias)


def linear_add(x: torch.Tensor, residual: torch.Tensor,
               weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``residual + F.linear(x, weight, bias)`` for 2-D ``x`` in one
    oneDNN kernel, with autograd; ``x`` must pass :func:`takes`."""
    return _Linear.apply(x, weight, bias, residual)


def linear_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                approximate: str) -> torch.Tensor:
    """``gelu(linear(x))`` in one oneDNN kernel, without autograd (the
    backward would need the linear's output); ``x`` must pass
    :func:`takes`."""
    return linear_pointwise()(x, weight, bias, 'gelu', [], approximate)
