"""The builders of the backbone's parts, from our registries
(:mod:`mmpoolformer.registry`)."""
from typing import Union

from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import nn

from ..registry import MODELS, SCOPE, TOKEN_MIXERS


def build_norm(cfg: dict, num_channels: int) -> nn.Module:
    """mmcv's ``build_norm_layer`` with the type looked up in our scope
    first (``'LN2d'``), whatever the caller's default scope is."""
    cfg = dict(cfg)
    if isinstance(cfg.get('type'), str):
        norm = MODELS.get(cfg['type'])
        if norm is None:
            raise KeyError(
                f"Unknown norm type {cfg['type']!r} in norm_cfg {cfg}: use "
                "one of mmcv's ('GN', 'BN', 'LN', ...) or ours ('LN2d').")
        cfg['type'] = norm
    return build_norm_layer(cfg, num_channels)[1]


def build_activation(cfg: dict) -> nn.Module:
    """mmcv's ``build_activation_layer`` with the type looked up in our
    scope first (``'StarReLU'``), whatever the caller's default scope is."""
    cfg = dict(cfg)
    if isinstance(cfg.get('type'), str) and MODELS.get(cfg['type']):
        cfg['type'] = MODELS.get(cfg['type'])
    return build_activation_layer(cfg)


def build_token_mixer(cfg: Union[str, dict], dim: int) -> nn.Module:
    """A mixer from a registered name (``'pooling'``) or a dict with
    ``type`` and the mixer's options (``dict(type='pooling', pool_size=5)``).
    Every mixer takes the channel count as ``dim``."""
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = cfg.get('type')
    if isinstance(name, str) and TOKEN_MIXERS.get(name) is None:
        raise ValueError(
            f'Unknown token mixer {name!r}; valid mixers: '
            f'{sorted(TOKEN_MIXERS.module_dict)}. A mixer of your own: '
            "register it with @mmpoolformer.registry.TOKEN_MIXERS."
            "register_module('name') in a module listed in custom_imports.")
    return TOKEN_MIXERS.build(dict(cfg, dim=dim, _scope_=SCOPE))
