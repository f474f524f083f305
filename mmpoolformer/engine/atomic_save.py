"""Checkpoints that are never left half-written.

:class:`AtomicLocalBackend` writes to a temporary file in the same folder,
flushes it to disk and renames it over the target, so a crash leaves either
the previous file or the complete new one. :class:`AtomicCheckpointHook`
is mmengine's CheckpointHook using that backend, and it also orders its
steps so that ``last_checkpoint`` (what ``--resume`` follows) names a
complete file at every instant: new checkpoint, then the pointer, then
removal of outdated checkpoints (mmengine removes them first).
"""
import glob
import os
import os.path as osp
import re
import tempfile
import warnings
from pathlib import Path
from typing import List, Optional, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from .private_apis import checkpoint_hook_saves_by_step

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


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic writes."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj.encode(encoding))


@HOOKS.register_module(force=True)
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that never leaves ``last_checkpoint`` naming a
    truncated or deleted file, whenever the process is killed.

    Takes every argument of mmengine's ``CheckpointHook``; ``backend_args``
    defaults to the ``atomic_local`` backend (local disk only).
    """

    def __init__(self, *args, backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(*args, backend_args=backend_args or
                         dict(backend='atomic_local'), **kwargs)
        if not checkpoint_hook_saves_by_step():
            warnings.warn(
                'This mmengine no longer saves through CheckpointHook.'
                '_save_checkpoint_with_step(runner, step, meta), which '
                'AtomicCheckpointHook overrides: each file is still written '
                'atomically, but mmengine may delete the oldest checkpoint '
                'before the new one is complete. mmengine 0.10.x keeps the '
                'full guarantee.', RuntimeWarning)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(self.out_dir):
            for path in remove_partial_files(self.out_dir):
                runner.logger.warning(
                    f'Removed {path}, a checkpoint left half-written by an '
                    'interrupted run.')

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        outdated = self._update_kept_steps(runner, step)
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                     self.last_ckpt.encode())
        for old_step in outdated:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step)))

    def _update_kept_steps(self, runner, step: int) -> List[int]:
        """Record ``step`` among the kept checkpoints (saved in the message
        hub, as mmengine does) and return the steps that fall out."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids and
                                        self.keep_ckpt_ids[-1] == step):
            return []
        outdated = []
        while len(self.keep_ckpt_ids) >= self.max_keep_ckpts:
            outdated.append(self.keep_ckpt_ids.popleft())
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed saves folders
            self.file_backend.rmtree(path)
