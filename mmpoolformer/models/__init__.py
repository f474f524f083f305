from .backbones import (ARCH_SETTINGS, BASELINE_ARCHS, LEGACY_BUILDERS,
                        METAFORMER_ARCHS, MetaFormer, PoolFormer)
from .builder import MODELS, TOKEN_MIXERS

__all__ = ['ARCH_SETTINGS', 'BASELINE_ARCHS', 'LEGACY_BUILDERS',
           'METAFORMER_ARCHS', 'MODELS', 'MetaFormer', 'PoolFormer',
           'TOKEN_MIXERS']
