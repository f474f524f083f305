"""mmpoolformer: PoolFormer backbones for the OpenMMLab stack.

Importing the package registers, and changes nothing else of other
libraries: ``PoolFormer`` into the installed libraries' MODELS (mmdet,
mmseg), our hooks and ``CheckedRunner`` into mmengine under names of their
own, and exactly the types of mmengine's training checkpoints into torch's
``weights_only`` allow-list, so ``custom_imports=dict(imports=
['mmpoolformer'])`` in a config is all a user needs: the libraries' own
tools and APIs then resume from and test our checkpoints, with torch's
protection on.
"""
# registers our hooks, CheckedRunner and CPUBf16OptimWrapper
from . import config_checks, hooks, precision  # noqa: F401
from .checkpoints import allow_checkpoint_types
from .libraries.registration import register_all
from .models import PoolFormer
from .version import __version__

REGISTERED = register_all()
allow_checkpoint_types()

__all__ = ['PoolFormer', 'REGISTERED', '__version__']
