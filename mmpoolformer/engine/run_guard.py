""":class:`RunGuardHook`: what a run loads fits, one training run per work
dir, and resume is exact. Our configs list it in ``custom_hooks`` (so it
also guards mmdet's and mmseg's own tools); our tools add it to any
config that does not."""
from typing import Any, Iterator, List, Optional

from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_main_process)
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import HOOKS

from ..weight_files import CheckpointError
from .checkpoint_fit import (check_training_checkpoint, describe_misfit,
                             misfits, resume_source)
from .random_states import (RandomStates, capture_random_states,
                            restore_random_states)
from .work_dir_lock import WorkDirLock


class _RestoreAfterSkip:
    """Wraps the iterator of mmengine's ``IterBasedTrainLoop``, which on
    resume fetches (and throws away) the batches already trained; restores
    the random states right after those, before the first new batch."""

    def __init__(self, loop, skip: int, states: RandomStates) -> None:
        self._loop, self._skip, self._states = loop, skip, states
        self._iterator = loop.dataloader_iterator

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        if self._skip == 0:
            restore_random_states(self._states)
            self._loop.dataloader_iterator = self._iterator
            return next(self._iterator)
        self._skip -= 1
        return next(self._iterator)


@HOOKS.register_module(force=True)
class RunGuardHook(Hook):
    """Guards a run against silent mistakes.

    - ``load_from`` (and ``tools/test.py``'s checkpoint) must fit the model
      key by key unless ``allow_partial_load``.
    - ``resume`` needs a training checkpoint, and a bare ``resume`` one in
      the work dir unless ``allow_fresh_start``.
    - A training run holds its work dir (rank 0 takes a ``flock``); a
      second one there is refused.
    - Checkpoints carry every rank's random states and resuming restores
      them, so a resumed run draws the same dropout, drop path and
      augmentations as an uninterrupted one; validation leaves them as
      they were.

    Args:
        allow_partial_load (bool): load a checkpoint that fits only in
            part (mmengine then loads the keys that fit and warns).
        allow_fresh_start (bool): with a bare ``resume`` and no checkpoint
            in the work dir, start from iteration 0 instead of failing.
    """

    priority = 'NORMAL'  # before CheckpointHook saves and cleans up

    def __init__(self, allow_partial_load: bool = False,
                 allow_fresh_start: bool = False) -> None:
        self.allow_partial_load = allow_partial_load
        self.allow_fresh_start = allow_fresh_start
        self._source: Optional[str] = None
        self._lock: Optional[WorkDirLock] = None
        self._rank_states: Optional[List[RandomStates]] = None
        self._resumed_states: Optional[List[RandomStates]] = None
        self._before_val: Optional[RandomStates] = None

    def before_run(self, runner) -> None:
        resume, load_from = (runner.cfg.get('resume'),
                             runner.cfg.get('load_from'))
        self._source = load_from
        if resume and load_from is None:
            try:
                self._source = resume_source(runner.work_dir)
            except FileNotFoundError:
                if not self.allow_fresh_start:
                    raise
                runner.logger.warning(
                    f'Nothing to resume from in {runner.work_dir}: '
                    'starting from iteration 0, as allow_fresh_start '
                    '(--allow-fresh-start) asks.')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        source = self._source or 'the checkpoint'
        if runner.cfg.get('resume'):
            check_training_checkpoint(source, checkpoint)
        model = runner.model
        # What mmengine loads the weights into: inside DDP and TTA wrappers.
        while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module
        message = describe_misfit(source, model, misfits(checkpoint, model))
        if message and not self.allow_partial_load:
            raise CheckpointError(message)
        if message:
            runner.logger.warning('Loading part of a checkpoint, as '
                                  f'allow_partial_load asks: {message}')
        self._resumed_states = checkpoint.get('random_states')

    def before_train(self, runner) -> None:
        if is_main_process():
            self._lock = WorkDirLock(runner.work_dir)
            self._lock.acquire()
        states = self._resumed_states
        if runner.iter == 0 or states is None:
            return  # a fresh start, or load_from: keep the seeded states
        if len(states) != get_world_size():
            runner.logger.warning(
                f'The checkpoint holds the random states of {len(states)} '
                f'processes, this run has {get_world_size()}: resuming '
                'with freshly seeded ones (not bit-exact).')
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # IterBasedTrainLoop
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, runner.iter, states[get_rank()])
        else:  # EpochBasedTrainLoop resumes at an epoch's start
            restore_random_states(states[get_rank()])

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        self._gather_rank_states()

    def after_train_epoch(self, runner) -> None:
        self._gather_rank_states()

    def _gather_rank_states(self) -> None:
        """Collect every rank's states on rank 0, where checkpoints are
        saved (only rank 0 runs ``before_save_checkpoint``)."""
        if get_world_size() > 1:
            self._rank_states = all_gather_object(capture_random_states())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_states'] = self._rank_states if \
            get_world_size() > 1 else [capture_random_states()]

    def before_val(self, runner) -> None:
        self._before_val = capture_random_states()

    def after_val(self, runner) -> None:
        restore_random_states(self._before_val)

    def after_run(self, runner) -> None:
        if self._lock is not None:
            self._lock.release()
