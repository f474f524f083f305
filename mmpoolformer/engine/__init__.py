"""What mmengine needs from us: safe resume and atomic checkpoints."""
from .atomic_checkpoint import AtomicCheckpointHook, AtomicLocalBackend
from .safe_load import allow_checkpoint_types, checkpoint_types

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend',
           'allow_checkpoint_types', 'checkpoint_types']
