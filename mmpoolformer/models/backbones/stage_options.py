"""What PoolFormer and the MetaFormer baselines share: reading an arch
(a name or a dict) into its settings, and the dense-prediction options
(frozen stages, BatchNorm kept in eval mode, which ``init_cfg`` entries
load weight files)."""
from typing import (Callable, Dict, Iterable, List, Optional, Sequence, Tuple,
                    Union)

from mmengine.model import PretrainedInit
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

NUM_STAGES = 4


def resolve_arch_settings(arch: Union[str, dict], named: Dict[str, dict],
                          defaults: dict, family: str, valid: str,
                          per_stage: Iterable[str],
                          check_keys: Optional[Callable] = None,
                          broadcast: Iterable[str] = ()) -> dict:
    """The settings of an arch name (a key of ``named``, any case) or a
    custom dict, ``defaults`` filling what it leaves out; ``valid`` ends
    the unknown-name message, ``check_keys(arch)`` vets a dict's keys, a
    str or dict under a key of ``broadcast`` serves every stage, and each
    of ``per_stage`` must have one entry per stage."""
    if isinstance(arch, str):
        if arch.lower() not in named:
            raise ValueError(f'Unknown {family} arch {arch!r}. Valid archs: '
                             + valid)
        arch = named[arch.lower()]
    elif not isinstance(arch, dict):
        raise TypeError(f'arch must be a str or a dict, got {type(arch)}')
    if check_keys is not None:
        check_keys(arch)
    missing = {'layers', 'embed_dims'} - set(arch)
    if missing:
        raise ValueError(f'A custom {family} arch dict needs the keys '
                         f'{sorted(missing)}; got {sorted(arch)}.')
    settings = dict(defaults, **arch)
    for key in broadcast:
        if isinstance(settings[key], (str, dict)):
            settings[key] = [settings[key]] * NUM_STAGES
    for key in per_stage:
        if len(settings[key]) != NUM_STAGES:
            raise ValueError(f'arch[{key!r}] must have {NUM_STAGES} entries, '
                             f'one per stage; got {settings[key]}.')
    return settings


def check_frozen_stages(frozen_stages: int) -> int:
    """``frozen_stages`` itself, if it is in [-1, 4]."""
    if not -1 <= frozen_stages <= NUM_STAGES:
        raise ValueError(f'frozen_stages must be in [-1, {NUM_STAGES}], '
                         f'got {frozen_stages}.')
    return frozen_stages


def split_pretrained(init_cfg: Optional[Union[dict, List[dict]]]
                     ) -> Tuple[List[dict], List[dict]]:
    """The ``Pretrained`` entries of ``init_cfg`` (our loaders read them)
    and the others (mmengine's ``initialize`` applies them)."""
    cfgs = init_cfg or []
    cfgs = [cfgs] if isinstance(cfgs, dict) else list(cfgs)
    pretrained = [cfg for cfg in cfgs
                  if cfg['type'] in ('Pretrained', PretrainedInit)]
    return pretrained, [cfg for cfg in cfgs if cfg not in pretrained]


class DenseOptions:
    """The options of a backbone (an ``nn.Module`` listed after this class
    in its bases) with its stem in the attribute named by ``STEM`` and
    ``stage_modules(stage)``: the maps it returns, ``frozen_stages`` and
    ``norm_eval``, ``with_cp``."""
    STEM = 'stem'

    def _set_dense_options(self, arch: Union[str, dict],
                           embed_dims: Sequence[int], fork_feat: bool,
                           out_indices: Tuple[int, ...],
                           frozen_stages: int, norm_eval: bool,
                           with_cp: bool) -> None:
        """Set them, ``out_indices`` checked (``check_out_indices``)."""
        self.arch_name = arch if isinstance(arch, str) else 'custom'
        self.embed_dims = list(embed_dims)
        self.fork_feat = fork_feat
        self.out_indices = out_indices
        # The channels of each map that ``forward_features`` returns.
        self.out_channels = [embed_dims[i] for i in self.out_indices] \
            if fork_feat else [embed_dims[-1]]
        self.frozen_stages = check_frozen_stages(frozen_stages)
        self.norm_eval = norm_eval
        self.with_cp = with_cp

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [getattr(self, self.STEM)]
        for stage in range(self.frozen_stages):
            frozen += self.stage_modules(stage)
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> nn.Module:
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
