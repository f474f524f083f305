"""CPU only: oneDNN's fused linear kernels for the fast path's inference.

``torch.ops.mkldnn._linear_pointwise`` (a private torch op, the one
Inductor uses for CPU) computes ``gelu(linear(x))`` and
``linear(x) + residual`` in one pass each. It exists only for CPU tensors
and has no autograd, so :func:`takes` admits fp32 CPU tensors without
gradients outside autocast; everything else uses the torch fallbacks in
``fast_path.py``.
"""
from functools import lru_cache
from typing import Optional

import torch


@lru_cache(maxsize=None)
def linear_pointwise() -> Optional[object]:
    """torch's private fused-linear op, or None where this torch build
    lacks it (then callers fall back to ``F.linear``)."""
    if not torch.backends.mkldnn.is_available():
        return None
    return getattr(torch.ops.mkldnn, '_linear_pointwise', None)


def takes(x: torch.Tensor) -> bool:
    """Whether the oneDNN kernels may run on ``x``: a CPU fp32 tensor,
    no CPU autocast (which ``F.linear`` follows and these ops do not),
    oneDNN enabled and the op present."""
    return x.device.type == 'cpu' and x.dtype == torch.float32 and \
        not torch.is_autocast_enabled('cpu') and \
        torch.backends.mkldnn.enabled and linear_pointwise() is not None


def linear_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                approximate: str) -> torch.Tensor:
    """``gelu(linear(x))`` in one oneDNN kernel; ``x`` must pass
    :func:`takes`."""
    return linear_pointwise()(x, weight, bias, 'gelu', [], approximate)


def linear_add(x: torch.Tensor, residual: torch.Tensor,
               weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``linear(x) + residual`` in one oneDNN kernel; ``x`` must pass
    :func:`takes`."""
    return linear_pointwise().binary(x, residual, weight, bias, 'add')
