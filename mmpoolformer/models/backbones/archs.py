"""The archs of the MetaFormer family as data: PoolFormer (v1), the
released MetaFormer S12 hybrids, and the MetaFormer baselines (PoolFormerV2,
ConvFormer, CAFormer), named as timm and the original releases name them.

An arch is a dict of the keys in :data:`ARCH_DEFAULTS`. Per-stage keys hold
four entries; a str or dict under ``token_mixers`` serves every stage.
"""
import difflib
from typing import Dict, Iterable, Mapping, Optional, Union

NUM_STAGES = 4


class WiringError(ValueError):
    """A model config whose parts do not fit together, or that gives a
    part an argument or key it does not take."""


def check_known(given: Mapping, valid: Iterable[str], what: str,
                hint: str = 'remove it.') -> None:
    """Raise :class:`WiringError` for the first key of ``given`` not in
    ``valid``, e.g. ``what='PoolFormer has no argument'``, suggesting the
    closest valid names (else ``hint``)."""
    valid = sorted(valid)
    for key in given:
        if key in valid:
            continue
        close = difflib.get_close_matches(key, valid, n=3)
        fix = f'did you mean {" or ".join(map(repr, close))}?' if close \
            else hint
        raise WiringError(f'{what} {key!r}; {fix} Valid: '
                          f'{", ".join(valid)}.')


# PoolFormer's: GroupNorm(1) everywhere, GELU MLPs with biases, layer scales,
# a convolution stem and downsamplings without norms, maps in NCHW.
ARCH_DEFAULTS = dict(
    mlp_ratios=[4] * NUM_STAGES,
    token_mixers='pooling',
    norm_cfg=dict(type='GN', num_groups=1),
    act_cfg=dict(type='GELU'),
    mlp_bias=True,
    layer_scale_init_values=[1e-5] * NUM_STAGES,
    res_scale_init_values=[None] * NUM_STAGES,
    downsample_norm=None,
    out_norm_cfg=None,  # None: norm_cfg
    pos_embed_sizes=[None] * NUM_STAGES,
    head='poolformer',  # norm, pool, linear; 'linear'/'mlp': pool, norm, ...
    channels_last=False,
)
PER_STAGE = ('mlp_ratios', 'token_mixers', 'layer_scale_init_values',
             'res_scale_init_values', 'pos_embed_sizes')


def _sizes(layers: list, embed_dims: list) -> dict:
    return dict(layers=layers, embed_dims=embed_dims)


_SMALL, _MEDIUM = [64, 128, 320, 512], [96, 192, 384, 768]
POOLFORMER_SIZES = dict(
    s12=_sizes([2, 2, 6, 2], _SMALL), s24=_sizes([4, 4, 12, 4], _SMALL),
    s36=_sizes([6, 6, 18, 6], _SMALL), m36=_sizes([6, 6, 18, 6], _MEDIUM),
    m48=_sizes([8, 8, 24, 8], _MEDIUM))
CONVFORMER_SIZES = dict(
    s18=_sizes([3, 3, 9, 3], _SMALL), s36=_sizes([3, 12, 18, 3], _SMALL),
    m36=_sizes([3, 12, 18, 3], [96, 192, 384, 576]),
    b36=_sizes([3, 12, 18, 3], [128, 256, 512, 768]))

POOLFORMER_ARCHS: Dict[str, dict] = {
    f'poolformer_{size}': dict(
        sizes, layer_scale_init_values=[
            1e-5 if size in ('s12', 's24') else 1e-6] * NUM_STAGES)
    for size, sizes in POOLFORMER_SIZES.items()}

# The MetaFormer S12 models of sail-sg/poolformer's ``metaformer.py``, with
# weights in its v1.0 release: other mixers, the channel-only LayerNorm and
# learned position embeddings (at the map size of a 224x224 input).
_S12 = POOLFORMER_ARCHS['poolformer_s12']
_CHANNEL_LN = dict(type='LayerNormChannel', eps=1e-5)
_HYBRID_ATTENTION = dict(type='attention', proj_bias=True,
                         prescale_query=True)


def _spatial_fc(size: int) -> dict:
    """The released models' ``SpatialFc``: a bias-free FC over the grid."""
    return dict(type='spatial_mlp', token_size=(size, size), bias=False)


HYBRID_ARCHS: Dict[str, dict] = {
    'metaformer_id_s12': dict(_S12, token_mixers='identity'),
    'metaformer_pppa_s12_224': dict(
        _S12, norm_cfg=_CHANNEL_LN,
        token_mixers=['pooling', 'pooling', 'pooling', _HYBRID_ATTENTION],
        pos_embed_sizes=[None, None, None, (7, 7)]),
    'metaformer_ppaa_s12_224': dict(
        _S12, norm_cfg=_CHANNEL_LN,
        token_mixers=['pooling', 'pooling', _HYBRID_ATTENTION,
                      _HYBRID_ATTENTION],
        pos_embed_sizes=[None, None, (14, 14), None]),
    'metaformer_pppf_s12_224': dict(
        _S12, token_mixers=['pooling', 'pooling', 'pooling', _spatial_fc(7)]),
    'metaformer_ppff_s12_224': dict(
        _S12, token_mixers=['pooling', 'pooling', _spatial_fc(14),
                            _spatial_fc(7)]),
}

