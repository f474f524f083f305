from .backbones import ARCH_SETTINGS, LEGACY_BUILDERS, PoolFormer

__all__ = ['ARCH_SETTINGS', 'LEGACY_BUILDERS', 'PoolFormer']
