"""PoolFormer's blocks in a form whose quantized version keeps their
function: the same function in fp32, written with the operations an INT8
quantizer handles well.

PoolFormer's token mixer returns ``pool(x) - x``, the small difference of
two nearly equal activations: quantizing both terms to 8 bits loses most of
the difference. The mixer is linear in ``x``, and the norm's affine and the
layer scale are per-channel factors around it (average pooling that
excludes padding from its count commutes with a per-channel affine, see
``models/backbones/fast_path.py``), so the branch is

    ``a * (pool(n) - n)``, ``n`` the normalised input, ``a`` = layer scale
    times the norm's weight (the norm's bias cancels).

With ``S`` the 3x3 box sum and ``c`` the count of pixels inside the image
(``k*k`` in the interior), ``pool(n) - n = g * (S/k² - n) + (g - 1) * n``
with ``g = k²/c``, which is 1 in the interior. :class:`QuantizableBlock`
computes ``S/k² - n`` scaled by ``a`` as one depthwise convolution with
fixed weights (centre tap ``a/k² - a``), so the quantizer sees one linear
operator on one activation; the border term is zero inside the image. The
second norm's affine folds into ``fc1``, the second layer scale into
``fc2``.
"""
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

from ..models.backbones.fast_path import is_foldable, layer_scales
from ..models.backbones.metaformer import MetaFormer


class QuantizableBlock(nn.Module):
    """``block``'s function (a PoolFormer block that
    :func:`~mmpoolformer.models.backbones.fast_path.is_foldable`, in eval
    mode) as norm without affine, a fixed-weight depthwise convolution,
    norm without affine and the MLP with the affines folded in."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        if not is_foldable(block):
            raise ValueError('QuantizableBlock takes PoolFormer blocks '
                             '(pooling mixer, GroupNorm with one group and '
                             'an affine, an MLP with biases).')
        scale1, scale2 = layer_scales(block)
        norm1, norm2, mlp = block.norm1, block.norm2, block.mlp
        self.eps1, self.eps2 = norm1.eps, norm2.eps
        self.size = block.token_mixer.pool.kernel_size
        with torch.no_grad():
            a = scale1 * norm1.weight
            taps = self.size * self.size
            kernel = a.new_full((a.numel(), 1, self.size, self.size),
                                1. / taps)
            kernel[:, :, self.size // 2, self.size // 2] -= 1.
            self.register_buffer('mixer_weight', kernel * a[:, None, None,
                                                            None])
            self.register_buffer('mixer_scale', a[None, :, None, None])
            weight1 = mlp.fc1.weight
            self.fc1 = nn.Conv2d(weight1.shape[1], weight1.shape[0], 1)
            self.fc1.weight.copy_(weight1 * norm2.weight[None, :, None, None])
            self.fc1.bias.copy_(mlp.fc1.bias
                                + weight1[:, :, 0, 0] @ norm2.bias)
            self.act = mlp.act
            weight2 = mlp.fc2.weight
            self.fc2 = nn.Conv2d(weight2.shape[1], weight2.shape[0], 1)
            self.fc2.weight.copy_(weight2 * scale2[:, None, None, None])
            self.fc2.bias.copy_(mlp.fc2.bias * scale2)

    def border_gain(self, x: torch.Tensor) -> torch.Tensor:
        """``g = k²/c`` as a ``H x W`` map: 1 inside the image, above 1
        where the window reaches over the border. ``c`` is the product of
        the rows' and the columns' counts, from the map's size (index
        arithmetic, which runtimes fold to constants at a fixed size)."""
        reach = self.size // 2

        def counts(length) -> torch.Tensor:
            index = torch.arange(length, dtype=x.dtype, device=x.device)
            return (index.clamp(max=reach)
                    + (length - 1 - index).clamp(max=reach) + 1)

        height, width = x.shape[2:]
        return (self.size * self.size) / (counts(height)[:, None]
                                          * counts(width)[None, :])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = F.group_norm(x, 1, eps=self.eps1)
        gain = self.border_gain(n)
        mixed = F.conv2d(n, self.mixer_weight, padding=self.size // 2,
                         groups=n.shape[1])
        x = x + (gain * mixed + (gain - 1.) * (self.mixer_scale * n))
        n = F.group_norm(x, 1, eps=self.eps2)
        return x + self.fc2(self.act(self.fc1(n)))


def make_quantizable(model: nn.Module) -> List[str]:
    """Replace (in place) every PoolFormer block of ``model`` by its
    :class:`QuantizableBlock`; return what was changed, to be told to the
    user. ``model`` must be in eval mode (the forms hold no dropout or
    stochastic depth)."""
    if model.training:
        raise ValueError('make_quantizable: call model.eval() first; the '
                         'quantizable blocks compute inference only.')
    for module in model.modules():
        if isinstance(module, MetaFormer):
            module.fast_path = False  # the blocks' plain forwards
    names = [name for name, module in model.named_modules()
             if is_foldable(module)]
    for name in names:
        parent, _, child = name.rpartition('.')
        block = model.get_submodule(name)
        model.get_submodule(parent).register_module(
            child, QuantizableBlock(block).eval())
    return [f'{len(names)} PoolFormer blocks -> QuantizableBlock (the mixer '
            'as one depthwise convolution, the norms\' affines folded)'
            ] if names else []
