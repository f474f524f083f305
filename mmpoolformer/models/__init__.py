from .backbones import (ARCH_SETTINGS, LEGACY_BUILDERS, METAFORMER_ARCHS,
                        PoolFormer)

__all__ = ['ARCH_SETTINGS', 'LEGACY_BUILDERS', 'METAFORMER_ARCHS',
           'PoolFormer']
