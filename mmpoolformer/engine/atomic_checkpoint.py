"""Checkpoints that are never left half-written.

:class:`AtomicLocalBackend` writes to a temporary file in the same folder,
flushes it to disk and renames it over the target, so a crash leaves either
the previous file or the complete new one. :class:`AtomicCheckpointHook`
is mmengine's CheckpointHook using that backend for both the checkpoint and
the ``last_checkpoint`` pointer that ``--resume`` follows.
"""
import os
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic writes."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        folder = os.path.dirname(os.path.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.', suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


@HOOKS.register_module(force=True)
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose files are written atomically (local disk)."""

    def __init__(self, *args, backend_args: dict = None, **kwargs) -> None:
        super().__init__(*args, backend_args=backend_args or
                         dict(backend='atomic_local'), **kwargs)
