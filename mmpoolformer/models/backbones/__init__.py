from .metaformer_baselines import BASELINE_ARCHS, MetaFormer
from .poolformer import (ARCH_SETTINGS, LEGACY_BUILDERS, METAFORMER_ARCHS,
                         PoolFormer)
from .token_mixers import Pooling

__all__ = ['ARCH_SETTINGS', 'BASELINE_ARCHS', 'LEGACY_BUILDERS',
           'METAFORMER_ARCHS', 'MetaFormer', 'PoolFormer', 'Pooling']
