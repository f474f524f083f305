"""PoolFormer (MetaFormer Is Actually What You Need for Vision, CVPR 2022).

A faithful mmengine port of sail-sg/poolformer: same module names (so the
official checkpoints load strictly), same operations in the same order
(with ``fast_path=False`` outputs and gradients match the original bit for
bit; the CPU default folds the pooling blocks, equal up to float
rounding), with mm-style options for dense prediction.
The five MetaFormer S12 models of the original's ``metaformer.py`` are archs
too (:data:`METAFORMER_ARCHS`), so their released files load as well.
"""
import inspect
import os
import warnings
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule, initialize
from mmengine.model.weight_init import trunc_normal_init
from torch import nn
from torch.utils.checkpoint import checkpoint as activation_checkpoint

from ...registry import MODELS
from ..builder import build_norm, build_token_mixer
from . import norms  # noqa: F401 registers LN2d
from . import token_mixers as _token_mixers  # noqa: F401 registers mixers
from .arguments import check_known
from .fast_path import (BlockPath, block_forward, check_fast_path,
                        choose_block_path, is_foldable)
from .stage_options import (NUM_STAGES, DenseOptions, resolve_arch_settings,
                            split_pretrained)

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

_CHANNEL_LN = dict(type='LN2d', eps=1e-5)


def _spatial_fc(size: int) -> dict:
    """The released models' ``SpatialFc``: a bias-free FC over the grid."""
    return dict(type='spatial_mlp', token_size=(size, size), bias=False)


# The MetaFormer S12 models of sail-sg/poolformer's ``metaformer.py``, named
# as there, with weights in its v1.0 release. Besides the PoolFormer keys
# they may set the stage mixers, the norm and learned position embeddings
# (added before a stage's blocks, at the map size of a 224x224 input).
METAFORMER_ARCHS: Dict[str, dict] = {
    'metaformer_id_s12': dict(
        ARCH_SETTINGS['s12'], token_mixers='identity'),
    'metaformer_pppa_s12_224': dict(
        ARCH_SETTINGS['s12'], norm_cfg=_CHANNEL_LN,
        token_mixers=['pooling', 'pooling', 'pooling', 'attention'],
        pos_embed_sizes=[None, None, None, (7, 7)]),
    'metaformer_ppaa_s12_224': dict(
        ARCH_SETTINGS['s12'], norm_cfg=_CHANNEL_LN,
        token_mixers=['pooling', 'pooling', 'attention', 'attention'],
        pos_embed_sizes=[None, None, (14, 14), None]),
    'metaformer_pppf_s12_224': dict(
        ARCH_SETTINGS['s12'],
        token_mixers=['pooling', 'pooling', 'pooling', _spatial_fc(7)]),
    'metaformer_ppff_s12_224': dict(
        ARCH_SETTINGS['s12'],
        token_mixers=['pooling', 'pooling', _spatial_fc(14), _spatial_fc(7)]),
}

_ARCH_DEFAULTS = dict(mlp_ratios=[4] * NUM_STAGES, layer_scale_init_value=1e-5,
                      token_mixers='pooling',
                      norm_cfg=dict(type='GN', num_groups=1),
                      pos_embed_sizes=[None] * NUM_STAGES)


def resolve_arch(arch: Union[str, dict]) -> dict:
    """Return the arch settings for a name or a custom dict, validated."""
    return resolve_arch_settings(
        arch, {**ARCH_SETTINGS, **METAFORMER_ARCHS}, _ARCH_DEFAULTS,
        'PoolFormer',
        f'{sorted(ARCH_SETTINGS)}, the released MetaFormer models '
        f'{sorted(METAFORMER_ARCHS)}, or a dict with keys layers, '
        'embed_dims (and optionally mlp_ratios, layer_scale_init_value).',
        ('layers', 'embed_dims', 'mlp_ratios', 'pos_embed_sizes'),
        check_keys=lambda arch: check_known(
            arch, {'layers', 'embed_dims', *_ARCH_DEFAULTS},
            'A PoolFormer arch dict has no key'))


