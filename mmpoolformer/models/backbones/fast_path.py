"""The fast path of the MetaFormer skeleton: the same function as the
original operations, with fewer memory passes. Nothing else in the backbone
calls oneDNN.

:func:`choose_block_path` decides, once per forward, how the blocks run
(``MetaFormer(fast_path=...)``):

* ``PLAIN``: each module's own forward, the original operations;
* ``FOLDED``: with autograd (training), standard torch ops only;
* ``ONEDNN``: ``FOLDED`` with oneDNN's fused linears forward
  (``onednn_kernels.py``), for fp32 CPU tensors only;
* ``FOLDED_EVAL``: without gradients in eval mode, standard torch ops;
* ``ONEDNN_EVAL``: ``FOLDED_EVAL`` with oneDNN's fused linears, for fp32
  CPU tensors and for bf16 ones (a model converted to bf16).

Off the plain path every map is channels_last and every 1x1 convolution a
linear layer over the ``(B*H*W, C)`` tokens (oneDNN's product on the oneDNN
paths). Norms written out in elementary ops run as torch's fused kernels,
attention as ``F.scaled_dot_product_attention``, and StarReLU in fewer
passes over its map.

PoolFormer's blocks (:func:`is_foldable`) go further: the norms' affines
and the layer scales fold into neighbouring ops. Average pooling that
excludes padding from its count commutes with a per-channel affine, so with
``y = a * xhat + b`` (``xhat`` the normalised input)
``pool(y) - y = a * (pool(xhat) - xhat)``; ``layer_scale2`` folds into
``fc2`` and, without gradients, ``norm2``'s affine into ``fc1``. With
autograd every parameter gets its gradient; only the pooling's backward is
hand-written (:class:`PoolMixer`). Without gradients the mixer is one
``lerp`` from GroupNorm's statistics. The MLP's 1x1 convolutions run in row
blocks (see :data:`HIDDEN_BLOCK_BYTES`).
"""
import enum
from functools import partial
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from . import onednn_kernels
from .activations import StarReLU
from .norms import LayerNormGeneral
from .token_mixers import Attention, Pooling, SepConv, as_map, as_tokens

# The hidden maps of a block's MLP are ``mlp_ratio`` (4) times its input. Any
# above glibc's largest mmap threshold (32 MiB) is mapped afresh and
# page-faulted on first touch, forward and backward, so the MLP runs over
# row blocks whose hidden maps stay within this, which the heap reuses.
HIDDEN_BLOCK_BYTES = 16 * 2**20

# Device types on which the fast path was measured faster than the plain
# one (tools/analysis/benchmark.py); ``fast_path=None`` uses it only there.
MEASURED_FASTER = ('cpu', )


class BlockPath(enum.Enum):
    """How the blocks of one forward run (the folded forms where a block
    :func:`is_foldable`, the fast forms of its parts elsewhere)."""
    PLAIN = 'plain'
    FOLDED = 'folded'
    ONEDNN = 'onednn'
    FOLDED_EVAL = 'folded_eval'
    ONEDNN_EVAL = 'onednn_eval'


def is_foldable(block: nn.Module) -> bool:
    """Whether the folded forms compute this block's function: PoolFormer's
    block, an odd pooling window, GroupNorm with one group and an affine,
    an MLP with biases and no residual scales."""
    mixer = getattr(block, 'token_mixer', None)
    if not isinstance(mixer, Pooling) or mixer.pool.kernel_size % 2 == 0:
        return False
    return all(
        isinstance(norm, nn.GroupNorm) and norm.num_groups == 1
        and norm.affine for norm in (block.norm1, block.norm2)) and \
        block.mlp.fc1.bias is not None and not block.mlp.channels_last and \
        isinstance(block.res_scale1, nn.Identity)


def choose_block_path(fast_path: Optional[bool], x: torch.Tensor,
                      training: bool) -> BlockPath:
    """The path of every block in a forward of a model with ``fast_path``
    and ``training`` on the input ``x``.

    False is the plain path. None is the fast path, in training and
    inference, on devices in :data:`MEASURED_FASTER`, outside tracing and
    compiling (FLOP counters and exporters see the original operations).
    True is the fast path on every device. oneDNN kernels only ever see
    CPU tensors.
    """
    if fast_path is False:
        return BlockPath.PLAIN
    if fast_path is None and (x.device.type not in MEASURED_FASTER
                              or onednn_kernels.traced()):
        return BlockPath.PLAIN
    if training or torch.is_grad_enabled():
        return BlockPath.ONEDNN if onednn_kernels.takes(x) \
            else BlockPath.FOLDED
    return BlockPath.ONEDNN_EVAL if onednn_kernels.takes(x, inference=True) \
        else BlockPath.FOLDED_EVAL


