"""The MetaFormer baselines (MetaFormer Baselines for Vision, TPAMI 2024):
PoolFormerV2, ConvFormer and CAFormer, named as timm names them.

:class:`MetaFormer` is a sibling of :class:`~.poolformer.PoolFormer`, not
one of its archs: the family changes the block (residual scales, bias-free
MLP with StarReLU), the downsampling (a norm before each convolution) and
the classifier (pooled, then normalised), and its released files name their
modules after timm's ``stem``/``stages`` rather than sail-sg/poolformer's
``network``, which PoolFormer's names must keep. The parts both need (the
token mixers, norms and channel MLP, the stage and ``out_indices`` rules)
are shared.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule, initialize
from mmengine.model.weight_init import trunc_normal_init
from torch import nn
from torch.utils.checkpoint import checkpoint as activation_checkpoint

from ...registry import MODELS
from ..builder import build_norm, build_token_mixer
from .arguments import check_known
from .metaformer_parts import ChannelMlp, ClassifierHead, Downsampling, Scale
from .poolformer import argument_names, check_out_indices
from .stage_options import (NUM_STAGES, DenseOptions, resolve_arch_settings,
                            split_pretrained)

# The channel LayerNorm without bias of the downsamplings (every arch) and
# of ConvFormer's and CAFormer's blocks.
_CHANNEL_LN = dict(type='LN2d', eps=1e-6, bias=False)
_ATTENTION = dict(type='attention', head_dim=32, proj_bias=False)
_FAMILIES = {
    'poolformerv2': dict(token_mixers='pooling', head='linear',
                         norm_cfg=dict(type='GN1NoBias', eps=1e-6)),
    'convformer': dict(token_mixers='sepconv', head='mlp',
                       norm_cfg=_CHANNEL_LN),
    'caformer': dict(token_mixers=['sepconv', 'sepconv', _ATTENTION,
                                   _ATTENTION],
                     head='mlp', norm_cfg=_CHANNEL_LN),
}
_SIZES = {  # (layers, embed_dims) of each family's sizes
    'poolformerv2': dict(
        s12=([2, 2, 6, 2], [64, 128, 320, 512]),
        s24=([4, 4, 12, 4], [64, 128, 320, 512]),
        s36=([6, 6, 18, 6], [64, 128, 320, 512]),
        m36=([6, 6, 18, 6], [96, 192, 384, 768]),
        m48=([8, 8, 24, 8], [96, 192, 384, 768])),
    'convformer': dict(
        s18=([3, 3, 9, 3], [64, 128, 320, 512]),
        s36=([3, 12, 18, 3], [64, 128, 320, 512]),
        m36=([3, 12, 18, 3], [96, 192, 384, 576]),
        b36=([3, 12, 18, 3], [128, 256, 512, 768])),
}
_SIZES['caformer'] = _SIZES['convformer']

BASELINE_ARCHS: Dict[str, dict] = {
    f'{family}_{size}': dict(_FAMILIES[family], layers=layers,
                             embed_dims=embed_dims)
    for family, sizes in _SIZES.items()
    for size, (layers, embed_dims) in sizes.items()}

_ARCH_DEFAULTS = dict(
    _FAMILIES['poolformerv2'], mlp_ratios=[4] * NUM_STAGES,
    layer_scale_init_values=[None] * NUM_STAGES,
    res_scale_init_values=[None, None, 1., 1.], downsample_norm=_CHANNEL_LN)


def resolve_baseline_arch(arch: Union[str, dict]) -> dict:
    """The settings of an arch name or a custom dict (PoolFormerV2's
    defaults for what it leaves out), validated."""
    return resolve_arch_settings(
        arch, BASELINE_ARCHS, _ARCH_DEFAULTS, 'MetaFormer',
        f'{sorted(BASELINE_ARCHS)}, or a dict with keys layers and '
        'embed_dims (and optionally token_mixers, norm_cfg, head, '
        'mlp_ratios, layer_scale_init_values, res_scale_init_values, '
        'downsample_norm).',
        ('layers', 'embed_dims', 'mlp_ratios', 'token_mixers',
         'layer_scale_init_values', 'res_scale_init_values'),
        check_keys=lambda arch: check_known(
            arch, {'layers', 'embed_dims', *_ARCH_DEFAULTS},
            'A MetaFormer arch dict has no key'),
        broadcast=('token_mixers', ))


def _optional_scale(dim: int, init_value: Optional[float]) -> nn.Module:
    return nn.Identity() if init_value is None else Scale(dim, init_value)


class MetaFormerBlock(nn.Module):
    """norm, token mixer, norm, channel MLP; each branch's shortcut scaled by
    a residual scale and its output by a layer scale, where the stage uses
    them."""

    def __init__(self, dim: int, token_mixer: nn.Module, mlp_ratio: float,
                 norm_cfg: dict, drop: float = 0., drop_path: float = 0.,
                 layer_scale_init_value: Optional[float] = None,
                 res_scale_init_value: Optional[float] = None) -> None:
        super().__init__()
        self.norm1 = build_norm(norm_cfg, dim)
        self.token_mixer = token_mixer
        self.layer_scale1 = _optional_scale(dim, layer_scale_init_value)
        self.res_scale1 = _optional_scale(dim, res_scale_init_value)
        self.norm2 = build_norm(norm_cfg, dim)
        self.mlp = ChannelMlp(dim, int(dim * mlp_ratio), drop)
        self.layer_scale2 = _optional_scale(dim, layer_scale_init_value)
        self.res_scale2 = _optional_scale(dim, res_scale_init_value)
        self.drop_path = DropPath(drop_path) if drop_path > 0. \
            else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = self.token_mixer(self.norm1(x))
        x = self.res_scale1(x) + self.layer_scale1(self.drop_path(mixed))
        mlp_out = self.mlp(self.norm2(x))
        return self.res_scale2(x) + self.layer_scale2(self.drop_path(mlp_out))


class MetaFormerStage(nn.Module):
    """A stage: its downsampling (none in the first, after the stem) and
    its blocks."""

    def __init__(self, downsample: nn.Module, blocks: List[nn.Module]):
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.Sequential(*blocks)


@MODELS.register_module()
class MetaFormer(DenseOptions, BaseModule):
    """PoolFormerV2, ConvFormer and CAFormer for classification and dense
    prediction.

    Module names are timm's (``stem``, ``stages.N.downsample``,
    ``stages.N.blocks.M``, ``head.norm``/``head.fc``), so timm's files load
    unchanged; sail-sg/metaformer's own files are renamed on loading. The
    dense outputs get norms of their own, ``norm0``..``norm3``.

    Args:
        arch: A name of :data:`BASELINE_ARCHS` ('poolformerv2_s12' ..
            'poolformerv2_m48', 'convformer_s18' .. 'convformer_b36',
            'caformer_s18' .. 'caformer_b36') or a dict with ``layers``,
            ``embed_dims`` and optionally ``token_mixers``, ``norm_cfg``,
            ``head`` ('linear' or 'mlp'), ``mlp_ratios``,
            ``layer_scale_init_values`` and ``res_scale_init_values``.
        drop_rate: Dropout inside the channel MLPs.
        drop_path_rate: Stochastic depth, rising linearly with block index.
        fork_feat: True returns a tuple of per-stage maps (dense
            prediction); False returns class logits.
        out_indices: Stages (0-3) whose maps are returned.
        out_norm_cfg: The norm of each returned map: by default a channel
            LayerNorm with bias (``LN2d``), which normalises every location
            on its own as the downsampling norms before each stage do.
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and
            stages 1..k with their output norms.
        norm_eval: Keep BatchNorm layers in eval mode while training.
        with_cp: Gradient checkpointing per block, to save memory.
        num_classes: Classes of the head when ``fork_feat=False``.
        head_drop_rate: Dropout inside the MLP head.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)``
            (optionally with ``prefix``) loads timm's or sail-sg/metaformer's
            files, or our own, strictly.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'caformer_s18',
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 fork_feat: bool = True,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 num_classes: int = 1000,
                 head_drop_rate: float = 0.,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **unknown) -> None:
        check_known(unknown, argument_names(type(self)),
                    f'{type(self).__name__} has no argument')
        super().__init__(init_cfg=init_cfg)
        settings = resolve_baseline_arch(arch)
        layers, embed_dims = settings['layers'], settings['embed_dims']
        self._set_dense_options(arch, embed_dims, fork_feat,
                                check_out_indices(out_indices),
                                frozen_stages, norm_eval, with_cp)

        down_norm = settings['downsample_norm']
        self.stem = Downsampling(3, embed_dims[0], 7, 4, 2, down_norm,
                                 norm_first=False)
        total_blocks = sum(layers)
        stages = []
        for i in range(NUM_STAGES):
            first = sum(layers[:i])
            blocks = [
                MetaFormerBlock(
                    embed_dims[i],
                    build_token_mixer(settings['token_mixers'][i],
                                      embed_dims[i]),
                    settings['mlp_ratios'][i], settings['norm_cfg'],
                    drop=drop_rate,
                    drop_path=drop_path_rate * (first + j) /
                    max(total_blocks - 1, 1),
                    layer_scale_init_value=settings[
                        'layer_scale_init_values'][i],
                    res_scale_init_value=settings['res_scale_init_values'][i])
                for j in range(layers[i])]
            downsample = nn.Identity() if i == 0 else Downsampling(
                embed_dims[i - 1], embed_dims[i], 3, 2, 1, down_norm,
                norm_first=True)
            stages.append(MetaFormerStage(downsample, blocks))
        self.stages = nn.ModuleList(stages)

        if fork_feat:
            for i in self.out_indices:
                self.add_module(f'norm{i}',
                                build_norm(out_norm_cfg, embed_dims[i]))
        else:
            self.head = ClassifierHead(embed_dims[-1], num_classes,
                                       settings['head'], head_drop_rate)
        self._freeze_stages()

    def stage_modules(self, stage: int) -> List[nn.Module]:
        """The modules of a stage (0-3): the stem for stage 0, its
        downsampling and blocks, and its output norm if it has one."""
        modules = [self.stem] if stage == 0 else []
        modules.append(self.stages[stage])
        if self.fork_feat and stage in self.out_indices:
            modules.append(getattr(self, f'norm{stage}'))
        return modules

    def init_weights(self) -> None:
        """Initialise as the original does from scratch (truncated normal,
        std .02, for every convolution and linear weight; zero biases),
        then apply the other ``init_cfg`` entries, then load each
        ``Pretrained`` one strictly (see ``metaformer_baselines_keys``).
        A strict load replaces every convolution and linear layer, so with
        one the scratch initialisation is skipped."""
        from .metaformer_baselines_keys import load_baseline_weights

        pretrained, others = split_pretrained(self.init_cfg)
        if not pretrained:
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    trunc_normal_init(module, std=.02, bias=0)
        initialize(self, others)
        for cfg in pretrained:
            load_baseline_weights(self, cfg['checkpoint'],
                                  map_location=cfg.get('map_location', 'cpu'),
                                  prefix=cfg.get('prefix'))

    def _run_blocks(self, blocks: nn.Sequential,
                    x: torch.Tensor) -> torch.Tensor:
        for block in blocks:
            if self.with_cp and x.requires_grad:
                x = activation_checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x

    def forward_features(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The maps of ``out_indices``, each through its output norm; for
        ``fork_feat=False`` the last stage's map alone. ``out_channels``
        lists their channels. The maps run channels_last, the layout of
        oneDNN's and cuDNN's fast convolutions, in which the channel norms
        and attention read channels as rows; the maps returned are
        contiguous (mmcv's CPU RoIAlign reads NCHW memory as is)."""
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        outs = []
        last_stage = max(self.out_indices) if self.fork_feat \
            else NUM_STAGES - 1
        for i in range(last_stage + 1):
            x = self.stages[i].downsample(x)
            x = self._run_blocks(self.stages[i].blocks, x)
            if self.fork_feat and i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x).contiguous())
        return tuple(outs) if self.fork_feat else (x.contiguous(), )

    def forward_head(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class logits from the last map of :meth:`forward_features`:
        global average pooling, LayerNorm, then the linear or MLP head."""
        return self.head(feats[-1])

    def forward(self, x: torch.Tensor
                ) -> Union[Tuple[torch.Tensor, ...], torch.Tensor]:
        feats = self.forward_features(x)
        return feats if self.fork_feat else self.forward_head(feats)
