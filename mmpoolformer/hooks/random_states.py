"""Exact resume: :class:`RandomStatesHook` saves the random number
generators a training step draws from (torch's CPU generator and CUDA's
where present, numpy's legacy global state, Python's ``random``) in every
checkpoint, as plain data that loads under ``torch.load(weights_only=
True)``, and restores them on resume, so a resumed run draws the same
dropout, drop path and augmentations as an uninterrupted one."""
import random
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..private_apis import resume_skip_protocol

RandomStates = Dict[str, Any]


def capture_random_states() -> RandomStates:
    """The states of this process's global generators."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    states = dict(
        torch=torch.get_rng_state(),
        numpy=dict(name=name, keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached_gaussian)),
        python=random.getstate())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: RandomStates) -> None:
    """Set the global generators to ``states`` (from
    :func:`capture_random_states`)."""
    torch.set_rng_state(states['torch'])
    numpy = states['numpy']
    np.random.set_state((numpy['name'],
                         numpy['keys'].numpy().astype(np.uint32),
                         numpy['pos'], numpy['has_gauss'],
                         numpy['cached_gaussian']))
    random.setstate(states['python'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


class _RestoreAfterSkip:
    """Wraps the iterator of mmengine's ``IterBasedTrainLoop`` and restores
    the random states right before the first new batch of a resumed run.

    The loop passes over the batches already trained in one of two ways
    (:func:`~mmpoolformer.private_apis.resume_skip_protocol`): it fetches
    and throws away ``skip`` of them (OpenMMLab's mmengine), or it calls
    :meth:`skip_iter` (onedl-mmengine), which this hands on to the wrapped
    iterator.
    """

    def __init__(self, loop, skip: int, states: RandomStates) -> None:
        self._loop, self._skip, self._states = loop, skip, states
        self._iterator = loop.dataloader_iterator

    def __iter__(self) -> Iterator:
        return self

    def skip_iter(self, num_iters: int) -> None:
        self._iterator.skip_iter(num_iters)

    def __next__(self) -> Any:
        if self._skip == 0:
            restore_random_states(self._states)
            self._loop.dataloader_iterator = self._iterator
            return next(self._iterator)
        self._skip -= 1
        return next(self._iterator)


@HOOKS.register_module()
class RandomStatesHook(Hook):
    """Every rank's random states in each checkpoint, restored on resume;
    validation leaves them as they were.

    In a distributed run the states are gathered on rank 0 (which alone
    saves) only when a checkpoint is about to be saved: the
    ``before_save_on_every_rank`` event of
    :class:`~mmpoolformer.hooks.AtomicCheckpointHook`. With another
    checkpoint hook a distributed run's checkpoints carry no states and a
    resume says it is not bit-exact.
    """

    priority = 'NORMAL'  # before CheckpointHook saves

    def __init__(self) -> None:
        self._rank_states: Optional[List[RandomStates]] = None
        self._resumed: Optional[List[RandomStates]] = None
        self._before_val: Optional[RandomStates] = None

    def before_save_on_every_rank(self, runner) -> None:
        if get_world_size() > 1:
            self._rank_states = all_gather_object(capture_random_states())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if get_world_size() == 1:
            checkpoint['random_states'] = [capture_random_states()]
        elif self._rank_states is not None:
            checkpoint['random_states'] = self._rank_states
        self._rank_states = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed = checkpoint.get('random_states')

    def before_train(self, runner) -> None:
        states = self._resumed
        if runner.iter == 0:
            return  # a fresh start, or load_from: keep the seeded states
        if states is None or len(states) != get_world_size():
            runner.logger.warning(
                'The checkpoint holds the random states of '
                f'{len(states) if states else 0} processes, this run has '
                f'{get_world_size()}: resuming with freshly seeded ones '
                '(not bit-exact).')
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # IterBasedTrainLoop
            protocol = resume_skip_protocol()
            if protocol is None:
                runner.logger.warning(
                    "mmengine's IterBasedTrainLoop skips trained batches in "
                    'a way mmpoolformer does not know: the random states are '
                    'restored before the skipped batches (not bit-exact).')
            fetched = (runner.iter if protocol == 'next'
                       and not getattr(loop, 'fast_forward_on_resume', False)
                       else 0)
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, fetched, states[get_rank()])
        else:  # EpochBasedTrainLoop resumes at an epoch's start
            restore_random_states(states[get_rank()])

    def before_val(self, runner) -> None:
        self._before_val = capture_random_states()

    def after_val(self, runner) -> None:
        restore_random_states(self._before_val)
