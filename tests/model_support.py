"""Models the deployment tests export: a config's model, seeded, with
norm affines and layer scales that matter."""
import torch
from mmengine.registry import MODELS, init_default_scope

from mmpoolformer.libraries import load_config
from mmpoolformer.testing import perturb_affines


def build(config: str, **backbone) -> torch.nn.Module:
    """``config``'s model, seeded, with norm affines and layer scales that
    matter, and ``backbone`` options."""
    cfg = load_config(config)
    cfg.model.backbone.update(init_cfg=None, **backbone)
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    perturb_affines(model)
    return model.eval()
