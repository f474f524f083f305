"""PoolFormer (MetaFormer Is Actually What You Need for Vision, CVPR 2022).

A faithful mmengine port of sail-sg/poolformer: same module names (so the
official checkpoints load strictly), same operations in the same order (so
outputs match to the last bit), with mm-style options for dense prediction.
"""
import os
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_init
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint as activation_checkpoint

from . import norms  # noqa: F401 registers LN2d for norm_cfg
from .fast_path import (BlockPath, block_forward, check_fast_path,
                        choose_block_path, is_foldable)
from .token_mixers import build_token_mixer

ARCH_SETTINGS: Dict[str, dict] = {
    's12': dict(layers=[2, 2, 6, 2], embed_dims=[64, 128, 320, 512],
                mlp_ratios=[4, 4, 4, 4], layer_scale_init_value=1e-5),
    's24': dict(layers=[4, 4, 12, 4], embed_dims=[64, 128, 320, 512],
                mlp_ratios=[4, 4, 4, 4], layer_scale_init_value=1e-5),
    's36': dict(layers=[6, 6, 18, 6], embed_dims=[64, 128, 320, 512],
                mlp_ratios=[4, 4, 4, 4], layer_scale_init_value=1e-6),
    'm36': dict(layers=[6, 6, 18, 6], embed_dims=[96, 192, 384, 768],
                mlp_ratios=[4, 4, 4, 4], layer_scale_init_value=1e-6),
    'm48': dict(layers=[8, 8, 24, 8], embed_dims=[96, 192, 384, 768],
                mlp_ratios=[4, 4, 4, 4], layer_scale_init_value=1e-6),
}

NUM_STAGES = 4


def resolve_arch(arch: Union[str, dict]) -> dict:
    """Return the arch settings for a name or a custom dict, validated."""
    if isinstance(arch, str):
        if arch.lower() not in ARCH_SETTINGS:
            raise ValueError(
                f'Unknown PoolFormer arch {arch!r}. Valid archs: '
                f'{sorted(ARCH_SETTINGS)}, or a dict with keys layers, '
                'embed_dims (and optionally mlp_ratios, '
                'layer_scale_init_value).')
        return dict(ARCH_SETTINGS[arch.lower()])
    if not isinstance(arch, dict):
        raise TypeError(f'arch must be a str or a dict, got {type(arch)}')
    missing = {'layers', 'embed_dims'} - set(arch)
    if missing:
        raise ValueError(f'A custom PoolFormer arch dict needs the keys '
                         f'{sorted(missing)}; got {sorted(arch)}.')
    settings = dict(mlp_ratios=[4] * NUM_STAGES, layer_scale_init_value=1e-5)
    settings.update(arch)
    for key in ('layers', 'embed_dims', 'mlp_ratios'):
        if len(settings[key]) != NUM_STAGES:
            raise ValueError(f'arch[{key!r}] must have {NUM_STAGES} entries, '
                             f'one per stage; got {settings[key]}.')
    return settings


def fork_last3_from_env() -> bool:
    """The original's ``FORK_LAST3`` switch; '0', 'false' and '' mean off."""
    value = os.environ.get('FORK_LAST3', '').strip().lower()
    return value not in ('', '0', 'false', 'no', 'off')


