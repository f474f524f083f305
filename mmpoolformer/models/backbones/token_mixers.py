"""Token mixers: the part of a MetaFormer block that mixes spatial tokens.

Every mixer maps a ``(B, C, H, W)`` map to one of the same shape. The paper
(Table 5) swaps pooling for identity, depthwise convolution, attention and
spatial MLP; each is registered in our ``TOKEN_MIXERS`` registry by the name
a config uses, and :func:`~mmpoolformer.models.builder.build_token_mixer`
makes it from that name or a dict.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import TOKEN_MIXERS
from .activations import StarReLU


def as_tokens(x: torch.Tensor) -> torch.Tensor:
    """A ``(B, C, H, W)`` map as ``(B*H*W, C)`` tokens (a view of a
    channels_last map, a copy of another)."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def as_map(tokens: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
    """``(B*H*W, C)`` tokens as a channels_last ``(B, C, H, W)`` view."""
    return tokens.view(b, h, w, -1).permute(0, 3, 1, 2)


def pointwise(conv: nn.Conv2d, x: torch.Tensor,
              channels_last: bool) -> torch.Tensor:
    """``conv(x)`` for a 1x1 convolution; with ``channels_last`` as the
    MetaFormer baselines' originals compute it, a linear layer over the
    ``(B, H, W, C)`` tokens (the result is a channels_last map)."""
    if not channels_last:
        return conv(x)
    b, _, h, w = x.shape
    rows = F.linear(as_tokens(x), conv.weight.flatten(1), conv.bias)
    return as_map(rows, b, h, w)


@TOKEN_MIXERS.register_module('pooling')
class Pooling(nn.Module):
    """PoolFormer's mixer: average pooling minus the input itself.

    The block already adds a residual, so ``pool(x) - x`` makes the mixer
    contribute only the neighbourhood difference. Padding is excluded from
    the average (``count_include_pad=False``), as in the original.
    """

    def __init__(self, dim: int, pool_size: int = 3) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(
            pool_size, stride=1, padding=pool_size // 2,
            count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


@TOKEN_MIXERS.register_module('identity')
class IdentityMixer(nn.Identity):
    """No token mixing at all: the paper's lower bound (74.3% for S12)."""

    def __init__(self, dim: int) -> None:
        super().__init__()


@TOKEN_MIXERS.register_module('dwconv')
class DepthwiseConv(nn.Module):
    """A depthwise convolution, the ablation's learnable local mixer."""

    def __init__(self, dim: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, kernel_size,
                              padding=kernel_size // 2, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


@TOKEN_MIXERS.register_module('attention')
class Attention(nn.Module):
    """Multi-head self-attention over all ``H*W`` tokens (no positional
    embedding of its own, so any input size works).

    It computes as either original: the released MetaFormer S12 hybrids
    scale q by ``head_dim**-0.5`` before its product with k
    (``prescale_query=True``) over tokens taken from an NCHW map; the
    MetaFormer baselines (CAFormer, ``prescale_query=False``,
    ``channels_last=True``) scale the product, over the ``(B, H, W, C)``
    tokens, and project without a bias.
    """

    def __init__(self, dim: int, head_dim: int = 32,
                 qkv_bias: bool = False, proj_bias: bool = True,
                 prescale_query: bool = True,
                 channels_last: bool = False) -> None:
        super().__init__()
        if dim % head_dim:
            raise ValueError(f'attention mixer: dim {dim} is not divisible '
                             f'by head_dim {head_dim}; choose a head_dim '
                             f'that divides every stage width.')
        self.num_heads = dim // head_dim
        self.scale = head_dim ** -0.5
        self.prescale_query = prescale_query
        self.channels_last = channels_last
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(B, N, C)`` tokens of a ``(B, C, H, W)`` map, in the
        original's memory order."""
        if self.channels_last:
            return x.permute(0, 2, 3, 1).flatten(1, 2)
        return x.flatten(2).transpose(1, 2)

    def to_map(self, out: torch.Tensor, b: int, c: int, h: int,
               w: int) -> torch.Tensor:
        """``(B, N, C)`` tokens back to a ``(B, C, H, W)`` map."""
        if self.channels_last:
            return out.view(b, h, w, c).permute(0, 3, 1, 2)
        return out.transpose(1, 2).reshape(b, c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.tokens(x)).reshape(
            b, h * w, 3, self.num_heads, c // self.num_heads).permute(
                2, 0, 3, 1, 4).unbind(0)
        if self.prescale_query:
            attn = (q * self.scale) @ k.transpose(-2, -1)
        else:
            attn = (q @ k.transpose(-2, -1)) * self.scale
        out = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, h * w, c)
        return self.to_map(self.proj(out), b, c, h, w)


@TOKEN_MIXERS.register_module('spatial_mlp')
class SpatialMlp(nn.Module):
    """A linear layer across tokens (MLP-Mixer / ResMLP style).

    Its weight has one row per token, so it only works for the token grid
    it was built for: give ``token_size`` (the map size at its stage). The
    released MetaFormer models (``SpatialFc`` there) have no bias.
    """

    def __init__(self, dim: int, token_size: Optional[Sequence[int]] = None,
                 bias: bool = True) -> None:
        super().__init__()
        if token_size is None:
            raise ValueError(
                "The 'spatial_mlp' mixer needs a fixed token grid: pass "
                "dict(type='spatial_mlp', token_size=(H, W)) with the map "
                'size of its stage (input size / stride).')
        self.token_size = tuple(token_size)
        num_tokens = self.token_size[0] * self.token_size[1]
        self.fc = nn.Linear(num_tokens, num_tokens, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.token_size:
            raise ValueError(
                f"The 'spatial_mlp' mixer was built for a {self.token_size} "
                f'token grid but got {tuple(x.shape[-2:])}: it needs a fixed '
                'input size. Resize every input to the size it was built '
                "for, or use 'pooling', 'dwconv' or 'attention', which "
                'accept any size.')
        return self.fc(x.flatten(2)).reshape(x.shape)


@TOKEN_MIXERS.register_module('sepconv')
class SepConv(nn.Module):
    """ConvFormer's mixer, MobileNetV2's inverted separable convolution:
    1x1 expansion, StarReLU, depthwise ``kernel_size`` convolution, 1x1
    projection, all without biases; its 1x1 convolutions run as linear
    layers over the ``(B, H, W, C)`` tokens, as the original's."""

    def __init__(self, dim: int, expansion_ratio: float = 2.,
                 kernel_size: int = 7) -> None:
        super().__init__()
        hidden = int(expansion_ratio * dim)
        self.pwconv1 = nn.Conv2d(dim, hidden, 1, bias=False)
        self.act1 = StarReLU()
        self.dwconv = nn.Conv2d(hidden, hidden, kernel_size,
                                padding=kernel_size // 2, groups=hidden,
                                bias=False)
        self.pwconv2 = nn.Conv2d(hidden, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dwconv(self.act1(pointwise(self.pwconv1, x, True)))
        return pointwise(self.pwconv2, x, True)
