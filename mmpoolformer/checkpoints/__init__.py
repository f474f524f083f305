"""Checkpoints: reading weight files safely, mapping every released layout
to ours, fitting a file to a model, and writing files atomically."""
from .atomic_write import (AtomicLocalBackend, atomic_write,
                           remove_partial_files)
from .load_checks import (check_training_checkpoint, describe_misfit, misfits,
                          resume_source)
from .safe_load import (UnsafeHostLoadingWarning, allow_checkpoint_types,
                        checkpoint_types, load_local_checkpoint,
                        use_safe_checkpoint_loading,
                        warn_if_host_loads_unsafely)
from .weight_files import CheckpointError, convert, load_file
from .weight_layouts import detect_format

__all__ = [
    'AtomicLocalBackend', 'CheckpointError', 'UnsafeHostLoadingWarning',
    'allow_checkpoint_types',
    'atomic_write', 'check_training_checkpoint', 'checkpoint_types',
    'convert', 'describe_misfit', 'detect_format', 'load_file',
    'load_local_checkpoint', 'misfits', 'remove_partial_files',
    'resume_source', 'use_safe_checkpoint_loading',
    'warn_if_host_loads_unsafely'
]
