"""A faster way through PoolFormer blocks on CPU: the same function with
fewer memory passes and oneDNN kernels.

``PoolFormer(fast_path=True)`` sends each block that has the default pooling
mixer and GroupNorm(1) norms through :func:`block_forward`:

* maps stay channels_last, so the 1x1 convolutions and the pooling run
  oneDNN and vectorised NHWC kernels instead of NCHW ones;
* the norms' affines and the layer scales fold into neighbouring ops. Average
  pooling that excludes padding from its count commutes with a per-channel
  affine, so with ``y = a * xhat + b`` (``xhat`` the normalised input)
  ``pool(y) - y = a * (pool(xhat) - xhat)``; ``norm2``'s affine folds into
  ``fc1`` and ``layer_scale_2`` into ``fc2``.

With gradients (training) everything stays under autograd, so every
parameter gets its gradient; only the pooling's backward is hand-written
(:class:`PoolMixer`). Without gradients in eval mode, the mixer is one
``lerp`` from GroupNorm's statistics and the MLP is oneDNN's fused
linear+GELU and linear+residual.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .token_mixers import Pooling


def supports_fast_path(block: nn.Module) -> bool:
    """Whether :func:`block_forward` computes this block's function: an odd
    pooling window and GroupNorm with one group and an affine."""
    mixer = getattr(block, 'token_mixer', None)
    if not isinstance(mixer, Pooling) or mixer.pool.kernel_size % 2 == 0:
        return False
    return all(
        isinstance(norm, nn.GroupNorm) and norm.num_groups == 1
        and norm.affine for norm in (block.norm1, block.norm2))


def block_forward(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``block(x)`` for a block that :func:`supports_fast_path`; the result
    is channels_last."""
    x = x.contiguous(memory_format=torch.channels_last)
    if block.training or torch.is_grad_enabled():
        return _train_forward(block, x)
    return _infer_forward(block, x)


