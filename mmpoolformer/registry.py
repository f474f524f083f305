"""Our registries, and the one place that registers PoolFormer into
MMDetection and MMSegmentation. Each library is optional: the other still
gets it.

``MODELS`` and ``TOKEN_MIXERS`` (scope ``mmpoolformer``) hold our backbone,
norms and token mixers; mmengine imports this module when it switches to our
scope. Into mmdet's and mmseg's ``MODELS`` we add only ``PoolFormer`` and
the original's ``poolformer_*_feat`` names, never overwriting theirs.
"""
import importlib
from typing import List

from mmengine.logging import print_log

from .engine.checked_builds import install_build_checks
from .models import (LEGACY_BUILDERS, MODELS, TOKEN_MIXERS, MetaFormer,
                     PoolFormer)

LIBRARIES = ('mmdet', 'mmseg')


def register_all() -> List[str]:
    """Register PoolFormer (and its legacy names) into every installed
    library's MODELS registry; return the libraries that have it."""
    modules = {'PoolFormer': PoolFormer, 'MetaFormer': MetaFormer,
               **LEGACY_BUILDERS}
    registered = []
    for library in LIBRARIES:
        try:
            models = importlib.import_module(f'{library}.registry').MODELS
        except ImportError:
            continue
        for name, module in modules.items():
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


__all__ = ['LIBRARIES', 'MODELS', 'REGISTERED', 'TOKEN_MIXERS',
           'register_all']

REGISTERED = register_all()
# Wiring checked and bad data named wherever these libraries build things.
install_build_checks(REGISTERED)
