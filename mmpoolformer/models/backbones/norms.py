"""Norm layers of the MetaFormer family that mmcv does not provide,
registered in our scope (``norm_cfg=dict(type='LN2d')``).

Each computes as the original model it comes from, so that the reference
arithmetic (``fast_path=False``) equals the original's bit for bit; the
fast path (``fast_path.py``) replaces :class:`LayerNormGeneral` by torch's
fused kernels.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.Module):
    """LayerNorm over the channels only, for ``(B, C, H, W)`` maps, as
    ``F.layer_norm`` over the last dim of the ``(B, H, W, C)`` view (the
    MetaFormer baselines' ``LayerNormWithoutBias`` with ``bias=False``).

    ``dict(type='GN', num_groups=1)`` instead normalises channels and space
    together: the paper's Modified Layer Norm.
    """
    _abbr_ = 'ln'

    def __init__(self, num_channels: int, eps: float = 1e-5,
                 bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels)) if bias else None
        self.eps = eps
        # A constant, not x.shape[1:2]: exporters would record a shape op.
        self.normalized_shape = (num_channels, )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape,
                         self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


@MODELS.register_module()
class LayerNormGeneral(nn.Module):
    """The originals' LayerNorm written out in elementary ops: centre,
    divide by the root of the mean square plus ``eps``, scale, shift.

    sail-sg/metaformer's ``LayerNormGeneral``: ``dims='channels'``
    normalises each location over its channels (the MetaFormer baselines'
    stem and downsampling norms); ``dims='all'`` normalises each sample over
    channels and space (PoolFormerV2's block norm, a GroupNorm with one
    group). ``bias=False`` drops the shift.
    """
    _abbr_ = 'ln'

    def __init__(self, num_channels: int, dims: str = 'channels',
                 eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        if dims not in ('channels', 'all'):
            raise ValueError(f"LayerNormGeneral: dims must be 'channels' or "
                             f"'all', got {dims!r}.")
        self.dims = dims
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels)) if bias else None
        self.eps = eps

    @property
    def reduced_dims(self) -> Tuple[int, ...]:
        return (1, ) if self.dims == 'channels' else (1, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(self.reduced_dims, keepdim=True)
        var = centred.pow(2).mean(self.reduced_dims, keepdim=True)
        x = centred / torch.sqrt(var + self.eps) * self.weight[:, None, None]
        return x if self.bias is None else x + self.bias[:, None, None]


@MODELS.register_module()
class LayerNormChannel(LayerNormGeneral):
    """sail-sg/poolformer's ``LayerNormChannel``, the norm of its released
    ``metaformer_pppa``/``ppaa`` models: :class:`LayerNormGeneral` over the
    channels, with the centred map computed twice, as there (autograd sums
    the gradients of its two uses in that order)."""

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__(num_channels, 'channels', eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]
