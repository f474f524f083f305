from .poolformer import ARCH_SETTINGS, LEGACY_BUILDERS, PoolFormer
from .token_mixers import Pooling

__all__ = ['ARCH_SETTINGS', 'LEGACY_BUILDERS', 'PoolFormer', 'Pooling']
