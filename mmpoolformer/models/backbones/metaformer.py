"""The MetaFormer skeleton: PoolFormer ("MetaFormer Is Actually What You
Need for Vision", CVPR 2022), the released MetaFormer S12 hybrids, and the
MetaFormer baselines PoolFormerV2, ConvFormer and CAFormer ("MetaFormer
Baselines for Vision", TPAMI 2024), as one backbone for classification and
dense prediction.

A model is a stem, then four stages, each a downsampling (none in the
first), an optional position embedding and blocks; a block is norm, token
mixer, norm, channel MLP, each branch with an optional layer scale and
residual scale. What differs between the archs is data (``archs.py``).
Module names are timm's (``stem``, ``stages.N.downsample``,
``stages.N.blocks.M``, ``head``), so timm's files load unchanged; the other
released layouts are renamed on loading (``checkpoints/weight_layouts.py``).

``fast_path=False`` computes as each original model's code, op for op, so
outputs and gradients equal the original's (``tests/reference_*.py``);
the fast path (``fast_path.py``) is the same function up to float rounding.
"""
import inspect
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule, PretrainedInit, initialize
from mmengine.model.weight_init import trunc_normal_init
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint as activation_checkpoint

from ...checkpoints.weight_layouts import upgrade_legacy_keys
from ...registry import MODELS
from ..builder import build_activation, build_norm, build_token_mixer
from . import fast_path
from .activations import SquaredReLU
from .archs import (ARCH_DEFAULTS, BASELINE_DEFAULTS, NUM_STAGES,
                    canonical_name, check_known, resolve_arch)
from .token_mixers import pointwise


