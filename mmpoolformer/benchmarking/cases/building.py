"""What the cases build: a backbone and its twin on the original
operations, a detector or segmentor from a config, and one timed step of a
backbone (an inference forward, or a training forward and backward)."""
import copy
import os.path as osp
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from ...deployment import make_exportable
from ...libraries import load_config
from ...mim_files import REPO
from ...testing import largest_difference, perturb_affines


def twins(build: Callable[..., nn.Module], arch: str, seed: int,
          **kwargs) -> Tuple[nn.Module, nn.Module]:
    """``build(arch, fast_path=False)`` (the original operations) and
    ``build(arch, fast_path=True)`` with the same weights: random, the
    norms' affines and layer scales drawn around 1 so that every folded
    parameter matters."""
    torch.manual_seed(seed)
    original = build(arch, fast_path=False, **kwargs)
    perturb_affines(original, seed)
    fast = build(arch, fast_path=True, **kwargs)
    fast.load_state_dict(original.state_dict())
    return original, fast


def build_from_config(config: str, seed: int) -> nn.Module:
    """The model of ``config`` (relative to the repository) in eval mode,
    random weights with the norms' affines and layer scales drawn around
    1."""
    cfg = load_config(osp.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.default_scope)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)  # torch's default init: quiet
    perturb_affines(model, seed)
    return model.eval()


class Step:
    """One timed call of ``model`` on ``x``: an inference forward without
    autograd, or (``grads`` given: the gradients of its outputs, what a
    neck would send) a training forward and backward; optionally under
    CPU bf16 autocast."""

    def __init__(self, model: nn.Module, x: torch.Tensor,
                 grads: Sequence[torch.Tensor] = (),
                 bf16: bool = False) -> None:
        self.model, self.x, self.grads, self.bf16 = model, x, grads, bf16

    def __call__(self) -> List[torch.Tensor]:
        train = bool(self.grads)
        self.model.train(train)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.bf16):
            if not train:
                with torch.no_grad():
                    return list(self.model(self.x))
            self.model.zero_grad(set_to_none=True)
            outs = list(self.model(self.x))
        torch.autograd.backward(
            outs, [g.to(o.dtype) for g, o in zip(self.grads, outs)])
        return [out.detach() for out in outs]


def output_grads(model: nn.Module, x: torch.Tensor,
                 generator: torch.Generator) -> List[torch.Tensor]:
    """Random gradients shaped as ``model``'s training outputs on ``x``."""
    model.train()
    with torch.no_grad():
        return [torch.randn(out.shape, generator=generator)
                for out in model(x)]


#: The whole models the ``model`` and ``deployment`` cases run: config and
#: input shape, and the input shape on ``--smoke``.
WHOLE_MODELS = {
    'retinanet': ('configs/detection/retinanet_poolformer_s12.py',
                  (1, 3, 800, 1216)),
    'fpn': ('configs/segmentation/fpn_poolformer_s12.py', (1, 3, 512, 512)),
}
WHOLE_MODEL_SMOKE_SHAPE = (1, 3, 64, 64)


def whole_model(key: str, options) -> Tuple[nn.Module, torch.Tensor]:
    """``WHOLE_MODELS[key]``'s model (:func:`build_from_config`) and a
    random input of its shape (the smoke shape on ``options.smoke``)."""
    config, shape = WHOLE_MODELS[key]
    shape = WHOLE_MODEL_SMOKE_SHAPE if options.smoke else shape
    x = torch.randn(shape,
                    generator=torch.Generator().manual_seed(options.seed))
    return build_from_config(config, options.seed), x


def output_drifts(calls: Dict[str, Callable[[], Sequence[torch.Tensor]]],
                  baseline: str) -> Dict[str, float]:
    """Each call's largest output difference to ``baseline``'s relative to
    the largest baseline output (each call run once)."""
    expected = calls[baseline]()
    drifts = {}
    for name, call in calls.items():
        diff, scale = largest_difference(call(), expected)
        drifts[name] = diff / scale
    return drifts


def exportable_pair(model: nn.Module) -> Tuple[nn.Module, nn.Module]:
    """``model`` made exportable on its original operations
    (``fast_path=False``), and a copy of it for a variant to change."""
    make_exportable(model)
    model.backbone.fast_path = False
    return model, copy.deepcopy(model)
