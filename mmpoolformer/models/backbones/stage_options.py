"""The dense-prediction options that PoolFormer and the MetaFormer
baselines share: frozen stages, BatchNorm kept in eval mode, and which
``init_cfg`` entries load weight files."""
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.model import PretrainedInit
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

NUM_STAGES = 4


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
