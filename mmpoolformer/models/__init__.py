from .backbones import (ARCH_SETTINGS, LEGACY_BUILDERS, METAFORMER_ARCHS,
                        PoolFormer)
from .builder import MODELS, TOKEN_MIXERS

__all__ = ['ARCH_SETTINGS', 'LEGACY_BUILDERS', 'METAFORMER_ARCHS', 'MODELS',
           'PoolFormer', 'TOKEN_MIXERS']