class PatchEmbed(nn.Module):
    """A strided convolution that embeds (or downsamples) patches."""

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int,
                 stride: int, padding: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size,
                              stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class Mlp(nn.Module):
    """The channel MLP, as two 1x1 convolutions."""

    def __init__(self, dim: int, hidden_dim: int, act_cfg: dict,
                 drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden_dim, 1)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden_dim, dim, 1)
        self.drop = nn.Dropout(drop)
        for conv in (self.fc1, self.fc2):
            trunc_normal_init(conv, std=.02, bias=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


class PoolFormerBlock(nn.Module):
    """One MetaFormer block: norm, token mixer, norm, channel MLP.

    Both branches are residual and scaled per channel by LayerScale.
    """

    def __init__(self, dim: int, token_mixer: nn.Module, mlp_ratio: float,
                 norm_cfg: dict, act_cfg: dict, drop: float = 0.,
                 drop_path: float = 0., use_layer_scale: bool = True,
                 layer_scale_init_value: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, dim)[1]
        self.token_mixer = token_mixer
        self.norm2 = build_norm_layer(norm_cfg, dim)[1]
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_cfg, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()
        self.use_layer_scale = use_layer_scale
        if use_layer_scale:
            self.layer_scale_1 = nn.Parameter(
                layer_scale_init_value * torch.ones(dim))
            self.layer_scale_2 = nn.Parameter(
                layer_scale_init_value * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = self.token_mixer(self.norm1(x))
        if self.use_layer_scale:
            mixed = self.layer_scale_1.unsqueeze(-1).unsqueeze(-1) * mixed
        x = x + self.drop_path(mixed)
        mlp_out = self.mlp(self.norm2(x))
        if self.use_layer_scale:
            mlp_out = self.layer_scale_2.unsqueeze(-1).unsqueeze(-1) * mlp_out
        return x + self.drop_path(mlp_out)


class PoolFormer(BaseModule):
    """PoolFormer backbone for classification and dense prediction.

    Module names follow the original: ``patch_embed``, ``network`` (stages at
    even positions 0, 2, 4, 6, downsampling at 1, 3, 5), per-output norms
    ``norm0``/``norm2``/``norm4``/``norm6`` and, for classification, ``norm``
    and ``head``. The official ImageNet files therefore load unchanged.

    Args:
        arch: 's12', 's24', 's36', 'm36', 'm48', or a dict with ``layers``,
            ``embed_dims`` and optionally ``mlp_ratios`` and
            ``layer_scale_init_value``.
        pool_size: Pooling window of the default token mixer.
        token_mixers: The mixer of each stage: one name or dict for all
            stages, or a list of four (see ``token_mixers.TOKEN_MIXERS``:
            'pooling', 'identity', 'dwconv', 'attention', 'spatial_mlp').
            ``None`` is pooling everywhere, the original PoolFormer.
        norm_cfg: Norm of every block and output; the default GroupNorm with
            one group is the paper's Modified Layer Norm.
        act_cfg: Activation inside the channel MLP.
        in_patch_size, in_stride, in_pad: The stem convolution.
        down_patch_size, down_stride, down_pad: The downsampling convolutions.
        drop_rate: Dropout inside the MLP.
        drop_path_rate: Stochastic depth, rising linearly with block index.
        use_layer_scale: Whether to scale both residual branches.
        fork_feat: True returns a tuple of per-stage maps (dense prediction);
            False returns class logits from ``norm`` and ``head``.
        fork_last3: Leave the first stage's output unnormalised, for necks
            that start at level 1 (RetinaNet). ``None`` reads the original's
            ``FORK_LAST3`` environment variable.
        out_indices: Stages (0-3) whose maps are returned.
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and stages
            1..k with their output norms.
        norm_eval: Keep BatchNorm layers in eval mode while training.
        with_cp: Gradient checkpointing per block, to save memory.
        fast_path: Run pooling blocks channels_last with the norms'
            affines and layer scales folded into neighbouring ops (see
            ``fast_path.py``; oneDNN's fused kernels for CPU inference):
            the same function up to float rounding (1e-4). None (default)
            takes it where it was measured faster, on the CPU, and the
            original operations elsewhere and under tracing; True takes
            it on every device; False always runs the original operations,
            bit for bit.
        num_classes: Classes of the head when ``fork_feat=False``.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)`` loads
            original, timm or mmpretrain PoolFormer files.
    """

    def __init__(self,
                 arch: Union[str, dict] = 's12',
                 pool_size: int = 3,
                 token_mixers: Union[None, str, dict, Sequence] = None,
                 norm_cfg: dict = dict(type='GN', num_groups=1),
                 act_cfg: dict = dict(type='GELU'),
                 in_patch_size: int = 7,
                 in_stride: int = 4,
                 in_pad: int = 2,
                 down_patch_size: int = 3,
                 down_stride: int = 2,
                 down_pad: int = 1,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 use_layer_scale: bool = True,
                 fork_feat: bool = True,
                 fork_last3: Optional[bool] = None,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 fast_path: Optional[bool] = None,
                 num_classes: int = 1000,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        settings = resolve_arch(arch)
        layers, embed_dims = settings['layers'], settings['embed_dims']
        self.embed_dims = list(embed_dims)
        self.fork_feat = fork_feat
        self.out_indices = self._check_out_indices(out_indices)
        if not -1 <= frozen_stages <= NUM_STAGES:
            raise ValueError(f'frozen_stages must be in [-1, {NUM_STAGES}], '
                             f'got {frozen_stages}.')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.fast_path = check_fast_path(fast_path)

        mixers = self._per_stage_mixers(token_mixers, pool_size)

        self.patch_embed = PatchEmbed(3, embed_dims[0], in_patch_size,
                                      in_stride, in_pad)
        total_blocks = sum(layers)
        network = []
        for i in range(NUM_STAGES):
            if i > 0:
                network.append(
                    PatchEmbed(embed_dims[i - 1], embed_dims[i],
                               down_patch_size, down_stride, down_pad))
            first = sum(layers[:i])
            network.append(nn.Sequential(*[
                PoolFormerBlock(
                    embed_dims[i],
                    build_token_mixer(mixers[i], embed_dims[i]),
                    settings['mlp_ratios'][i], norm_cfg, act_cfg,
                    drop=drop_rate,
                    drop_path=drop_path_rate * (first + j) /
                    max(total_blocks - 1, 1),
                    use_layer_scale=use_layer_scale,
                    layer_scale_init_value=settings['layer_scale_init_value'])
                for j in range(layers[i])
            ]))
        self.network = nn.ModuleList(network)
        self._foldable = [[is_foldable(block) for block in stage]
                          for stage in self.network[::2]]

        if fork_feat:
            if fork_last3 is None:
                fork_last3 = fork_last3_from_env()
            self.fork_last3 = fork_last3
            for stage in self.out_indices:
                norm = nn.Identity() if stage == 0 and fork_last3 else \
                    build_norm_layer(norm_cfg, embed_dims[stage])[1]
                self.add_module(f'norm{2 * stage}', norm)
        else:
            self.norm = build_norm_layer(norm_cfg, embed_dims[-1])[1]
            self.head = nn.Linear(embed_dims[-1], num_classes) \
                if num_classes > 0 else nn.Identity()
            if num_classes > 0:
                trunc_normal_init(self.head, std=.02, bias=0)
        self._freeze_stages()

    @staticmethod
    def _per_stage_mixers(token_mixers, pool_size: int) -> list:
        if token_mixers is None:
            token_mixers = 'pooling'
        if isinstance(token_mixers, (str, dict)):
            token_mixers = [token_mixers] * NUM_STAGES
        if len(token_mixers) != NUM_STAGES:
            raise ValueError(f'token_mixers needs one entry per stage '
                             f'({NUM_STAGES}), got {list(token_mixers)}.')
        return [dict(type='pooling', pool_size=pool_size)
                if m == 'pooling' else m for m in token_mixers]

    @staticmethod
    def _check_out_indices(out_indices: Union[int, Sequence[int]]
                           ) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        indices = tuple(i + NUM_STAGES if i < 0 else i for i in out_indices)
        bad = [i for i in out_indices
               if not -NUM_STAGES <= i < NUM_STAGES]
        if bad or not indices:
            raise ValueError(
                f'out_indices {tuple(out_indices)} is invalid: PoolFormer has '
                f'{NUM_STAGES} stages, so give a non-empty subset of '
                f'{tuple(range(NUM_STAGES))}.')
        return tuple(sorted(set(indices)))

    def stage_modules(self, stage: int) -> List[nn.Module]:
        """The modules of a stage (0-3): its downsampling (or the stem for
        stage 0), its blocks, and its output norm if it has one."""
        modules = [self.patch_embed if stage == 0
                   else self.network[2 * stage - 1], self.network[2 * stage]]
        if self.fork_feat and stage in self.out_indices:
            modules.append(getattr(self, f'norm{2 * stage}'))
        return modules

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.patch_embed]
        for stage in range(self.frozen_stages):
            frozen += self.stage_modules(stage)
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'PoolFormer':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def init_weights(self) -> None:
        """Load ``init_cfg=dict(type='Pretrained', ...)`` through our
        format-aware loader; other init_cfgs go to mmengine as usual."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            from mmpoolformer.weight_files import load_pretrained
            load_pretrained(self, cfg['checkpoint'],
                            map_location=cfg.get('map_location', 'cpu'))
            self._is_init = True
        else:
            super().init_weights()

    def _run_stage(self, stage: int, x: torch.Tensor,
                   path: BlockPath) -> torch.Tensor:
        for block, foldable in zip(self.network[2 * stage],
                                   self._foldable[stage]):
            run = block
            if foldable and path is not BlockPath.PLAIN:
                run = partial(block_forward, block, path)
            if self.with_cp and x.requires_grad:
                x = activation_checkpoint(run, x, use_reentrant=False)
            else:
                x = run(x)
        return x

    def forward(self, x: torch.Tensor
                ) -> Union[Tuple[torch.Tensor, ...], torch.Tensor]:
        path = choose_block_path(self.fast_path, x, self.training)
        if path is not BlockPath.PLAIN:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.patch_embed(x)
        outs = []
        last_stage = max(self.out_indices) if self.fork_feat \
            else NUM_STAGES - 1
        for stage in range(last_stage + 1):
            if stage > 0:
                x = self.network[2 * stage - 1](x)
            x = self._run_stage(stage, x, path)
            if self.fork_feat and stage in self.out_indices:
                outs.append(getattr(self, f'norm{2 * stage}')(x))
        if self.fork_feat:
            return tuple(outs)
        x = self.norm(x)
        return self.head(x.mean([-2, -1]))


def _legacy_factory(arch: str):
    """Builder for the original dense configs' ``poolformer_<arch>_feat``."""

    def build(style: Optional[str] = None, **kwargs) -> PoolFormer:
        if style not in (None, 'pytorch'):
            print_log(f'PoolFormer ignores style={style!r}', level=30)
        return PoolFormer(arch=arch, fork_feat=True, **kwargs)

    build.__name__ = f'poolformer_{arch}_feat'
    build.__doc__ = f'PoolFormer-{arch.upper()} for dense prediction ' \
        '(the original config name).'
    return build


LEGACY_BUILDERS = {f'poolformer_{arch}_feat': _legacy_factory(arch)
                   for arch in ARCH_SETTINGS}
