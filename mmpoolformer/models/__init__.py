from .backbones import (ARCH_SETTINGS, BASELINE_ARCHS, LEGACY_BUILDERS,
                        METAFORMER_ARCHS, MetaFormer, PoolFormer)

__all__ = ['ARCH_SETTINGS', 'BASELINE_ARCHS', 'LEGACY_BUILDERS',
           'METAFORMER_ARCHS', 'MetaFormer', 'PoolFormer']
