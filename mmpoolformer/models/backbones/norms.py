"""Norm layers for the paper's ablation that mmcv does not provide,
registered in our scope (``norm_cfg=dict(type='LN2d')``)."""
import torch
from torch import nn

from ...registry import MODELS


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.Module):
    """LayerNorm over the channels only, for ``(B, C, H, W)`` maps.

    The original's ``LayerNormChannel``, with the same formula (it is the
    norm of the released ``metaformer_pppa``/``ppaa`` models). The default
    ``dict(type='GN', num_groups=1)`` instead normalises channels and space
    together: the paper's Modified Layer Norm.
    """
    _abbr_ = 'ln'

    def __init__(self, num_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]
