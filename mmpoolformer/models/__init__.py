from .backbones import (ARCHS, BASELINE_ARCHS, HYBRID_ARCHS, LEGACY_BUILDERS,
                        POOLFORMER_ARCHS, MetaFormer, PoolFormer)

__all__ = ['ARCHS', 'BASELINE_ARCHS', 'HYBRID_ARCHS', 'LEGACY_BUILDERS',
           'MetaFormer', 'POOLFORMER_ARCHS', 'PoolFormer']
