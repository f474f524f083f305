"""Norm layers for the paper's ablation that mmcv does not provide,
registered in our scope (``norm_cfg=dict(type='LN2d')``)."""
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.Module):
    """LayerNorm over the channels only, for ``(B, C, H, W)`` maps.

    The original's ``LayerNormChannel``, with the same formula (it is the
    norm of the released ``metaformer_pppa``/``ppaa`` models). The default
    ``dict(type='GN', num_groups=1)`` instead normalises channels and space
    together: the paper's Modified Layer Norm. ``bias=False`` drops the
    shift, as the MetaFormer baselines' norms do.
    """
    _abbr_ = 'ln'

    def __init__(self, num_channels: int, eps: float = 1e-5,
                 bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels)) if bias else None
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels last for F.layer_norm: a view of a channels_last map.
        # The weight's shape, not the input's: a constant when exported with
        # dynamic sizes, which ONNX's LayerNormalization needs.
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape,
                         self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
