"""One adapter per library, by scope and by the module a class comes
from."""
from typing import Any, Dict, Optional

from .library_adapter import LibraryAdapter
from .mmdet_adapter import MMDetAdapter
from .mmseg_adapter import MMSegAdapter

ADAPTERS: Dict[str, LibraryAdapter] = {
    adapter.scope: adapter for adapter in (MMDetAdapter(), MMSegAdapter())}


def adapter_for(scope: str) -> LibraryAdapter:
    """The adapter of a config's ``default_scope``."""
    if scope not in ADAPTERS:
        raise ValueError(f'default_scope {scope!r}: mmpoolformer works with '
                         f'{sorted(ADAPTERS)}.')
    return ADAPTERS[scope]


def adapter_of(obj: Any) -> Optional[LibraryAdapter]:
    """The adapter of the library that defines ``obj`` (a class a registry
    builds), or None for one of another library."""
    module = getattr(obj, '__module__', '') or ''
    return ADAPTERS.get(module.split('.')[0])
