"""The one place that registers our modules into MMDetection and
MMSegmentation. Each library is optional: the other still gets them."""
import importlib
from typing import List

from .engine.checked_builds import install_build_checks
from .models import LEGACY_BUILDERS, PoolFormer

LIBRARIES = ('mmdet', 'mmseg')


def register_all() -> List[str]:
    """Register PoolFormer (and its legacy names) into every installed
    library's MODELS registry; return the libraries that received it."""
    registered = []
    for library in LIBRARIES:
        try:
            models = importlib.import_module(f'{library}.registry').MODELS
        except ImportError:
            continue
        models.register_module('PoolFormer', module=PoolFormer, force=True)
        for name, builder in LEGACY_BUILDERS.items():
            models.register_module(name, module=builder, force=True)
        registered.append(library)
    return registered


REGISTERED = register_all()
# Wiring checked and bad data named wherever these libraries build things.
install_build_checks(REGISTERED)
