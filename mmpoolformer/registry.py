"""Our registries. This module imports nothing of ours; registering into
MMDetection and MMSegmentation happens in ``libraries/registration.py``.

``MODELS`` and ``TOKEN_MIXERS`` (scope ``mmpoolformer``) hold our
backbone, norms and token mixers; ``MODELS`` is a child of mmengine's root
registry, so ``type='mmpoolformer.LN2d'`` resolves from any scope and names
we do not define (``'GN'``, ``'BN'``) fall through to mmengine's root, where
mmcv registers its norms. A user adds a mixer with
``@TOKEN_MIXERS.register_module('my_mixer')`` in a module named by
``custom_imports``.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

SCOPE = 'mmpoolformer'

MODELS = Registry('model', parent=MMENGINE_MODELS, scope=SCOPE)
TOKEN_MIXERS = Registry('token mixer', scope=SCOPE)

__all__ = ['MODELS', 'SCOPE', 'TOKEN_MIXERS']
