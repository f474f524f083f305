"""The MetaFormer baselines' activations."""
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS


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
