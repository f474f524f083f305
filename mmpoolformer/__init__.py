"""mmpoolformer: PoolFormer backbones for the OpenMMLab stack.

Importing the package registers, and changes nothing else of other
libraries: ``PoolFormer`` into the installed libraries' MODELS (mmdet,
mmseg), our hooks and ``CheckedRunner`` into mmengine under names of their
own, and exactly the types of mmengine's training checkpoints into torch's
``weights_only`` allow-list, so ``custom_imports=dict(imports=
['mmpoolformer'])`` in a config is all a user needs: the libraries' own
tools and APIs then resume from and test our checkpoints, with torch's
protection on.

It runs on OpenMMLab's stack or OneDL's (:mod:`mmpoolformer.stacks`), and
says what to install when neither is there. Where the host's own checkpoint
loader falls back to unsafe loading, it warns once and leaves the host as it
is (:mod:`mmpoolformer.safe_loading` is the opt-in).
"""
from .stacks import require_stack

STACK = require_stack()  # before anything imports mmengine or mmcv

# registers our hooks, CheckedRunner and CPUBf16OptimWrapper
from . import checkpoints, config_checks, hooks, precision  # noqa: F401,E402
from .libraries.registration import register_all  # noqa: E402
from .models import PoolFormer  # noqa: E402
from .version import __version__  # noqa: E402

REGISTERED = register_all()
checkpoints.allow_checkpoint_types()
checkpoints.warn_if_host_loads_unsafely()

__all__ = ['PoolFormer', 'REGISTERED', 'STACK', '__version__']
