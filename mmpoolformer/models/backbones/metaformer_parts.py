"""The parts that the MetaFormer baselines (PoolFormerV2, ConvFormer,
CAFormer; "MetaFormer Baselines for Vision", TPAMI 2024) add to PoolFormer's:
StarReLU, per-channel scales, the bias-free GroupNorm(1), the separable
convolution mixer, the downsampling with its norm, and the classifier heads.

All work on ``(B, C, H, W)`` maps, as our other mixers and norms do; the
original's linear layers over channels are 1x1 convolutions here (its files
are reshaped on loading).
"""
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS, TOKEN_MIXERS
from ..builder import build_norm
from . import onednn_kernels
from .fast_path import as_map, as_tokens
from .poolformer import Mlp


def pointwise(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` for a 1x1 convolution; on a channels_last map as a matrix
    product over its rows of channels, which runs faster than oneDNN's 1x1
    convolution (the result is channels_last too), in oneDNN's product for
    fp32 on the CPU (``onednn_kernels.linear_or_torch``: ``F.linear`` goes
    to MKL, which runs fp32 at half oneDNN's rate on AMD's CPUs)."""
    if not x.is_contiguous(memory_format=torch.channels_last):
        return conv(x)
    b, _, h, w = x.shape
    rows = onednn_kernels.linear_or_torch(
        as_tokens(x), conv.weight.flatten(1), conv.bias)
    return as_map(rows, b, h, w)


@MODELS.register_module()
class StarReLU(nn.Module):
    """``scale * relu(x) ** 2 + bias`` with a learnable scalar scale and
    bias (the paper's activation, cheaper than GELU)."""

    def __init__(self, scale_value: float = 1., bias_value: float = 0.,
                 inplace: bool = False) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=inplace)
        self.scale = nn.Parameter(scale_value * torch.ones(1))
        self.bias = nn.Parameter(bias_value * torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.relu(x) ** 2 + self.bias


class SquaredReLU(nn.Module):
    """``relu(x) ** 2``, the activation of the MLP classifier head."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.square(F.relu(x))


class Scale(nn.Module):
    """A learnable per-channel scale of a ``(B, C, H, W)`` map: the residual
    scale (on the shortcut) and the layer scale (on a branch)."""

    def __init__(self, dim: int, init_value: float = 1.) -> None:
        super().__init__()
        self.scale = nn.Parameter(init_value * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale[:, None, None]


@MODELS.register_module('GN1NoBias')
class GroupNorm1NoBias(nn.Module):
    """GroupNorm with one group (the Modified Layer Norm: channels and space
    together) with a per-channel weight and no bias, PoolFormerV2's norm."""
    _abbr_ = 'gn'

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, 1, self.weight, None, self.eps)


@TOKEN_MIXERS.register_module('sepconv')
class SepConv(nn.Module):
    """ConvFormer's mixer, MobileNetV2's inverted separable convolution:
    1x1 expansion, StarReLU, depthwise ``kernel_size`` convolution, 1x1
    projection, all without biases."""

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
        x = self.dwconv(self.act1(pointwise(self.pwconv1, x)))
        return pointwise(self.pwconv2, x)


class ChannelMlp(Mlp):
    """PoolFormer's channel MLP without biases and with StarReLU, its 1x1
    convolutions run by :func:`pointwise`."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.) -> None:
        super().__init__(dim, hidden_dim, dict(type=StarReLU), drop,
                         bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(pointwise(self.fc1, x)))
        return self.drop(pointwise(self.fc2, x))


class Downsampling(nn.Module):
    """A strided convolution with a norm: after it in the stem, before it
    (on the incoming map) between stages."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int, stride: int, padding: int,
                 norm_cfg: dict, norm_first: bool) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.norm = build_norm(norm_cfg,
                               in_channels if norm_first else out_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            return self.conv(self.norm(x))
        return self.norm(self.conv(x))


class MlpHead(nn.Module):
    """ConvFormer's and CAFormer's classifier: linear, SquaredReLU,
    LayerNorm, dropout, linear."""

    def __init__(self, dim: int, num_classes: int, mlp_ratio: float = 4.,
                 drop: float = 0.) -> None:
        super().__init__()
        hidden = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.norm(self.act(self.fc1(x)))))


class ClassifierHead(nn.Module):
    """Global average pooling, then a LayerNorm, then the classifier
    (``'linear'`` for PoolFormerV2, ``'mlp'`` for ConvFormer and CAFormer);
    an identity classifier for ``num_classes=0``."""

    def __init__(self, dim: int, num_classes: int, kind: str,
                 drop: float = 0., eps: float = 1e-6) -> None:
        super().__init__()
        if kind not in ('linear', 'mlp'):
            raise ValueError(f"head must be 'linear' or 'mlp', got {kind!r}")
        self.norm = nn.LayerNorm(dim, eps=eps)
        if num_classes <= 0:
            self.fc = nn.Identity()
        elif kind == 'mlp':
            self.fc = MlpHead(dim, num_classes, drop=drop)
        else:
            self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(x.mean([-2, -1])))
