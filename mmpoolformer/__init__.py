"""mmpoolformer: PoolFormer backbones for the OpenMMLab stack.

Importing the package registers ``PoolFormer`` into the installed
libraries (mmdet, mmseg) and ``AtomicCheckpointHook`` into mmengine, and
adds exactly the types of mmengine's training checkpoints to torch's
``weights_only`` allow-list, so ``custom_imports=dict(imports=
['mmpoolformer'])`` in a config is all a user needs: the libraries' own
tools and APIs then resume from and test our checkpoints, with torch's
protection on.
"""
from . import engine  # noqa: F401 registers AtomicCheckpointHook
from . import precision  # noqa: F401 registers CPUBf16OptimWrapper
from .engine.safe_load import allow_checkpoint_types
from .models import PoolFormer
from .registry import REGISTERED
from .version import __version__

allow_checkpoint_types()

__all__ = ['PoolFormer', 'REGISTERED', '__version__']
