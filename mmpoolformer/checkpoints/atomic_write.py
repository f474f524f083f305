"""Files that are never left half-written: :func:`atomic_write` writes to
a temporary file in the same folder, flushes it to disk and renames it over
the target, so a crash leaves either the previous file or the complete new
one. :class:`AtomicLocalBackend` is mmengine's local file backend doing
that (``backend='atomic_local'``), for
:class:`~mmpoolformer.hooks.AtomicCheckpointHook`.
"""
import glob
import os
import os.path as osp
import re
import tempfile
from pathlib import Path
from typing import List, Union

from mmengine.fileio import LocalBackend, register_backend

TMP_SUFFIX = '.tmp'


def atomic_write(filepath: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``filepath`` so that readers (and a later run after
    a crash) see either the old file or the complete new one."""
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.{os.getpid()}.',
        suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, 'wb') as f:
            os.fchmod(f.fileno(), _new_file_mode())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    _fsync_dir(folder)


def _new_file_mode() -> int:
    """The mode ``open()`` would give a new file (``mkstemp`` uses 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: str) -> None:
    """Persist a rename in ``folder`` (no-op where directories can't be
    opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _writer_alive(partial_file: str) -> bool:
    """Whether the process that writes ``partial_file`` (its pid is in the
    name :func:`atomic_write` gives it) is alive and is not this one."""
    found = re.search(r'\.(\d+)\.\w+' + re.escape(TMP_SUFFIX) + '$',
                      partial_file)
    if found is None or int(found.group(1)) == os.getpid():
        return False
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_partial_files(folder: str) -> List[str]:
    """Delete temporary files that a killed :func:`atomic_write` left in
    ``folder``; return their paths. Files a live process is still writing
    are left alone."""
    leftovers = [path for path in
                 glob.glob(osp.join(folder, f'.*{TMP_SUFFIX}'))
                 if not _writer_alive(path)]
    for path in leftovers:
        os.remove(path)
    return leftovers


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic writes."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj.encode(encoding))
