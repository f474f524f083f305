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
from . import onednn_kernels


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

    As in the released MetaFormer models, q is scaled by ``head_dim**-0.5``
    before its product with k (the original's trick for a stable product).
    The MetaFormer baselines (CAFormer) project without a bias.
    """

    def __init__(self, dim: int, head_dim: int = 32,
                 qkv_bias: bool = False, proj_bias: bool = True) -> None:
        super().__init__()
        if dim % head_dim:
            raise ValueError(f'attention mixer: dim {dim} is not divisible '
                             f'by head_dim {head_dim}; choose a head_dim '
                             f'that divides every stage width.')
        self.num_heads = dim // head_dim
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        q, k, v = self._linear(self.qkv, tokens).reshape(
            b, h * w, 3, self.num_heads, c // self.num_heads).permute(
                2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(
            q * self.scale, k, v, scale=1.)
        out = self._linear(self.proj,
                           out.transpose(1, 2).reshape(b, h * w, c))
        return out.transpose(1, 2).reshape(b, c, h, w)

    @staticmethod
    def _linear(layer: nn.Linear, tokens: torch.Tensor) -> torch.Tensor:
        """``layer(tokens)`` over ``(B, N, C)`` tokens, in oneDNN's product
        for fp32 on the CPU (``onednn_kernels.linear_or_torch``)."""
        out = onednn_kernels.linear_or_torch(
            tokens.reshape(-1, tokens.shape[-1]), layer.weight, layer.bias)
        return out.view(*tokens.shape[:-1], -1)


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
