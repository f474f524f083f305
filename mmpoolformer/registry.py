"""Our registries, and the one place that registers into MMDetection,
MMSegmentation and mmengine. Each library is optional: the other still
gets our models.

``MODELS`` and ``TOKEN_MIXERS`` (scope ``mmpoolformer``) hold our
backbone, norms and token mixers; ``MODELS`` is a child of mmengine's root
registry, so ``type='mmpoolformer.LN2d'`` resolves from any scope and names
we do not define (``'GN'``, ``'BN'``) fall through to mmengine's root, where
mmcv registers its norms. A user adds a mixer with
``@TOKEN_MIXERS.register_module('my_mixer')`` in a module named by
``custom_imports``.

Into mmdet's and mmseg's ``MODELS`` we add only our backbones (and the
original's ``poolformer_*_feat`` names) and, into mmdet's, our
``CPUSingleRoIExtractor``, never overwriting theirs. Into
mmengine's ``HOOKS`` and ``RUNNERS`` go our hooks and ``CheckedRunner``
under names of their own. Nothing of the libraries is wrapped or replaced.
"""
import importlib
from typing import Dict, List

from mmengine.logging import print_log
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

SCOPE = 'mmpoolformer'
LIBRARIES = ('mmdet', 'mmseg')

MODELS = Registry('model', parent=MMENGINE_MODELS, scope=SCOPE,
                  locations=['mmpoolformer.models'])
TOKEN_MIXERS = Registry('token mixer', scope=SCOPE,
                        locations=['mmpoolformer.models.backbones'])


def backbones() -> Dict[str, type]:
    """What goes into each library's MODELS: our backbones by name."""
    from .models import LEGACY_BUILDERS, MetaFormer, PoolFormer
    return {'PoolFormer': PoolFormer, 'MetaFormer': MetaFormer,
            **LEGACY_BUILDERS}


def library_models(library: str) -> Dict[str, type]:
    """What goes into ``library``'s MODELS: our backbones, and for mmdet
    the RoI extractor (a builder: the class imports mmdet's models)."""
    modules = backbones()
    if library == 'mmdet':
        from .models.roi_heads import cpu_single_roi_extractor
        modules['CPUSingleRoIExtractor'] = cpu_single_roi_extractor
    return modules


def register_all() -> List[str]:
    """Register our models into every installed library's MODELS
    registry; return the libraries that have them."""
    registered = []
    for library in LIBRARIES:
        try:
            models = importlib.import_module(f'{library}.registry').MODELS
        except ImportError:
            continue
        for name, module in library_models(library).items():
            existing = models.module_dict.get(name)
            if existing is None:
                models.register_module(name, module=module)
            elif existing is not module:
                print_log(
                    f'{library} already has a model named {name!r}; ours '
                    f"stays reachable as type='mmpoolformer.{name}'.",
                    logger='current', level=30)
        registered.append(library)
    return registered


__all__ = ['LIBRARIES', 'MODELS', 'SCOPE', 'TOKEN_MIXERS', 'backbones',
           'library_models', 'register_all']