def block_runner(block: nn.Module, path: BlockPath) -> Callable:
    """What runs ``block`` on ``path``: the block itself on the plain path,
    else its folded form (:func:`is_foldable` blocks) or the fast form of
    its parts; these return channels_last maps."""
    if path is BlockPath.PLAIN:
        return block
    if is_foldable(block):
        return partial(_folded_forward, block, path)
    linear = _linear_of(path)
    parts = dict(norm1=partial(_norm, block.norm1),
                 mixer=partial(_mixer, block.token_mixer, linear),
                 norm2=partial(_norm, block.norm2),
                 mlp=partial(_mlp, block.mlp, linear))

    def run(x: torch.Tensor) -> torch.Tensor:
        return block.residual_forward(_channels_last(x), **parts)

    return run


def downsampling_runner(module: nn.Module, path: BlockPath) -> Callable:
    """What runs a stem or downsampling ``module`` on ``path``: itself,
    or its fast form on a channels_last map."""
    if path is BlockPath.PLAIN or isinstance(module, nn.Identity):
        return module

    def run(x: torch.Tensor) -> torch.Tensor:
        x = _channels_last(x)
        if module.norm_first:
            return module.conv(_norm(module.norm, x))
        return _norm(module.norm, module.conv(x))

    return run


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


def _linear_of(path: BlockPath) -> Callable:
    """The product of a path's 1x1 convolutions over tokens."""
    if path in (BlockPath.ONEDNN, BlockPath.ONEDNN_EVAL):
        return onednn_kernels.linear_or_torch
    return F.linear


def _norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm(x)``, a :class:`LayerNormGeneral` as torch's fused kernel."""
    if not isinstance(norm, LayerNormGeneral):
        return norm(x)
    if norm.dims == 'all':
        return F.group_norm(x, 1, norm.weight, norm.bias, norm.eps)
    return F.layer_norm(x.permute(0, 2, 3, 1), norm.weight.shape,
                        norm.weight, norm.bias, norm.eps).permute(0, 3, 1, 2)


