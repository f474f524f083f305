""":class:`CheckedRunner`: mmengine's Runner with our config checks, for
any config that names it (``runner_type = 'CheckedRunner'``; our configs
do, and our tools use it for configs that name no runner)."""
from typing import Any, Optional, Union

from mmengine.registry import MODELS, RUNNERS, Registry
from mmengine.runner import Runner
from torch import nn

from ..hooks.bf16_inference import check_bf16_loop
from .bad_data import build_dataset, name_sample_errors
from .model_wiring import check_model


def registry_resolver(registry: Registry, scope: Optional[str] = None):
    """``type -> what registry builds for it`` in ``scope`` (default: the
    current one), as ``build_from_cfg`` looks it up; None when unknown,
    for the build to report."""

    def resolve(type_: Any) -> Any:
        if not isinstance(type_, str):
            return type_
        try:
            with registry.switch_scope_and_registry(scope) as found:
                return found.get(type_)
        except Exception:  # mmengine raises RuntimeError for unknown names
            return None

    return resolve


@RUNNERS.register_module()
class CheckedRunner(Runner):
    """mmengine's Runner that checks what it builds:

    - the model config's wiring (a PoolFormer backbone's arguments, the
      widths its neck expects, ``fork_last3`` against the levels read) is
      checked before the model is built
      (:mod:`~mmpoolformer.config_checks.model_wiring`);
    - every dataloader's dataset names its bad files: an annotation file
      that cannot be parsed, an image or label map that cannot be decoded,
      label values outside the classes
      (:mod:`~mmpoolformer.config_checks.bad_data`), also after a hook
      (mmdet's ``PipelineSwitchHook``) gives the training set a new
      pipeline;
    - a detector's CPU test or val loop with ``fp16=True`` has
      ``Bf16InferenceHook``
      (:func:`~mmpoolformer.hooks.bf16_inference.check_bf16_loop`).
    """

    def build_model(self, model: Union[nn.Module, dict]) -> nn.Module:
        if isinstance(model, dict):
            check_model(model, registry_resolver(MODELS,
                                                 model.get('_scope_')))
        return super().build_model(model)

    def build_test_loop(self, loop):
        check_bf16_loop(self, loop, 'test_cfg')
        return super().build_test_loop(loop)

    def build_val_loop(self, loop):
        check_bf16_loop(self, loop, 'val_cfg')
        return super().build_val_loop(loop)

    @staticmethod
    def build_dataloader(dataloader, seed: Optional[int] = None,
                         diff_rank_seed: bool = False):
        if isinstance(dataloader, dict) and isinstance(
                dataloader.get('dataset'), dict):
            dataloader = dict(dataloader,
                              dataset=build_dataset(dataloader['dataset']))
        return Runner.build_dataloader(dataloader, seed=seed,
                                       diff_rank_seed=diff_rank_seed)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_train_epoch':
            name_sample_errors(self.train_dataloader.dataset)
