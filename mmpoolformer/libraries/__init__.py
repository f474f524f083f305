"""MMDetection and MMSegmentation as our tools see them: reading a config
with its library, and one adapter per library for what differs."""
from .adapters import ADAPTERS, adapter_for, adapter_of
from .library_adapter import LibraryAdapter
from .loading import (LibraryNotInstalledError, import_library,
                      library_bases_by_module, load_config)

__all__ = [
    'ADAPTERS', 'LibraryAdapter', 'LibraryNotInstalledError', 'adapter_for',
    'adapter_of', 'import_library', 'library_bases_by_module', 'load_config'
]