def argument_names(cls: type) -> List[str]:
    """The keyword arguments ``cls(...)`` takes by name."""
    return [name for name, param in
            inspect.signature(cls.__init__).parameters.items()
            if name != 'self' and param.kind is param.POSITIONAL_OR_KEYWORD]


def _with_pool_size(mixer: Union[str, dict], pool_size: int
                    ) -> Union[str, dict]:
    """A 'pooling' mixer (by name or dict) with ``pool_size`` unless it
    sets its own."""
    if mixer == 'pooling':
        return dict(type='pooling', pool_size=pool_size)
    if isinstance(mixer, dict) and mixer.get('type') == 'pooling':
        return dict(dict(pool_size=pool_size), **mixer)
    return mixer


def check_out_indices(out_indices: Union[int, Sequence[int]]
                      ) -> Tuple[int, ...]:
    """``out_indices`` (an int or stages, negative ones from the end) as
    the sorted stages (0-3) they name, validated."""
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


def fork_last3_from_env() -> bool:
    """The original's ``FORK_LAST3`` switch as the legacy builders read it:
    '0', 'false', 'no', 'off' and '' (or unset) mean off."""
    value = os.environ.get('FORK_LAST3', '')
    return value.strip().lower() not in ('', '0', 'false', 'no', 'off')


def _fork_last3_from_env(builder: str) -> bool:
    """:func:`fork_last3_from_env`, warning that the variable is
    deprecated when it is set."""
    value = os.environ.get('FORK_LAST3')
    if value is None:
        return False
    enabled = fork_last3_from_env()
    warnings.warn(
        f'{builder}: reading FORK_LAST3={value!r} from the environment is '
        'deprecated; pass the backbone argument fork_last3='
        f'{enabled} instead (PoolFormer itself ignores FORK_LAST3).',
        FutureWarning, stacklevel=3)
    return enabled


class PatchEmbed(nn.Module):
    """A strided convolution that embeds (or downsamples) patches."""

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int,
                 stride: int, padding: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size,
                              stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class PositionEmbedding(nn.Module):
    """A learned position embedding added to a map (``AddPositionEmb`` of
    the released ``pppa``/``ppaa`` models).

    It is learned for one map size; at another size it is resized
    bicubically (as ViT-family ports do) and at its own used unchanged.
    """

    def __init__(self, dim: int, size: Sequence[int]) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, dim, *size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos_embed = self.pos_embed
        if pos_embed.shape[-2:] != x.shape[-2:]:
            pos_embed = F.interpolate(pos_embed, size=x.shape[-2:],
                                      mode='bicubic', align_corners=False)
        return x + pos_embed


class Mlp(nn.Module):
    """The channel MLP, as two 1x1 convolutions (without biases in the
    MetaFormer baselines)."""

    def __init__(self, dim: int, hidden_dim: int, act_cfg: dict,
                 drop: float = 0., bias: bool = True) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden_dim, 1, bias=bias)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden_dim, dim, 1, bias=bias)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


def init_from_scratch(module: nn.Module) -> None:
    """The original's initialisation, for ``module.apply``: truncated
    normal (std .02) weights and zero biases for every linear layer and the
    channel MLPs' 1x1 convolutions; PyTorch's defaults elsewhere."""
    if isinstance(module, Mlp):
        for conv in (module.fc1, module.fc2):
            trunc_normal_init(conv, std=.02, bias=0)
    elif isinstance(module, nn.Linear):
        trunc_normal_init(module, std=.02, bias=0)


