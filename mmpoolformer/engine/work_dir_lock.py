"""One work dir, one training run: an exclusive ``flock`` on
``work_dir/.run.lock``, which the operating system releases when the
holder exits or is killed, so a crashed run never leaves it stuck."""
import fcntl
import os
import os.path as osp
import socket
import sys
import time

LOCK_NAME = '.run.lock'


class WorkDirBusyError(RuntimeError):
    """Another live run holds the work dir."""


class WorkDirLock:
    """Hold ``work_dir`` for this process until :meth:`release` (or the
    process's end)."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`WorkDirBusyError` naming the
        work dir and the run that holds it."""
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

    def release(self) -> None:
        """Let other runs use the work dir (the file stays; an unlocked
        file holds nothing)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
