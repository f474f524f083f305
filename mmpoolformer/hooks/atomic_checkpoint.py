""":class:`AtomicCheckpointHook`: mmengine's CheckpointHook writing through
the ``atomic_local`` backend (:mod:`mmpoolformer.checkpoints.atomic_write`),
with its steps ordered so that ``last_checkpoint`` (what ``--resume``
follows) names a complete file at every instant: new checkpoint, then the
pointer, then removal of outdated checkpoints (mmengine removes them
first).

Before each save it calls the hook event ``before_save_on_every_rank`` on
every process (mmengine's ``before_save_checkpoint`` runs on rank 0 alone),
so :class:`~mmpoolformer.hooks.RandomStatesHook` gathers every rank's
random states only when a checkpoint is saved.
"""
import os.path as osp
import warnings
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ..checkpoints.atomic_write import atomic_write, remove_partial_files
from ..private_apis import checkpoint_hook_saves_by_step

EVERY_RANK_EVENT = 'before_save_on_every_rank'


@HOOKS.register_module()
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
        runner.call_hook(EVERY_RANK_EVENT)
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
