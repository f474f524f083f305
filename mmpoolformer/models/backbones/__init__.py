"""The MetaFormer family's backbone: one skeleton (``metaformer.py``) whose
archs are data (``archs.py``), registered as ``MetaFormer`` and
``PoolFormer``, with the original configs' builders."""
from . import activations, norms  # noqa: F401 registers StarReLU, LN2d, ...
from .archs import ARCHS, BASELINE_ARCHS, HYBRID_ARCHS, POOLFORMER_ARCHS
from .legacy_builders import LEGACY_BUILDERS
from .metaformer import MetaFormer, PoolFormer
from .token_mixers import Pooling

__all__ = ['ARCHS', 'BASELINE_ARCHS', 'HYBRID_ARCHS', 'LEGACY_BUILDERS',
           'MetaFormer', 'POOLFORMER_ARCHS', 'PoolFormer', 'Pooling']
