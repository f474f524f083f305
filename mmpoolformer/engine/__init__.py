"""What mmengine needs from us: safe and exact resume, atomic checkpoints,
guarded runs, CPU distributed runs, the checks the tools make before the
Runner starts and the model zoo's figures beside a test's."""
from .atomic_save import (AtomicCheckpointHook, AtomicLocalBackend,
                          atomic_write, remove_partial_files)
from .checkpoint_fit import (check_training_checkpoint, describe_misfit,
                             misfits, resume_source)
from .data_checks import DatasetError
from .distributed import revert_sync_bn, setup_cpu_distributed
from .model_zoo import (PaperMetricsHook, compare_with_paper, find_model,
                        load_model_index)
from .preflight import (LIBRARY_PACKAGES, LibraryNotInstalledError,
                        check_data_roots, check_wiring, import_library,
                        load_config)
from .random_states import capture_random_states, restore_random_states
from .run_guard import RunGuardHook
from .safe_load import (allow_checkpoint_types, checkpoint_types,
                        load_local_checkpoint, use_safe_checkpoint_loading)
from .work_dir_lock import WorkDirBusyError, WorkDirLock

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'atomic_write',
    'remove_partial_files', 'revert_sync_bn', 'setup_cpu_distributed',
    'DatasetError', 'LIBRARY_PACKAGES', 'LibraryNotInstalledError',
    'check_data_roots', 'check_wiring', 'import_library', 'load_config',
    'allow_checkpoint_types', 'checkpoint_types', 'load_local_checkpoint',
    'use_safe_checkpoint_loading', 'PaperMetricsHook', 'compare_with_paper',
    'find_model', 'load_model_index', 'check_training_checkpoint',
    'describe_misfit', 'misfits', 'resume_source', 'capture_random_states',
    'restore_random_states', 'RunGuardHook', 'WorkDirBusyError',
    'WorkDirLock'
]
