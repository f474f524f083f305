from .poolformer import (ARCH_SETTINGS, LEGACY_BUILDERS, METAFORMER_ARCHS,
                         PoolFormer)
from .token_mixers import Pooling

__all__ = ['ARCH_SETTINGS', 'LEGACY_BUILDERS', 'METAFORMER_ARCHS',
           'PoolFormer', 'Pooling']
