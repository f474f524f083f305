"""mmpoolformer: PoolFormer backbones for the OpenMMLab stack.

Importing the package registers ``PoolFormer`` into the installed
libraries (mmdet, mmseg) and ``AtomicCheckpointHook`` into mmengine, so
``custom_imports=dict(imports=['mmpoolformer'])`` in a config is all a user
needs.
"""
from . import engine  # noqa: F401 registers AtomicCheckpointHook
from .models import PoolFormer
from .registry import REGISTERED
from .version import __version__

__all__ = ['PoolFormer', 'REGISTERED', '__version__']
