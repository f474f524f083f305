"""One work dir, one training run: an exclusive ``flock`` on
``work_dir/.run.lock``, which the operating system releases when the
holder exits or is killed, so a crashed run never leaves it stuck.

Our tools take it before the Runner writes anything (its log folder and
config copy); :class:`WorkDirLockHook` takes it for any other tool that
runs a config listing it (then after the Runner made its log folder,
which is the earliest a hook can act)."""
import fcntl
import os
import os.path as osp
import socket
import sys
import time
from typing import Dict

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

LOCK_NAME = '.run.lock'


class WorkDirBusyError(RuntimeError):
    """Another live run holds the work dir."""


class WorkDirLock:
    """Hold ``work_dir`` for this process until :meth:`release` (or the
    process's end). Acquiring a work dir this process already holds is a
    no-op (a tool's lock and the hook's are one)."""

    _held: Dict[str, 'WorkDirLock'] = {}

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.abspath(osp.join(work_dir, LOCK_NAME))
        self._fd = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`WorkDirBusyError` naming the
        work dir and the run that holds it."""
        if self._fd is not None:
            return
        os.makedirs(self.work_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors='replace').strip()
            os.close(fd)
            raise WorkDirBusyError(
                f'{self.work_dir} is in use by another run that is still '
                f'alive ({holder or "holder unknown"}): two runs in one work '
                'dir would mix their checkpoints and last_checkpoint. Wait '
                'for it to finish, stop it, or pass another --work-dir.'
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, (f'pid {os.getpid()} on {socket.gethostname()}, since '
                      f'{time.strftime("%Y-%m-%d %H:%M:%S")}: '
                      f'{" ".join(sys.argv)}').encode())
        self._fd = fd
        WorkDirLock._held[self.path] = self

    def release(self) -> None:
        """Let other runs use the work dir (the file stays; an unlocked
        file holds nothing)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            WorkDirLock._held.pop(self.path, None)


def held_lock(work_dir: str) -> 'WorkDirLock':
    """The lock this process holds on ``work_dir``, taken now if not yet."""
    path = osp.abspath(osp.join(work_dir, LOCK_NAME))
    lock = WorkDirLock._held.get(path) or WorkDirLock(work_dir)
    lock.acquire()
    return lock


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """One training run per work dir: rank 0 holds the work dir's lock
    from the start of training to the run's end; a second run there is
    refused with :class:`WorkDirBusyError`."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._lock = None

    def before_train(self, runner) -> None:
        if is_main_process():
            self._lock = held_lock(runner.work_dir)

    def after_run(self, runner) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
