"""Helpers that the tests and the tools share (never imported by the
models): running a tool's ``main`` in-process and giving folded parameters
values that make a mix-up visible."""
import importlib.util
import os.path as osp
from types import ModuleType

import torch
from torch import nn

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path: str) -> ModuleType:
    """``tools/<path>`` (e.g. ``'train.py'``, ``'analysis/get_flops.py'``)
    as a module, to call its functions in-process."""
    name = osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(
        f'mmpoolformer_tools_{name}', osp.join(REPO, 'tools', path))
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