def _layer_scales(block: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    if block.use_layer_scale:
        return block.layer_scale_1, block.layer_scale_2
    ones = block.norm1.weight.new_ones(block.norm1.num_channels)
    return ones, ones


def _box_sum(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.avg_pool2d(x, size, 1, size // 2, divisor_override=1)


class PoolMixer(torch.autograd.Function):
    """``residual + k * (pool(x) - x)`` (or without ``residual``, None) for a
    per-channel ``k`` and the pooling of :class:`Pooling` (stride 1,
    padding excluded from the count).

    Saves only ``pool(x) - x``. The pooling's adjoint,
    ``pool^T(z) = box_sum(z / count)``, runs as a forward pooling, which is
    several times faster than ``avg_pool2d_backward`` for channels_last.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: torch.Tensor, size: int,
                residual: Optional[torch.Tensor]) -> torch.Tensor:
        diff = F.avg_pool2d(x, size, 1, size // 2,
                            count_include_pad=False).sub_(x)
        ctx.save_for_backward(diff, k)
        ctx.size = size
        k = k.view(1, -1, 1, 1)
        return diff * k if residual is None else \
            torch.addcmul(residual, diff, k)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        diff, k = ctx.saved_tensors
        grad_x = grad_k = None
        if ctx.needs_input_grad[1]:
            grad_k = (grad * diff).sum((0, 2, 3))
        if ctx.needs_input_grad[0]:
            grad = grad.contiguous(memory_format=torch.channels_last)
            h, w = grad.shape[-2:]
            count = _box_sum(grad.new_ones(1, 1, h, w), ctx.size)
            # k / count as a channels_last (1, C, H, W) map.
            k_count = (k.view(1, 1, 1, -1) / count.view(1, h, w, 1)
                       ).permute(0, 3, 1, 2)
            grad_x = _box_sum(grad * k_count, ctx.size).addcmul_(
                grad, k.view(1, -1, 1, 1), value=-1)
        grad_residual = grad if ctx.needs_input_grad[3] else None
        return grad_x, grad_k, None, grad_residual


def _train_forward(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    norm1, norm2 = block.norm1, block.norm2
    fc1, fc2 = block.mlp.fc1, block.mlp.fc2
    scale1, scale2 = _layer_scales(block)
    # norm1.bias cancels in pool(y) - y; keeping it in the graph gives it the
    # zero gradient it has in the original (weight decay still applies).
    k = norm1.weight * scale1 + 0 * norm1.bias
    normed = F.group_norm(x, 1, eps=norm1.eps)
    size = block.token_mixer.pool.kernel_size
    if isinstance(block.drop_path, nn.Identity):
        x = PoolMixer.apply(normed, k, size, x)
    else:
        x = x + block.drop_path(PoolMixer.apply(normed, k, size, None))

    w1 = fc1.weight
    hidden = F.conv2d(F.group_norm(x, 1, eps=norm2.eps),
                      w1 * norm2.weight.view(1, -1, 1, 1),
                      torch.addmv(fc1.bias, w1.flatten(1), norm2.bias))
    hidden = block.mlp.drop(block.mlp.act(hidden))
    out = F.conv2d(hidden, fc2.weight * scale2.view(-1, 1, 1, 1),
                   fc2.bias * scale2)
    return x + block.drop_path(block.mlp.drop(out))


def _mkldnn_linear(x: torch.Tensor) -> bool:
    """Whether oneDNN's fused linear ops can take ``x``: fp32 and no
    autocast (which F.linear follows, and they do not)."""
    return x.dtype == torch.float32 and \
        not torch.is_autocast_enabled('cpu') and \
        torch.backends.mkldnn.is_available() and \
        torch.backends.mkldnn.enabled and \
        hasattr(torch.ops.mkldnn, '_linear_pointwise')


def _linear_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                act: nn.Module) -> torch.Tensor:
    """``act(linear(x))``, fused in oneDNN for GELU."""
    if isinstance(act, nn.GELU) and _mkldnn_linear(x):
        return torch.ops.mkldnn._linear_pointwise(
            x, weight, bias, 'gelu', [], act.approximate)
    return act(F.linear(x, weight, bias))


def _linear_add(x: torch.Tensor, residual: torch.Tensor,
                weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``linear(x) + residual``, fused in oneDNN."""
    if _mkldnn_linear(x):
        return torch.ops.mkldnn._linear_pointwise.binary(
            x, residual, weight, bias, 'add')
    return residual + F.linear(x, weight, bias)


def _infer_forward(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    norm1, norm2 = block.norm1, block.norm2
    # The residual stream in the parameters' dtype, as the plain path's
    # promotion gives under autocast; the linears follow autocast.
    x = x.to(norm1.weight.dtype)
    fc1, fc2 = block.mlp.fc1, block.mlp.fc2
    scale1, scale2 = _layer_scales(block)
    # x + scale1 * (pool(y) - y) with y = norm1(x) is x + k * (pool(x) - x)
    # for k = scale1 * weight / std, per sample and channel: one lerp.
    rstd = torch.native_group_norm(x, None, None, b, c, h * w, 1,
                                   norm1.eps)[2]
    k = (norm1.weight * scale1).view(1, c, 1, 1) * rstd.view(b, 1, 1, 1)
    x = torch.lerp(x, block.token_mixer.pool(x), k)

    normed = torch.native_group_norm(x, None, None, b, c, h * w, 1,
                                     norm2.eps)[0]
    w1 = fc1.weight.flatten(1)
    hidden = _linear_act(_tokens(normed), w1 * norm2.weight,
                         torch.addmv(fc1.bias, w1, norm2.bias),
                         block.mlp.act)
    out = _linear_add(hidden, _tokens(x),
                      fc2.weight.flatten(1) * scale2.view(-1, 1),
                      fc2.bias * scale2)
    return out.view(b, h, w, c).permute(0, 3, 1, 2)


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """A channels_last ``(B, C, H, W)`` map as a ``(B*H*W, C)`` view."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