class Downsampling(nn.Module):
    """A strided convolution with an optional norm: after it in the stem,
    before it (on the incoming map) between stages."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int, padding: int, norm_cfg: Optional[dict] = None,
                 norm_first: bool = True) -> None:
        super().__init__()
        self.norm_first = norm_first
        norm_channels = in_channels if norm_first else out_channels
        self.norm = build_norm(norm_cfg, norm_channels) if norm_cfg \
            else nn.Identity()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            return self.conv(self.norm(x))
        return self.norm(self.conv(x))


class PositionEmbedding(nn.Module):
    """A learned position embedding added to a map (``AddPositionEmb`` of
    the released ``pppa``/``ppaa`` models), resized bicubically at any
    other map size than the one it was learned for."""

    def __init__(self, dim: int, size: Sequence[int]) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, dim, *size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos_embed = self.pos_embed
        if pos_embed.shape[-2:] != x.shape[-2:]:
            pos_embed = F.interpolate(pos_embed, size=x.shape[-2:],
                                      mode='bicubic', align_corners=False)
        return x + pos_embed


class Scale(nn.Module):
    """A learnable per-channel scale of a ``(B, C, H, W)`` map: the layer
    scale (on a branch) and the residual scale (on the shortcut)."""

    def __init__(self, dim: int, init_value: float = 1.) -> None:
        super().__init__()
        self.scale = nn.Parameter(init_value * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale[:, None, None]


def _optional_scale(dim: int, init_value: Optional[float]) -> nn.Module:
    return nn.Identity() if init_value is None else Scale(dim, init_value)


class Mlp(nn.Module):
    """The channel MLP as two 1x1 convolutions (linear layers over the
    tokens where the arch computes ``channels_last``)."""

    def __init__(self, dim: int, hidden_dim: int, act_cfg: dict,
                 bias: bool = True, drop: float = 0.,
                 channels_last: bool = False) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.fc1 = nn.Conv2d(dim, hidden_dim, 1, bias=bias)
        self.act = build_activation(act_cfg)
        self.fc2 = nn.Conv2d(hidden_dim, dim, 1, bias=bias)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(pointwise(self.fc1, x, self.channels_last)))
        return self.drop(pointwise(self.fc2, x, self.channels_last))


class MetaFormerBlock(nn.Module):
    """norm, token mixer, norm, channel MLP: ``res_scale(x) +
    drop_path(layer_scale(branch(x)))`` for each branch, the scales where
    the arch has them.

    With stochastic depth in training, the MetaFormer baselines' original
    drops a branch before its layer scale and PoolFormer's after it; the
    scaled branch is the same, rounded differently. This block follows
    PoolFormer (the baselines have no layer scales).
    """

    def __init__(self, dim: int, token_mixer: nn.Module, mlp: nn.Module,
                 norm_cfg: dict, drop_path: float = 0.,
                 layer_scale_init_value: Optional[float] = None,
                 res_scale_init_value: Optional[float] = None) -> None:
        super().__init__()
        # The parameters in the originals' order (PoolFormer's layer scales
        # first), which optimizer states saved with them follow.
        self.layer_scale1 = _optional_scale(dim, layer_scale_init_value)
        self.layer_scale2 = _optional_scale(dim, layer_scale_init_value)
        self.norm1 = build_norm(norm_cfg, dim)
        self.token_mixer = token_mixer
        self.res_scale1 = _optional_scale(dim, res_scale_init_value)
        self.norm2 = build_norm(norm_cfg, dim)
        self.mlp = mlp
        self.res_scale2 = _optional_scale(dim, res_scale_init_value)
        self.drop_path = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual_forward(x, self.norm1, self.token_mixer,
                                     self.norm2, self.mlp)

    def residual_forward(self, x: torch.Tensor, norm1: Callable,
                         mixer: Callable, norm2: Callable,
                         mlp: Callable) -> torch.Tensor:
        """The block's residual structure around the given parts (its own,
        or their fast forms)."""
        # The shortcut first, as the originals record it: the order in
        # which autograd sums the gradients of ``x``.
        shortcut = self.res_scale1(x)
        x = shortcut + self.drop_path(self.layer_scale1(mixer(norm1(x))))
        shortcut = self.res_scale2(x)
        return shortcut + self.drop_path(self.layer_scale2(mlp(norm2(x))))


class MetaFormerStage(nn.Module):
    """A stage: its downsampling (an identity in the first, after the
    stem), its position embedding (an identity where it has none) and its
    blocks."""

    def __init__(self, downsample: nn.Module, pos_embed: nn.Module,
                 blocks: List[nn.Module]) -> None:
        super().__init__()
        self.downsample = downsample
        self.pos_embed = pos_embed
        self.blocks = nn.Sequential(*blocks)


class MlpHead(nn.Module):
    """ConvFormer's and CAFormer's classifier: linear, SquaredReLU,
    LayerNorm, dropout, linear."""

    def __init__(self, dim: int, num_classes: int, mlp_ratio: float = 4.,
                 drop: float = 0.) -> None:
        super().__init__()
        hidden = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.norm(self.act(self.fc1(x)))))


class ClassifierHead(nn.Module):
    """``kind='poolformer'``: the arch's norm on the map, global average
    pooling, linear. ``'linear'``/``'mlp'`` (the baselines): pooling,
    LayerNorm, then a linear or :class:`MlpHead` classifier."""

    def __init__(self, dim: int, num_classes: int, kind: str, norm_cfg: dict,
                 drop: float = 0.) -> None:
        super().__init__()
        if kind not in ('poolformer', 'linear', 'mlp'):
            raise ValueError(f"head must be 'poolformer', 'linear' or 'mlp', "
                             f'got {kind!r}')
        self.norm_first = kind == 'poolformer'
        self.norm = build_norm(norm_cfg, dim) if self.norm_first \
            else nn.LayerNorm(dim, eps=1e-6)
        if num_classes <= 0:
            self.fc = nn.Identity()
        elif kind == 'mlp':
            self.fc = MlpHead(dim, num_classes, drop=drop)
        else:
            self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            return self.fc(self.norm(x).mean([-2, -1]))
        # pooled over the (B, H, W, C) view, as the baselines' original
        return self.fc(self.norm(x.permute(0, 2, 3, 1).mean((1, 2))))


def argument_names(cls: type) -> List[str]:
    """The keyword arguments ``cls(...)`` takes by name."""
    return [name for name, param in
            inspect.signature(cls.__init__).parameters.items()
            if name != 'self' and param.kind is param.POSITIONAL_OR_KEYWORD]


def check_out_indices(out_indices: Union[int, Sequence[int]]
                      ) -> Tuple[int, ...]:
    """``out_indices`` (an int or stages, negative ones from the end) as
    the sorted stages (0-3) they name, validated."""
    if isinstance(out_indices, int):
        out_indices = [out_indices]
    bad = [i for i in out_indices if not -NUM_STAGES <= i < NUM_STAGES]
    if bad or not out_indices:
        raise ValueError(
            f'out_indices {tuple(out_indices)} is invalid: the backbone has '
            f'{NUM_STAGES} stages, so give a non-empty subset of '
            f'{tuple(range(NUM_STAGES))}.')
    return tuple(sorted({i % NUM_STAGES for i in out_indices}))


def _with_pool_size(mixer: Union[str, dict], pool_size: int
                    ) -> Union[str, dict]:
    """A 'pooling' mixer (by name or dict) with ``pool_size`` unless it
    sets its own."""
    if mixer == 'pooling':
        return dict(type='pooling', pool_size=pool_size)
    if isinstance(mixer, dict) and mixer.get('type') == 'pooling':
        return dict(dict(pool_size=pool_size), **mixer)
    return mixer


def _per_stage(value: Union[str, dict, Sequence], what: str) -> list:
    if isinstance(value, (str, dict)):
        return [value] * NUM_STAGES
    if len(value) != NUM_STAGES:
        raise ValueError(f'{what} needs one entry per stage ({NUM_STAGES}), '
                         f'got {list(value)}.')
    return list(value)


@MODELS.register_module()
class MetaFormer(BaseModule):
    """The MetaFormer family for classification and dense prediction.

    Args:
        arch: A name of :data:`~.archs.ARCHS`: ``'poolformer_s12'`` ..
            ``'poolformer_m48'`` (also ``'s12'`` .. ``'m48'``), the released
            hybrids ``'metaformer_id_s12'``, ``'metaformer_pppa_s12_224'``,
            ``'metaformer_ppaa_s12_224'``, ``'metaformer_pppf_s12_224'``,
            ``'metaformer_ppff_s12_224'``, the baselines
            ``'poolformerv2_s12'`` .. ``'poolformerv2_m48'``,
            ``'convformer_s18'`` .. ``'convformer_b36'``, ``'caformer_s18'``
            .. ``'caformer_b36'``; or a dict with ``layers``,
            ``embed_dims`` and optionally any key of
            :data:`~.archs.ARCH_DEFAULTS` (``layer_scale_init_value``
            serves every stage). A ``MetaFormer`` dict starts from
            PoolFormerV2's settings, a ``PoolFormer`` one from PoolFormer's.
        pool_size: Pooling window of the 'pooling' mixers.
        token_mixers, norm_cfg, act_cfg: Override the arch's: a registered
            mixer name or dict (``TOKEN_MIXERS``: 'pooling', 'identity',
            'dwconv', 'attention', 'spatial_mlp', 'sepconv') for all stages
            or one per stage; the blocks' norm; the MLP's activation.
        in_patch_size, in_stride, in_pad: The stem convolution.
        down_patch_size, down_stride, down_pad: The downsamplings.
        drop_rate: Dropout inside the channel MLPs.
        drop_path_rate: Stochastic depth, rising linearly with block index.
        use_layer_scale: False drops the arch's layer scales.
        fork_feat: True returns a tuple of per-stage maps (dense
            prediction); False returns class logits.
        fork_last3: Leave the first stage's output unnormalised, for necks
            that start at level 1 (RetinaNet, as the original's
            ``FORK_LAST3=1``).
        out_indices: Stages (0-3) whose maps are returned.
        out_norm_cfg: The norm of each returned map; None is the arch's
            (the blocks' norm for PoolFormer, a channel LayerNorm with bias
            for the baselines).
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and
            stages 1..k with their output norms.
        norm_eval: Keep BatchNorm layers in eval mode while training.
        with_cp: Gradient checkpointing per block, to save memory.
        fast_path: False computes as the original model, op for op. None
            (default) takes the fast path (``fast_path.py``: the same
            function up to float rounding) on the devices where it was
            measured faster, the CPU, outside tracing and compiling
            (exporters and FLOP counters see the original operations);
            True takes it on every device.
        num_classes: Classes of the head when ``fork_feat=False``.
        head_drop_rate: Dropout inside the MLP head.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)``
            (optionally with ``prefix``, or in a list with other init
            configs) loads a file of any released layout.
    """
    DEFAULT_ARCH = 'caformer_s18'
    CUSTOM_ARCH_DEFAULTS = BASELINE_DEFAULTS

    def __init__(self,
                 arch: Union[str, dict, None] = None,
                 pool_size: int = 3,
                 token_mixers: Union[None, str, dict, Sequence] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
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
                 fork_last3: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_norm_cfg: Optional[dict] = None,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 fast_path: Optional[bool] = None,
                 num_classes: int = 1000,
                 head_drop_rate: float = 0.,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **unknown) -> None:
        check_known(unknown, argument_names(MetaFormer),
                    f'{type(self).__name__} has no argument')
        super().__init__(init_cfg=init_cfg)
        arch = self.DEFAULT_ARCH if arch is None else arch
        settings = resolve_arch(arch, self.CUSTOM_ARCH_DEFAULTS)
        self.arch_name = canonical_name(arch) if isinstance(arch, str) \
            else 'custom'
        self.settings = settings
        layers, embed_dims = settings['layers'], settings['embed_dims']
        self.embed_dims = list(embed_dims)
        self.fork_feat = fork_feat
        self.fork_last3 = bool(fork_last3)
        self.out_indices = check_out_indices(out_indices)
        self.out_channels = [embed_dims[i] for i in self.out_indices] \
            if fork_feat else [embed_dims[-1]]
        if not -1 <= frozen_stages <= NUM_STAGES:
            raise ValueError(f'frozen_stages must be in [-1, {NUM_STAGES}], '
                             f'got {frozen_stages}.')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.fast_path = fast_path_argument(fast_path)
        self.strides = [in_stride * down_stride ** i
                        for i in range(NUM_STAGES)]

        norm_cfg = norm_cfg or settings['norm_cfg']
        channels_last = settings['channels_last']
        mixers = [_with_pool_size(m, pool_size) for m in _per_stage(
            token_mixers or settings['token_mixers'], 'token_mixers')]
        layer_scales = settings['layer_scale_init_values'] \
            if use_layer_scale else [None] * NUM_STAGES
        down_norm = settings['downsample_norm']
        self.stem = Downsampling(3, embed_dims[0], in_patch_size, in_stride,
                                 in_pad, down_norm, norm_first=False)
        total_blocks = sum(layers)
        stages = []
        for i in range(NUM_STAGES):
            dim = embed_dims[i]
            # built in the originals' order, which their seeded initial
            # weights follow
            downsample = nn.Identity() if i == 0 else Downsampling(
                embed_dims[i - 1], dim, down_patch_size, down_stride,
                down_pad, down_norm)
            pos_size = settings['pos_embed_sizes'][i]
            pos_embed = nn.Identity() if pos_size is None \
                else PositionEmbedding(dim, pos_size)
            blocks = [
                MetaFormerBlock(
                    dim, build_token_mixer(mixers[i], dim),
                    Mlp(dim, int(dim * settings['mlp_ratios'][i]),
                        act_cfg or settings['act_cfg'],
                        settings['mlp_bias'], drop_rate, channels_last),
                    norm_cfg, drop_path=drop_path_rate * (sum(layers[:i]) + j)
                    / max(total_blocks - 1, 1),
                    layer_scale_init_value=layer_scales[i],
                    res_scale_init_value=settings['res_scale_init_values'][i])
                for j in range(layers[i])]
            stages.append(MetaFormerStage(downsample, pos_embed, blocks))
        self.stages = nn.ModuleList(stages)

        if fork_feat:
            out_norm_cfg = out_norm_cfg or settings['out_norm_cfg'] \
                or norm_cfg
            for i in self.out_indices:
                self.add_module(
                    f'norm{i}', nn.Identity() if i == 0 and self.fork_last3
                    else build_norm(out_norm_cfg, embed_dims[i]))
        else:
            self.head = ClassifierHead(embed_dims[-1], num_classes,
                                       settings['head'], norm_cfg,
                                       head_drop_rate)
        self._freeze_stages()
        self._register_load_state_dict_pre_hook(self._upgrade_legacy_keys)

    @staticmethod
    def _upgrade_legacy_keys(state_dict: Dict[str, torch.Tensor],
                             prefix: str, *args) -> None:
        """Rename a file saved in an earlier layout (sail-sg/poolformer's
        ``network.*``, as PoolFormer's weights were saved) to the
        skeleton's names, whichever door loads it."""
        upgrade_legacy_keys(state_dict, prefix)

    def stage_modules(self, stage: int) -> List[nn.Module]:
        """The modules of a stage (0-3): the stem for stage 0, the stage,
        and its output norm if it has one."""
        modules = [self.stem] if stage == 0 else []
        modules.append(self.stages[stage])
        if self.fork_feat and stage in self.out_indices:
            modules.append(getattr(self, f'norm{stage}'))
        return modules

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.stem]
        for stage in range(self.frozen_stages):
            frozen += self.stage_modules(stage)
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'MetaFormer':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def init_weights(self) -> None:
        """Initialise as the original does from scratch (truncated normal,
        std .02, zero biases: every linear layer and the MLPs' 1x1
        convolutions for PoolFormer, every convolution and linear layer for
        the baselines), then apply the other ``init_cfg`` entries, then load
        each ``Pretrained`` one (``checkpoint``, optional ``prefix`` and
        ``map_location``) through our layout-aware loader."""
        from ...checkpoints.weight_files import load_pretrained

        cfgs = self.init_cfg or []
        cfgs = [cfgs] if isinstance(cfgs, dict) else list(cfgs)
        pretrained = [cfg for cfg in cfgs
                      if cfg['type'] in ('Pretrained', PretrainedInit)]
        every_conv = self.settings['channels_last']
        for module in self.modules():
            if isinstance(module, nn.Linear) or (
                    every_conv and isinstance(module, nn.Conv2d)):
                trunc_normal_init(module, std=.02, bias=0)
            elif isinstance(module, Mlp):
                trunc_normal_init(module.fc1, std=.02, bias=0)
                trunc_normal_init(module.fc2, std=.02, bias=0)
        initialize(self, [cfg for cfg in cfgs if cfg not in pretrained])
        for cfg in pretrained:
            load_pretrained(self, cfg['checkpoint'],
                            map_location=cfg.get('map_location', 'cpu'),
                            prefix=cfg.get('prefix'))

    def _check_token_grid(self, stage: int, x: torch.Tensor,
                          input_size: Tuple[int, int]) -> None:
        """Mixers built for one token grid (spatial FC) need one input
        size: say which, before they fail."""
        # Blocks reshaped for deployment have no token_mixer module.
        mixer = getattr(self.stages[stage].blocks[0], 'token_mixer', None)
        grid = getattr(mixer, 'token_size', None)
        if grid is None or tuple(x.shape[-2:]) == tuple(grid):
            return
        stride = self.strides[stage]
        need = f'{grid[0] * stride}x{grid[1] * stride}'
        raise ValueError(
            f'Arch {self.arch_name!r} needs {need} inputs: the spatial FC '
            f'mixer of stage {stage} (stride {stride}) was built for a '
            f'{grid[0]}x{grid[1]} token grid, but this '
            f'{input_size[0]}x{input_size[1]} input gives '
            f'{x.shape[-2]}x{x.shape[-1]}. Resize (or pad) every input to '
            f'{need}, or use an arch with pooling or attention, which '
            'accept any size.')

    def _run_blocks(self, blocks: nn.Sequential, x: torch.Tensor,
                    path: 'fast_path.BlockPath') -> torch.Tensor:
        for block in blocks:
            run = fast_path.block_runner(block, path)
            if self.with_cp and x.requires_grad:
                x = activation_checkpoint(run, x, use_reentrant=False)
            else:
                x = run(x)
        return x

    def forward_features(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The maps of ``out_indices``, each through its output norm, as
        contiguous tensors; for ``fork_feat=False`` the last stage's map
        alone. ``out_channels`` lists their channels."""
        input_size = tuple(x.shape[-2:])
        path = fast_path.choose_block_path(self.fast_path, x, self.training)
        x = fast_path.downsampling_runner(self.stem, path)(x)
        outs = []
        last_stage = max(self.out_indices) if self.fork_feat \
            else NUM_STAGES - 1
        for i in range(last_stage + 1):
            stage = self.stages[i]
            x = stage.pos_embed(
                fast_path.downsampling_runner(stage.downsample, path)(x))
            self._check_token_grid(i, x, input_size)
            x = self._run_blocks(stage.blocks, x, path)
            if self.fork_feat and i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x).contiguous())
        return tuple(outs) if self.fork_feat else (x, )

    def forward_head(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class logits from the last map of :meth:`forward_features`."""
        return self.head(feats[-1])

    def forward(self, x: torch.Tensor
                ) -> Union[Tuple[torch.Tensor, ...], torch.Tensor]:
        feats = self.forward_features(x)
        return feats if self.fork_feat else self.forward_head(feats)


def fast_path_argument(value: Optional[bool]) -> Optional[bool]:
    """``fast_path`` itself, if it is None, True or False."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f'fast_path takes None (fast where measured faster: the CPU), '
            f'True or False; got {value!r}.')
    return value


@MODELS.register_module()
class PoolFormer(MetaFormer):
    """:class:`MetaFormer` with PoolFormer-S12 as its default arch and
    PoolFormer's settings as the defaults of a custom arch dict."""
    DEFAULT_ARCH = 's12'
    CUSTOM_ARCH_DEFAULTS = ARCH_DEFAULTS
