"""MMDetection and MMSegmentation as our tools see them: reading a config
with its library, and one adapter per library for what differs."""
from .adapters import ADAPTERS, adapter_for, adapter_of
from .library_adapter import LibraryAdapter
from .loading import (LIBRARY_PACKAGES, LibraryNotInstalledError,
                      import_library, load_config)

__all__ = [
    'ADAPTERS', 'LIBRARY_PACKAGES', 'LibraryAdapter',
    'LibraryNotInstalledError', 'adapter_for', 'adapter_of',
    'import_library', 'load_config'
]
