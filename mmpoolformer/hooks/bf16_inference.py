"""bf16 inference from a config: the test and val loops' ``fp16=True``
(mmengine runs them under CPU bf16 autocast on the CPU) with this hook
prepares the model for it.

    test_cfg = dict(type='TestLoop', fp16=True)
    custom_hooks = [dict(type='Bf16InferenceHook')]

(:func:`enable_bf16_testing` sets both; ``tools/test.py --bf16`` calls it.)
"""
from typing import List

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn
from torch.utils.hooks import RemovableHandle

from ..precision.capability import require_cpu_bf16
from ..precision.inference import fp32_head_outputs, prepare_bf16_inference


def _model(runner) -> nn.Module:
    """The detector or segmentor in the runner's (distributed or TTA)
    wrapper."""
    model = runner.model
    while is_model_wrapper(model) or (not hasattr(model, 'backbone')
                                      and hasattr(model, 'module')):
        model = model.module
    return model


def _on_cpu(model: nn.Module) -> bool:
    return next(model.parameters()).device.type == 'cpu'


@HOOKS.register_module()
class Bf16InferenceHook(Hook):
    """When a CPU test or val loop has ``fp16=True`` (CPU bf16 autocast):

    * testing, and validating outside training: prepare the model with
      :func:`~mmpoolformer.precision.prepare_bf16_inference` (bf16 weights,
      channels_last, fp32 where post-processing reads), after the
      checkpoint is loaded; a CPU without native bf16 gets
      :class:`~mmpoolformer.precision.Bf16UnavailableError`;
    * validating during training: the weights being trained stay fp32
      (autocast alone computes in bf16); the heads give fp32 maps for
      the duration of the validation, as mmdet's NMS needs.

    On other devices ``fp16=True`` keeps its meaning (fp16 autocast) and
    this hook does nothing.
    """
    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._training = False
        self._val_handles: List[RemovableHandle] = []

    def before_train(self, runner) -> None:
        self._training = True

    def after_train(self, runner) -> None:
        self._training = False

    def before_test(self, runner) -> None:
        self._prepare(runner, runner.test_loop, 'test_cfg.fp16')

    def before_val(self, runner) -> None:
        if not self._training:
            self._prepare(runner, runner.val_loop, 'val_cfg.fp16')
            return
        model = _model(runner)
        if getattr(runner.val_loop, 'fp16', False) and _on_cpu(model):
            self._val_handles = fp32_head_outputs(model)

    def after_val(self, runner) -> None:
        for handle in self._val_handles:
            handle.remove()
        self._val_handles = []

    def _prepare(self, runner, loop, key: str) -> None:
        model = _model(runner)
        if not getattr(loop, 'fp16', False) or not _on_cpu(model):
            return
        for change in prepare_bf16_inference(model, flag=key):
            runner.logger.info(f'bf16 inference: {change}')


def check_bf16_loop(runner, loop, key: str) -> None:
    """Refuse, with the fix, a CPU test or val loop config ``loop`` (at
    ``key``) with ``fp16=True`` for a detector without
    :class:`Bf16InferenceHook`: mmengine's bf16 autocast alone hands the
    heads' bf16 maps to mmdet's box decoding and mmcv's CPU NMS, which
    fails deep inside mmcv with a dtype error."""
    if not (isinstance(loop, dict) and loop.get('fp16')):
        return
    model = _model(runner)
    detector = any(hasattr(model, head) for head in ('bbox_head',
                                                     'rpn_head'))
    if not detector or not _on_cpu(model) or any(
            isinstance(hook, Bf16InferenceHook) for hook in runner.hooks):
        return
    raise ValueError(
        f'{key}: fp16=True runs {type(model).__name__} under bf16 autocast '
        "on the CPU, whose bf16 box maps mmcv's CPU NMS refuses. Add "
        "custom_hooks=[dict(type='Bf16InferenceHook')] to the config "
        f'(tools/test.py --bf16 sets both), or set {key}.fp16=False.')


def enable_bf16_testing(cfg: Config, flag: str = '--bf16') -> None:
    """Set ``cfg`` (in place) to test in bf16 on the CPU: the test loop's
    ``fp16=True`` and a :class:`Bf16InferenceHook`; raise
    :class:`~mmpoolformer.precision.Bf16UnavailableError` naming ``flag``
    on a CPU without native bf16."""
    require_cpu_bf16(flag)
    cfg.test_cfg = dict(cfg.get('test_cfg') or dict(type='TestLoop'),
                        fp16=True)
    hooks = cfg.setdefault('custom_hooks', [])
    if not any(isinstance(hook, dict) and hook.get('type') in (
            'Bf16InferenceHook', Bf16InferenceHook) for hook in hooks):
        hooks.append(dict(type='Bf16InferenceHook'))
