"""Helpers that the tests, the tools, the deployment checks and the
benchmarks share (never imported by the models): finding and running a
tool's ``main`` in-process, giving folded parameters values that make a
mix-up visible, and the largest difference between two sets of outputs."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Sequence, Tuple

import torch
from torch import nn

from .mim_files import mim_path


def load_tool(path: str) -> ModuleType:
    """``tools/<path>`` (e.g. ``'train.py'``, ``'analysis/get_flops.py'``)
    as a module, to call its functions in-process."""
    name = osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(
        f'mmpoolformer_tools_{name}', osp.join(mim_path('tools'), path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def perturb_affines(model: nn.Module, seed: int = 0) -> None:
    """Draw norm affines and layer scales around 1 (N(1, 0.5)): their
    defaults (ones, zeros, 1e-5) would hide a mix-up between them."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name or 'layer_scale' in name:
                param.copy_(torch.randn(param.shape, generator=gen) * .5 + 1)


def largest_difference(got: Sequence[torch.Tensor],
                       expected: Sequence[torch.Tensor]) -> Tuple[float,
                                                                  float]:
    """``(largest |got - expected|, largest |expected|)`` over pairs of
    outputs, in float32."""
    diff = max(float((g.float() - e.float()).abs().max())
               for g, e in zip(got, expected))
    scale = max(float(e.float().abs().max()) for e in expected)
    return diff, scale
