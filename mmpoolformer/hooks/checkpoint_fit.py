""":class:`CheckpointFitHook`: what a run loads is what it asks for."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import HOOKS

from ..checkpoints.load_checks import (check_training_checkpoint,
                                       describe_misfit, misfits, resume_source)
from ..checkpoints.weight_files import CheckpointError


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """Refuses a checkpoint that does not fit what the run asks for.

    - ``load_from`` (and ``tools/test.py``'s checkpoint) must fit the model
      key by key unless ``allow_partial_load``.
    - ``resume`` needs a training checkpoint, and a bare ``resume`` one in
      the work dir unless ``allow_fresh_start``.

    Args:
        allow_partial_load (bool): load a checkpoint that fits only in
            part (mmengine then loads the keys that fit and warns).
        allow_fresh_start (bool): with a bare ``resume`` and no checkpoint
            in the work dir, start from iteration 0 instead of failing.
    """

    priority = 'VERY_HIGH'

    def __init__(self, allow_partial_load: bool = False,
                 allow_fresh_start: bool = False) -> None:
        self.allow_partial_load = allow_partial_load
        self.allow_fresh_start = allow_fresh_start
        self._source: Optional[str] = None

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
