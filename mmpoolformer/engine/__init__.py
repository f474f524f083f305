"""What mmengine needs from us: safe resume, atomic checkpoints, CPU
distributed runs, the checks the tools make before the Runner starts and
the model zoo's figures beside a test's."""
from .atomic_save import (AtomicCheckpointHook, AtomicLocalBackend,
                          atomic_write, remove_partial_files)
from .data_checks import DatasetError
from .distributed import revert_sync_bn, setup_cpu_distributed
from .model_zoo import (PaperMetricsHook, compare_with_paper, find_model,
                        load_model_index)
from .preflight import (LIBRARY_PACKAGES, LibraryNotInstalledError,
                        check_data_roots, check_wiring, import_library,
                        load_config)
from .safe_load import (allow_checkpoint_types, checkpoint_types,
                        load_local_checkpoint, use_safe_checkpoint_loading)

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'atomic_write',
    'remove_partial_files', 'revert_sync_bn', 'setup_cpu_distributed',
    'DatasetError', 'LIBRARY_PACKAGES', 'LibraryNotInstalledError',
    'check_data_roots', 'check_wiring', 'import_library', 'load_config',
    'allow_checkpoint_types', 'checkpoint_types', 'load_local_checkpoint',
    'use_safe_checkpoint_loading', 'PaperMetricsHook', 'compare_with_paper',
    'find_model', 'load_model_index'
]
