"""The run-time hooks, one job each. A config lists them in
``custom_hooks`` (``AtomicCheckpointHook`` as ``default_hooks.checkpoint``);
our configs do, and our tools add the missing ones."""
from .atomic_checkpoint import AtomicCheckpointHook
from .bf16_inference import Bf16InferenceHook
from .checkpoint_fit import CheckpointFitHook
from .paper_metrics import PaperMetricsHook
from .random_states import (RandomStatesHook, capture_random_states,
                            restore_random_states)
from .work_dir_lock import (WorkDirBusyError, WorkDirLock, WorkDirLockHook,
                            held_lock)

__all__ = [
    'AtomicCheckpointHook', 'Bf16InferenceHook', 'CheckpointFitHook',
    'PaperMetricsHook', 'RandomStatesHook', 'WorkDirBusyError', 'WorkDirLock',
    'WorkDirLockHook',
    'capture_random_states', 'held_lock', 'restore_random_states'
]
