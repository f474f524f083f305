"""Hooks for tool tests, imported by test configs through
``custom_imports``: one kills the run with SIGKILL halfway through writing
a checkpoint, one saves each rank's model after training."""
import builtins
import os
import os.path as osp
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


class _DiesHalfway:
    """A binary file whose first write puts half the bytes on disk, then
    SIGKILLs the process (no cleanup, no ``finally``)."""

    def __init__(self, file) -> None:
        self._file = file

    def write(self, data: bytes) -> None:
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        os.fsync(self._file.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)


def _dying(open_fn):
    def wrapped(*args, **kwargs):
        file = open_fn(*args, **kwargs)
        mode = args[1] if len(args) > 1 else kwargs.get('mode', 'r')
        return _DiesHalfway(file) if 'w' in mode and 'b' in mode else file
    return wrapped


@HOOKS.register_module()
class KillWhileSaving(Hook):
    """SIGKILL the run while the checkpoint of iteration ``at`` is being
    written, whichever way the file backend opens it."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint['meta']['iter'] == self.at:
            builtins.open = _dying(builtins.open)
            os.fdopen = _dying(os.fdopen)


@HOOKS.register_module()
class SaveRankState(Hook):
    """After training, save this rank's model state to
    ``work_dir/rank<N>_state.pth``."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        torch.save(model.state_dict(),
                   osp.join(runner.work_dir, f'rank{get_rank()}_state.pth'))
