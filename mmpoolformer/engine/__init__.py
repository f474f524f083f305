"""What mmengine needs from us: safe resume, atomic checkpoints, CPU
distributed runs and the checks the tools make before the Runner starts."""
from .atomic_save import (AtomicCheckpointHook, AtomicLocalBackend,
                          atomic_write, remove_partial_files)
from .data_checks import DatasetError
from .distributed import revert_sync_bn, setup_cpu_distributed
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
    'use_safe_checkpoint_loading'
]