def _pointwise(conv: nn.Conv2d, linear: Callable,
               x: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution of a channels_last map as ``linear`` over its
    tokens."""
    b, _, h, w = x.shape
    rows = linear(as_tokens(x), conv.weight.flatten(1), conv.bias)
    return as_map(rows, b, h, w)


def _activation(act: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``act(x)``; StarReLU in fewer passes over the map: in place without
    gradients (the same values), as one ``addcmul`` with them."""
    if not isinstance(act, StarReLU):
        return act(x)
    relu = F.relu(x)
    if not torch.is_grad_enabled():
        return relu.mul_(relu).mul_(act.scale).add_(act.bias)
    return torch.addcmul(act.bias, relu * act.scale, relu)


def _mlp(mlp: nn.Module, linear: Callable, x: torch.Tensor) -> torch.Tensor:
    x = mlp.drop(_activation(mlp.act, _pointwise(mlp.fc1, linear, x)))
    return mlp.drop(_pointwise(mlp.fc2, linear, x))


def _mixer(mixer: nn.Module, linear: Callable,
           x: torch.Tensor) -> torch.Tensor:
    """The token mixer on a channels_last map: attention through
    ``F.scaled_dot_product_attention``, the separable convolution's 1x1
    convolutions as ``linear``; other mixers as they are."""
    if isinstance(mixer, SepConv):
        x = mixer.dwconv(
            _activation(mixer.act1, _pointwise(mixer.pwconv1, linear, x)))
        return _pointwise(mixer.pwconv2, linear, x)
    if not isinstance(mixer, Attention):
        return mixer(x)
    b, c, h, w = x.shape
    qkv = linear(as_tokens(x), mixer.qkv.weight, mixer.qkv.bias)
    q, k, v = qkv.view(b, h * w, 3, mixer.num_heads, -1).permute(
        2, 0, 3, 1, 4)
    out = F.scaled_dot_product_attention(q * mixer.scale, k, v, scale=1.)
    out = linear(out.transpose(1, 2).reshape(b * h * w, c),
                 mixer.proj.weight, mixer.proj.bias)
    return as_map(out, b, h, w)


def _folded_forward(block: nn.Module, path: BlockPath,
                    x: torch.Tensor) -> torch.Tensor:
    """``block(x)`` through a folded ``path`` for a block that
    :func:`is_foldable`; the result is channels_last."""
    x = _channels_last(x)
    if path is BlockPath.FOLDED:
        return _autograd_forward(block, x, F.linear, _linear_add)
    if path is BlockPath.ONEDNN:
        return _autograd_forward(block, x, onednn_kernels.linear,
                                 onednn_kernels.linear_add)
    if path is BlockPath.ONEDNN_EVAL:
        return _eval_forward(block, x, _onednn_linear_act,
                             onednn_kernels.linear_add)
    return _eval_forward(block, x, _linear_act, _linear_add)


def group_norm_stats(x: torch.Tensor,
                     eps: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-sample mean and 1/std of ``x`` (GroupNorm with one group), each
    ``(B, 1, 1, 1)``. ``torch.native_group_norm`` (not a public API) is the
    fastest one-pass kernel; without it, ``torch.var_mean``."""
    b, c, h, w = x.shape
    kernel = getattr(torch, 'native_group_norm', None)
    if kernel is not None:
        _, mean, rstd = kernel(x, None, None, b, c, h * w, 1, eps)
    else:
        var, mean = torch.var_mean(x, dim=(1, 2, 3), correction=0)
        rstd = (var + eps).rsqrt()
    return mean.view(b, 1, 1, 1), rstd.view(b, 1, 1, 1)


def layer_scales(block: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """A block's two layer scales (ones where it has none)."""
    if not isinstance(block.layer_scale1, nn.Identity):
        return block.layer_scale1.scale, block.layer_scale2.scale
    ones = block.norm1.weight.new_ones(block.norm1.num_channels)
    return ones, ones


def _box_sum(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.avg_pool2d(x, size, 1, size // 2, divisor_override=1)


class PoolMixer(torch.autograd.Function):
    """``k * (pool(x) - x)`` for a per-channel ``k`` and the pooling of
    :class:`Pooling` (stride 1, padding excluded from the count).

    Saves only ``pool(x) - x``. The pooling's adjoint,
    ``pool^T(z) = box_sum(z / count)``, runs as a forward pooling, which is
    several times faster than ``avg_pool2d_backward`` for channels_last.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: torch.Tensor,
                size: int) -> torch.Tensor:
        diff = F.avg_pool2d(x, size, 1, size // 2,
                            count_include_pad=False).sub_(x)
        ctx.save_for_backward(diff, k)
        ctx.size = size
        return diff * k.view(1, -1, 1, 1)

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
        return grad_x, grad_k, None


class NormPoolMixer(torch.autograd.Function):
    """``x + k * (pool(y) - y)`` with ``y = norm1(x)`` (GroupNorm, one
    group), ``k = weight * scale``: ``x + k * rstd * (pool(x) - x)``, so
    the normalised map is never kept and GroupNorm's backward folds into
    this one. ``bias`` cancels; its gradient is exactly zero."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor, scale: torch.Tensor, size: int,
                eps: float) -> torch.Tensor:
        mean, rstd = group_norm_stats(x, eps)
        diff = F.avg_pool2d(x, size, 1, size // 2,
                            count_include_pad=False).sub_(x)
        ctx.save_for_backward(x, diff, weight, scale, mean, rstd)
        ctx.size = size
        k = (weight * scale).view(1, -1, 1, 1)
        return torch.addcmul(x, diff, k * rstd)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, diff, weight, scale, mean, rstd = ctx.saved_tensors
        b, c, h, w = x.shape
        k = weight * scale
        grad = grad.contiguous(memory_format=torch.channels_last)
        product = grad * diff  # its memory is reused below
        grad_diff = product.sum((2, 3))  # (B, C)
        grad_k = (grad_diff * rstd.view(b, 1)).sum(0)
        # d rstd / dx = -rstd^3 (x - mean) / N
        coef = (grad_diff * k).sum(1).view(b, 1, 1, 1) * rstd.pow(3) / (
            -(c * h * w))
        count = _box_sum(grad.new_ones(1, 1, h, w), ctx.size)
        k_count = (k.view(1, 1, 1, -1) / count.view(1, h, w, 1)
                   ).permute(0, 3, 1, 2)
        pooled = _box_sum(torch.mul(grad, k_count, out=product), ctx.size)
        del product
        # grad + rstd * (pooled - k * grad) + coef * (x - mean), in three
        # passes: coef * x - coef * mean, + (1 - rstd * k) * grad,
        # + rstd * pooled.
        grad_x = torch.addcmul(-coef * mean, x, coef)
        grad_x.addcmul_(grad, 1 - rstd * k.view(1, -1, 1, 1))
        grad_x.addcmul_(pooled, rstd)
        return (grad_x, grad_k * scale, torch.zeros_like(weight),
                grad_k * weight, None, None)


def _autograd_forward(block: nn.Module, x: torch.Tensor, linear: Callable,
                      linear_add: Callable) -> torch.Tensor:
    norm1, norm2 = block.norm1, block.norm2
    fc1, fc2 = block.mlp.fc1, block.mlp.fc2
    scale1, scale2 = layer_scales(block)
    size = block.token_mixer.pool.kernel_size
    if isinstance(block.drop_path, nn.Identity):
        x = NormPoolMixer.apply(x, norm1.weight, norm1.bias, scale1, size,
                                norm1.eps)
    else:
        # norm1.bias cancels in pool(y) - y; keeping it in the graph gives
        # it the zero gradient it has in the original.
        k = norm1.weight * scale1 + 0 * norm1.bias
        normed = F.group_norm(x, 1, eps=norm1.eps)
        x = x + block.drop_path(PoolMixer.apply(normed, k, size))

    # GroupNorm applies norm2's affine in its own pass, at no extra cost;
    # folding it into fc1 would add weight-sized ops forward and backward.
    # The 1x1 convolutions run as linears over the tokens: matrix products
    # train faster than oneDNN's 1x1 convolutions (mostly their backward).
    b, c, h, w = x.shape
    normed = F.group_norm(x, 1, norm2.weight, norm2.bias, norm2.eps)
    w1, w2 = fc1.weight.flatten(1), fc2.weight.flatten(1) * scale2.view(-1, 1)
    b2 = fc2.bias * scale2
    act, drop = block.mlp.act, block.mlp.drop
    if isinstance(block.drop_path, nn.Identity) and drop.p == 0:
        # The residual joins in the second linear.
        def mlp_add(tokens: torch.Tensor,
                    residual: torch.Tensor) -> torch.Tensor:
            return linear_add(act(linear(tokens, w1, fc1.bias)), residual,
                              w2, b2)

        out = _in_row_blocks(mlp_add, [as_tokens(normed), as_tokens(x)],
                             fc1.out_channels)
        return as_map(out, b, h, w)

    def mlp(tokens: torch.Tensor) -> torch.Tensor:
        return linear(drop(act(linear(tokens, w1, fc1.bias))), w2, b2)

    out = _in_row_blocks(mlp, [as_tokens(normed)], fc1.out_channels)
    return x + block.drop_path(drop(as_map(out, b, h, w)))


def _in_row_blocks(fn: Callable, tokens: List[torch.Tensor],
                   hidden_channels: int) -> torch.Tensor:
    """``fn(*tokens)`` for an MLP with ``hidden_channels``, computed over
    row blocks of the ``(N, C)`` token tensors whose hidden maps stay within
    :data:`HIDDEN_BLOCK_BYTES`, concatenated."""
    rows = tokens[0].shape[0]
    hidden_bytes = rows * hidden_channels * tokens[0].element_size()
    blocks = -(-hidden_bytes // HIDDEN_BLOCK_BYTES)
    if blocks <= 1:
        return fn(*tokens)
    size = -(-rows // blocks)
    return torch.cat(
        [fn(*parts) for parts in zip(*(t.split(size) for t in tokens))])


def _linear_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                act: nn.Module) -> torch.Tensor:
    return act(F.linear(x, weight, bias))


def _linear_add(x: torch.Tensor, residual: torch.Tensor,
                weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return residual + F.linear(x, weight, bias)


def _onednn_linear_act(x: torch.Tensor, weight: torch.Tensor,
                       bias: torch.Tensor, act: nn.Module) -> torch.Tensor:
    if isinstance(act, nn.GELU):
        return onednn_kernels.linear_gelu(x, weight, bias, act.approximate)
    return _linear_act(x, weight, bias, act)


def _eval_forward(block: nn.Module, x: torch.Tensor, linear_act: Callable,
                  linear_add: Callable) -> torch.Tensor:
    b, c, h, w = x.shape
    norm1, norm2 = block.norm1, block.norm2
    # The residual stream in the parameters' dtype, as the plain path's
    # promotion gives under autocast; the linears follow autocast.
    x = x.to(norm1.weight.dtype)
    fc1, fc2 = block.mlp.fc1, block.mlp.fc2
    scale1, scale2 = layer_scales(block)
    # x + scale1 * (pool(y) - y) with y = norm1(x) is x + k * (pool(x) - x)
    # for k = scale1 * weight / std, per sample and channel: one lerp.
    rstd = group_norm_stats(x, norm1.eps)[1]
    k = (norm1.weight * scale1).view(1, c, 1, 1) * rstd
    x = torch.lerp(x, block.token_mixer.pool(x), k)

    normed = F.group_norm(x, 1, eps=norm2.eps)
    w1 = fc1.weight.flatten(1)
    w1_normed = w1 * norm2.weight
    b1_normed = torch.addmv(fc1.bias, w1, norm2.bias)
    w2 = fc2.weight.flatten(1) * scale2.view(-1, 1)
    b2 = fc2.bias * scale2

    def mlp(tokens: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        hidden = linear_act(tokens, w1_normed, b1_normed, block.mlp.act)
        return linear_add(hidden, residual, w2, b2)

    out = _in_row_blocks(mlp, [as_tokens(normed), as_tokens(x)],
                         fc1.out_channels)
    return as_map(out, b, h, w)