# The MetaFormer baselines: StarReLU MLPs without biases, residual scales in
# the last two stages, a bias-free channel norm in the stem (after its
# convolution) and before each downsampling, maps channels-last as the
# original's (B, H, W, C) tensors, and a pooled classifier. Their defaults
# are PoolFormerV2's, which a custom ``MetaFormer`` arch dict starts from.
_BASELINE_ATTENTION = dict(type='attention', proj_bias=False,
                           prescale_query=False)
_BLOCK_LN = dict(type='LN2d', eps=1e-6, bias=False)
BASELINE_DEFAULTS = dict(
    ARCH_DEFAULTS, act_cfg=dict(type='StarReLU'), mlp_bias=False,
    norm_cfg=dict(type='LayerNormGeneral', dims='all', eps=1e-6, bias=False),
    layer_scale_init_values=[None] * NUM_STAGES,
    res_scale_init_values=[None, None, 1., 1.],
    downsample_norm=dict(type='LayerNormGeneral', dims='channels', eps=1e-6,
                         bias=False),
    out_norm_cfg=dict(type='LN2d', eps=1e-6), head='linear',
    channels_last=True)
BASELINE_ARCHS: Dict[str, dict] = {
    **{f'poolformerv2_{size}': dict(BASELINE_DEFAULTS, **sizes)
       for size, sizes in POOLFORMER_SIZES.items()},
    **{f'convformer_{size}': dict(BASELINE_DEFAULTS, **sizes, head='mlp',
                                  token_mixers='sepconv', norm_cfg=_BLOCK_LN)
       for size, sizes in CONVFORMER_SIZES.items()},
    **{f'caformer_{size}': dict(
        BASELINE_DEFAULTS, **sizes, head='mlp', norm_cfg=_BLOCK_LN,
        token_mixers=['sepconv', 'sepconv', _BASELINE_ATTENTION,
                      _BASELINE_ATTENTION])
       for size, sizes in CONVFORMER_SIZES.items()},
}

ARCHS: Dict[str, dict] = {**POOLFORMER_ARCHS, **HYBRID_ARCHS,
                          **BASELINE_ARCHS}
# PoolFormer's short names, as its configs and the original's builders use.
ALIASES = {name.split('_')[1]: name for name in POOLFORMER_ARCHS}


def canonical_name(arch: str) -> str:
    """``arch``'s name in :data:`ARCHS` (``'s12'`` is
    ``'poolformer_s12'``); any case."""
    return ALIASES.get(arch.lower(), arch.lower())


def resolve_arch(arch: Union[str, dict],
                 defaults: Optional[dict] = None) -> dict:
    """The full settings of an arch name or a custom dict (``defaults``,
    PoolFormer's unless given, fill what it leaves out), validated. A
    custom dict's ``layer_scale_init_value`` serves every stage."""
    if isinstance(arch, str):
        name = canonical_name(arch)
        if name not in ARCHS:
            close = difflib.get_close_matches(arch.lower(),
                                              [*ARCHS, *ALIASES], n=3)
            raise ValueError(
                f'Unknown arch {arch!r}' + (
                    f' (did you mean {" or ".join(map(repr, close))}?)'
                    if close else '') + f'. Valid archs: {sorted(ARCHS)}, '
                f'the short names {sorted(ALIASES)}, or a dict with keys '
                'layers and embed_dims (and optionally '
                f'{", ".join(sorted(ARCH_DEFAULTS))}).')
        arch = dict(ARCH_DEFAULTS, **ARCHS[name])
    elif not isinstance(arch, dict):
        raise TypeError(f'arch must be a str or a dict, got {type(arch)}')
    else:
        arch = dict(arch)
        if 'layer_scale_init_value' in arch:
            arch['layer_scale_init_values'] = \
                [arch.pop('layer_scale_init_value')] * NUM_STAGES
    check_known(arch, {'layers', 'embed_dims', *ARCH_DEFAULTS},
                'An arch dict has no key')
    missing = {'layers', 'embed_dims'} - set(arch)
    if missing:
        raise ValueError(f'A custom arch dict needs the keys '
                         f'{sorted(missing)}; got {sorted(arch)}.')
    settings = dict(defaults or ARCH_DEFAULTS, **arch)
    if isinstance(settings['token_mixers'], (str, dict)):
        settings['token_mixers'] = [settings['token_mixers']] * NUM_STAGES
    for key in ('layers', 'embed_dims', *PER_STAGE):
        if len(settings[key]) != NUM_STAGES:
            raise ValueError(f'arch[{key!r}] must have {NUM_STAGES} entries, '
                             f'one per stage; got {settings[key]}.')
    return settings
