"""The one place that registers into MMDetection, MMSegmentation and
mmengine: our backbones (and the original's ``poolformer_*_feat`` names)
into each installed library's ``MODELS`` and, into mmdet's, our
``CPUSingleRoIExtractor``, never overwriting theirs. Each library is
optional: the other still gets our models."""
import importlib
from typing import Dict, List

from mmengine.logging import print_log

from ..models import LEGACY_BUILDERS, MetaFormer, PoolFormer
from ..models.roi_heads import cpu_single_roi_extractor

LIBRARIES = ('mmdet', 'mmseg')


def backbones() -> Dict[str, type]:
    """What goes into each library's MODELS: our backbones by name."""
    return {'PoolFormer': PoolFormer, 'MetaFormer': MetaFormer,
            **LEGACY_BUILDERS}


def library_models(library: str) -> Dict[str, type]:
    """What goes into ``library``'s MODELS: our backbones, and for mmdet
    the RoI extractor (a builder: the class imports mmdet's models)."""
    modules = backbones()
    if library == 'mmdet':
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