class PoolFormerBlock(nn.Module):
    """One MetaFormer block: norm, token mixer, norm, channel MLP.

    Both branches are residual and scaled per channel by LayerScale.
    """

    def __init__(self, dim: int, token_mixer: nn.Module, mlp_ratio: float,
                 norm_cfg: dict, act_cfg: dict, drop: float = 0.,
                 drop_path: float = 0., use_layer_scale: bool = True,
                 layer_scale_init_value: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = build_norm(norm_cfg, dim)
        self.token_mixer = token_mixer
        self.norm2 = build_norm(norm_cfg, dim)
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


@MODELS.register_module()
class PoolFormer(DenseOptions, BaseModule):
    """PoolFormer backbone for classification and dense prediction.

    Module names follow the original: ``patch_embed``, ``network`` (each
    stage's blocks, preceded by its downsampling and, in the position-embedded
    MetaFormer archs, its ``pos_embed`` entry; PoolFormer's stages sit at
    0, 2, 4, 6), per-output norms ``norm0``/``norm2``/``norm4``/``norm6``
    (for stages 0-3) and, for classification, ``norm`` and ``head``. The
    official ImageNet files therefore load unchanged.

    Args:
        arch: 's12', 's24', 's36', 'm36', 'm48'; a released MetaFormer S12
            (``METAFORMER_ARCHS``: 'metaformer_id_s12',
            'metaformer_pppa_s12_224', 'metaformer_ppaa_s12_224',
            'metaformer_pppf_s12_224', 'metaformer_ppff_s12_224'); or a
            dict with ``layers``, ``embed_dims`` and optionally
            ``mlp_ratios`` and ``layer_scale_init_value``.
        pool_size: Pooling window of the 'pooling' mixers.
        token_mixers: The mixer of each stage: one registered name or dict
            for all stages, or a list of four (see ``TOKEN_MIXERS``:
            'pooling', 'identity', 'dwconv', 'attention', 'spatial_mlp').
            ``None`` is the arch's: pooling everywhere for PoolFormer.
        norm_cfg: Norm of every block and output. ``None`` is the arch's:
            GroupNorm with one group (the paper's Modified Layer Norm), or
            the channel-only ``LN2d`` of the released pppa/ppaa models.
        act_cfg: Activation inside the channel MLP.
        in_patch_size, in_stride, in_pad: The stem convolution.
        down_patch_size, down_stride, down_pad: The downsampling convolutions.
        drop_rate: Dropout inside the MLP.
        drop_path_rate: Stochastic depth, rising linearly with block index.
        use_layer_scale: Whether to scale both residual branches.
        fork_feat: True returns a tuple of per-stage maps (dense prediction);
            False returns class logits from ``norm`` and ``head``.
        fork_last3: Leave the first stage's output unnormalised, for necks
            that start at level 1 (RetinaNet, as the original's
            ``FORK_LAST3=1``).
        out_indices: Stages (0-3) whose maps are returned.
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and stages
            1..k with their output norms.
        norm_eval: Keep BatchNorm layers in eval mode while training.
        with_cp: Gradient checkpointing per block, to save memory.
        fast_path: Run pooling blocks channels_last with the norms'
            affines and layer scales folded into neighbouring ops (see
            ``fast_path.py``; oneDNN's fused kernels for fp32 on the CPU):
            the same function up to float rounding (1e-4). None (default)
            takes it, in training and inference, where it was measured
            faster, on the CPU, and the original operations elsewhere and
            under tracing; True takes it on every device; False always
            runs the original operations, bit for bit.
        num_classes: Classes of the head when ``fork_feat=False``.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)``
            (optionally with ``prefix``, or in a list with other init
            configs) loads original, timm, mmpretrain or detector files.
    """
    STEM = 'patch_embed'

    def __init__(self,
                 arch: Union[str, dict] = 's12',
                 pool_size: int = 3,
                 token_mixers: Union[None, str, dict, Sequence] = None,
                 norm_cfg: Optional[dict] = None,
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
                 fork_last3: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 fast_path: Optional[bool] = None,
                 num_classes: int = 1000,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **unknown) -> None:
        check_known(unknown, argument_names(type(self)),
                    f'{type(self).__name__} has no argument')
        super().__init__(init_cfg=init_cfg)
        settings = resolve_arch(arch)
        layers, embed_dims = settings['layers'], settings['embed_dims']
        self._set_dense_options(arch, embed_dims, fork_feat,
                                check_out_indices(out_indices),
                                frozen_stages, norm_eval, with_cp)
        self.fork_last3 = bool(fork_last3)
        self.fast_path = check_fast_path(fast_path)
        self.strides = [in_stride * down_stride ** i
                        for i in range(NUM_STAGES)]

        norm_cfg = norm_cfg or settings['norm_cfg']
        mixers = self._per_stage_mixers(
            token_mixers or settings['token_mixers'], pool_size)

        self.patch_embed = PatchEmbed(3, embed_dims[0], in_patch_size,
                                      in_stride, in_pad)
        total_blocks = sum(layers)
        network = []
        # network indices of what runs before each stage's blocks
        # (downsampling, position embedding), and of its blocks.
        self._entry_indices: List[List[int]] = []
        self._block_indices: List[int] = []
        for i in range(NUM_STAGES):
            entries = []
            if i > 0:
                entries.append(
                    PatchEmbed(embed_dims[i - 1], embed_dims[i],
                               down_patch_size, down_stride, down_pad))
            if settings['pos_embed_sizes'][i] is not None:
                entries.append(PositionEmbedding(
                    embed_dims[i], settings['pos_embed_sizes'][i]))
            self._entry_indices.append(
                list(range(len(network), len(network) + len(entries))))
            network += entries
            self._block_indices.append(len(network))
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

        if fork_feat:
            for stage in self.out_indices:
                norm = nn.Identity() if stage == 0 and self.fork_last3 else \
                    build_norm(norm_cfg, embed_dims[stage])
                self.add_module(f'norm{2 * stage}', norm)
        else:
            self.norm = build_norm(norm_cfg, embed_dims[-1])
            self.head = nn.Linear(embed_dims[-1], num_classes) \
                if num_classes > 0 else nn.Identity()
        self._freeze_stages()

    @staticmethod
    def _per_stage_mixers(token_mixers, pool_size: int) -> list:
        if isinstance(token_mixers, (str, dict)):
            token_mixers = [token_mixers] * NUM_STAGES
        if len(token_mixers) != NUM_STAGES:
            raise ValueError(f'token_mixers needs one entry per stage '
                             f'({NUM_STAGES}), got {list(token_mixers)}.')
        return [_with_pool_size(m, pool_size) for m in token_mixers]

    def stage_blocks(self, stage: int) -> nn.Sequential:
        """The blocks of a stage (0-3)."""
        return self.network[self._block_indices[stage]]

    def stage_modules(self, stage: int) -> List[nn.Module]:
        """The modules of a stage (0-3): the stem for stage 0, its
        downsampling and position embedding, its blocks, and its output norm
        if it has one."""
        modules = [self.patch_embed] if stage == 0 else []
        modules += [self.network[i] for i in self._entry_indices[stage]]
        modules.append(self.stage_blocks(stage))
        if self.fork_feat and stage in self.out_indices:
            modules.append(getattr(self, f'norm{2 * stage}'))
        return modules

    def init_weights(self) -> None:
        """Initialise as the original does from scratch, then apply the
        other ``init_cfg`` entries, then load each ``Pretrained`` one
        (``checkpoint``, optional ``prefix`` and ``map_location``) through
        our format-aware loader."""
        from mmpoolformer.checkpoints.weight_files import load_pretrained

        pretrained, others = split_pretrained(self.init_cfg)
        self.apply(init_from_scratch)
        initialize(self, others)
        for cfg in pretrained:
            load_pretrained(self, cfg['checkpoint'],
                            map_location=cfg.get('map_location', 'cpu'),
                            prefix=cfg.get('prefix'))

    def _check_token_grid(self, stage: int, x: torch.Tensor,
                          input_size: Tuple[int, int]) -> None:
        """Mixers built for one token grid (spatial FC) need one input
        size: say which, before they fail."""
        grid = getattr(self.stage_blocks(stage)[0].token_mixer,
                       'token_size', None)
        if grid is None or tuple(x.shape[-2:]) == tuple(grid):
            return
        stride = self.strides[stage]
        need = f'{grid[0] * stride}x{grid[1] * stride}'
        raise ValueError(
            f'PoolFormer arch {self.arch_name!r} needs {need} inputs: the '
            f'spatial FC mixer of stage {stage} (stride {stride}) was built '
            f'for a {grid[0]}x{grid[1]} token grid, but this '
            f'{input_size[0]}x{input_size[1]} input gives '
            f'{x.shape[-2]}x{x.shape[-1]}. Resize (or pad) every input to '
            f'{need}, or use an arch with pooling or attention, which '
            'accept any size.')

    def _enter_stage(self, stage: int, x: torch.Tensor,
                     input_size: Tuple[int, int]) -> torch.Tensor:
        for index in self._entry_indices[stage]:
            x = self.network[index](x)
        self._check_token_grid(stage, x, input_size)
        return x

    def _run_stage(self, stage: int, x: torch.Tensor,
                   path: BlockPath) -> torch.Tensor:
        for block in self.stage_blocks(stage):
            run = block
            if path is not BlockPath.PLAIN and is_foldable(block):
                run = partial(block_forward, block, path)
            if self.with_cp and x.requires_grad:
                x = activation_checkpoint(run, x, use_reentrant=False)
            else:
                x = run(x)
        return x

    def forward_features(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The maps of ``out_indices``, each through its output norm; for
        ``fork_feat=False`` the last stage's map alone (before ``norm``).
        ``out_channels`` lists their channels."""
        input_size = tuple(x.shape[-2:])
        path = choose_block_path(self.fast_path, x, self.training)
        if path is not BlockPath.PLAIN:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.patch_embed(x)
        outs = []
        last_stage = max(self.out_indices) if self.fork_feat \
            else NUM_STAGES - 1
        for stage in range(last_stage + 1):
            x = self._enter_stage(stage, x, input_size)
            x = self._run_stage(stage, x, path)
            if self.fork_feat and stage in self.out_indices:
                outs.append(getattr(self, f'norm{2 * stage}')(x))
        if path is not BlockPath.PLAIN:
            # The folded path runs channels_last; necks and heads get the
            # usual layout (mmcv's CPU RoIAlign reads NCHW memory as is).
            outs = [out.contiguous() for out in outs]
        return tuple(outs) if self.fork_feat else (x, )

    def forward_head(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class logits from the last map of :meth:`forward_features`:
        final norm, global average pooling, linear head."""
        x = self.norm(feats[-1])
        return self.head(x.mean([-2, -1]))

    def forward(self, x: torch.Tensor
                ) -> Union[Tuple[torch.Tensor, ...], torch.Tensor]:
        feats = self.forward_features(x)
        return feats if self.fork_feat else self.forward_head(feats)


# What a legacy builder sets itself, and takes besides PoolFormer's
# arguments.
LEGACY_FIXED, LEGACY_EXTRA = ('arch', 'fork_feat'), ('style', )


def _legacy_factory(arch: str):
    """Builder for the original dense configs' ``poolformer_<arch>_feat``.

    Like the original, it honours a ``FORK_LAST3`` environment variable
    when ``fork_last3`` is not given, with a deprecation warning.
    """

    def build(style: Optional[str] = None, fork_last3: Optional[bool] = None,
              **kwargs) -> PoolFormer:
        if style not in (None, 'pytorch'):
            print_log(f'PoolFormer ignores style={style!r}', level=30)
        fixed = {k: v for k, v in kwargs.items() if k in LEGACY_FIXED}
        check_known(fixed, (), f'{build.__name__} has no argument',
                    f"{build.__name__} sets it; use type='PoolFormer' to "
                    'choose it.')
        if fork_last3 is None:
            fork_last3 = _fork_last3_from_env(build.__name__)
        return PoolFormer(arch=arch, fork_feat=True, fork_last3=fork_last3,
                          **kwargs)

    build.__name__ = f'poolformer_{arch}_feat'
    build.__doc__ = f'PoolFormer-{arch.upper()} for dense prediction ' \
        '(the original config name).'
    return build


LEGACY_BUILDERS = {f'poolformer_{arch}_feat': _legacy_factory(arch)
                   for arch in ARCH_SETTINGS}
for _name, _build in LEGACY_BUILDERS.items():
    MODELS.register_module(_name, module=_build)
