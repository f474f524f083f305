"""Models the tests build: a config's model, seeded, with norm affines and
layer scales that matter (the deployment tests export it); the original
models from their transcriptions, with every parameter drawn."""
import pytest
import torch
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from mmpoolformer.libraries import load_config
from mmpoolformer.models import HYBRID_ARCHS, POOLFORMER_ARCHS
from mmpoolformer.testing import perturb_affines
from tests import reference_metaformer as hybrid_ref
from tests import reference_metaformer_baselines as baseline_ref
from tests import reference_poolformer as poolformer_ref

# The baselines whose tests run at small sizes only.
BIG = ('poolformerv2_m36', 'poolformerv2_m48', 'convformer_m36',
       'convformer_b36', 'caformer_m36', 'caformer_b36')


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


def built_empty(build, *args, **kwargs) -> nn.Module:
    """A model built without drawing its initial weights (all of them are
    set afterwards, and drawing 100M of them is slow): on the meta device,
    then given CPU memory."""
    with torch.device('meta'):
        model = build(*args, **kwargs)
    return model.to_empty(device='cpu')


def drawn(model: nn.Module, seed: int = 0, std: float = .05) -> nn.Module:
    """``model`` with every parameter drawn (norm weights, scales and
    StarReLU's around 1, the rest around 0 with ``std``), so that a mix-up
    between them shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() <= 1:
                param.normal_(1., .2, generator=gen)
            else:
                param.normal_(0., std, generator=gen)
    return model


def original_model(arch: str, fork_feat: bool = False,
                   std: float = .05) -> nn.Module:
    """The original model of ``arch`` from its transcription in
    ``tests/reference_*.py``, :func:`drawn` (its own initialisation, all
    replaced, is skipped)."""
    with pytest.MonkeyPatch.context() as patch:
        for ref in (poolformer_ref, hybrid_ref, baseline_ref):
            patch.setattr(ref, 'trunc_normal_', lambda tensor, std: tensor)
        if arch in POOLFORMER_ARCHS:
            model = poolformer_ref.poolformer(arch.split('_')[1],
                                              fork_feat=fork_feat)
        elif arch in HYBRID_ARCHS:
            model = hybrid_ref.metaformer(arch)
        else:
            model = baseline_ref.metaformer(arch)
    return drawn(model, std=std)
