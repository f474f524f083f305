"""Strict loading of the MetaFormer baselines' weight files.

Two layouts are released, told apart by their keys:

- ``timm`` (the hub's ``timm/poolformerv2_s12.sail_in1k`` ...): ``stem.conv``,
  ``stages.N.downsample``, ``stages.N.blocks.M``, ``head.norm``/``head.fc``,
  our own names; our trained backbones add ``norm0``..``norm3``.
- ``original`` (sail-sg/metaformer's ``poolformerv2_s12.pth`` ...):
  ``downsample_layers.N`` (the stem is ``downsample_layers.0``), blocks at
  ``stages.N.M``, ``norm`` and ``head`` for the classifier.

Linear weights over channels (the original's, and timm's in attention
stages) become our 1x1 convolutions. Every key of the model must come from
the file except the dense outputs' norms, and every key of the file must
find its place except a classifier a dense backbone does not have.
"""
import re
from typing import Dict, List, Optional

from mmengine.logging import print_log
from torch import nn

from mmpoolformer.checkpoints.weight_files import (CheckpointError, StateDict,
                                                   check_shapes_fit, load_file,
                                                   strip_prefix,
                                                   unwrap_state_dict)

_SIGNATURES = {'timm': 'stem.conv.weight',
               'original': 'downsample_layers.0.conv.weight'}
_ORIGINAL_TO_OURS = (
    (r'^downsample_layers\.0\.conv\.', 'stem.conv.'),
    (r'^downsample_layers\.0\.post_norm\.', 'stem.norm.'),
    (r'^downsample_layers\.(\d+)\.conv\.', r'stages.\1.downsample.conv.'),
    (r'^downsample_layers\.(\d+)\.pre_norm\.', r'stages.\1.downsample.norm.'),
    (r'^stages\.(\d+)\.(\d+)\.', r'stages.\1.blocks.\2.'),
    (r'^head\.', 'head.fc.'),
    (r'^norm\.', 'head.norm.'),
)
# Ours alone: the dense outputs' norms, which no classification file has.
_OUTPUT_NORM = re.compile(r'^norm\d\.')


def detect_layout(state_dict: StateDict) -> Optional[str]:
    """'timm', 'original', or None for a file of neither layout."""
    return next((layout for layout, key in _SIGNATURES.items()
                 if key in state_dict), None)


def to_our_names(state_dict: StateDict, layout: str) -> StateDict:
    """The tensors of a file in ``layout`` under our module names."""
    if layout == 'timm':
        return dict(state_dict)
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in _ORIGINAL_TO_OURS:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def _as_conv_weights(state_dict: StateDict, own: StateDict) -> StateDict:
    """Linear weights ``(out, in)`` reshaped where the model has a 1x1
    convolution ``(out, in, 1, 1)``."""
    return {k: v[..., None, None] if k in own and v.dim() == 2
            and own[k].shape == (*v.shape, 1, 1) else v
            for k, v in state_dict.items()}


def _examples(keys: List[str]) -> str:
    return ', '.join(keys[:6]) + (f' (and {len(keys) - 6} more)'
                                  if len(keys) > 6 else '')


def _unknown_layout(state_dict: StateDict, source: str) -> CheckpointError:
    if any(k.startswith(('network.', 'patch_embed.')) for k in state_dict):
        hint = ("it is a PoolFormer (v1) or MetaFormer S12 file of "
                "sail-sg/poolformer: load it into type='PoolFormer'")
    else:
        hint = 'is it a MetaFormer baselines file at all?'
    return CheckpointError(
        f'{source} is in neither layout of the MetaFormer baselines (timm\'s '
        f"'stem.conv.weight' or sail-sg/metaformer's "
        f"'downsample_layers.0.conv.weight'; first keys: "
        f'{list(state_dict)[:5]}): {hint}.')


def fit_baseline_weights(model: nn.Module, state_dict: StateDict,
                         source: str) -> Dict[str, object]:
    """``state_dict`` (either layout) under our names, checked to fit
    ``model`` strictly; raises :class:`CheckpointError` naming what does
    not fit. Returns ``dict(layout=..., state_dict=..., skipped=[...])``."""
    layout = detect_layout(state_dict)
    if layout is None:
        raise _unknown_layout(state_dict, source)
    own = model.state_dict()
    ours = _as_conv_weights(to_our_names(state_dict, layout), own)
    arch = getattr(model, 'arch_name', 'custom')
    check_shapes_fit(ours, own,
                     f'{source} does not fit MetaFormer arch {arch!r}:',
                     'Build the arch the file was trained with.')
    # a dense backbone has no classifier; a file may lack output norms.
    skipped = sorted(k for k in ours if k not in own and (
        k.startswith('head.') or _OUTPUT_NORM.match(k)))
    unexpected = sorted(set(ours) - set(own) - set(skipped))
    missing = sorted(k for k in own
                     if k not in ours and not _OUTPUT_NORM.match(k))
    if unexpected or missing:
        parts = []
        if unexpected:
            parts.append(f'{len(unexpected)} tensors of the file have no '
                         f'place in it: {_examples(unexpected)}')
        if missing:
            parts.append(f'{len(missing)} tensors of the model are not in '
                         f'the file: {_examples(missing)}')
        raise CheckpointError(
            f'{source} ({layout} layout) does not fit MetaFormer arch '
            f'{arch!r}: ' + '; '.join(parts) +
            '. Build the arch the file was trained with.')
    return dict(layout=layout, skipped=skipped,
                state_dict={k: v for k, v in ours.items() if k in own})


def load_baseline_weights(model: nn.Module, path_or_url: str,
                          map_location: str = 'cpu',
                          prefix: Optional[str] = None,
                          logger: str = 'current') -> None:
    """Load a MetaFormer baselines file (timm's, sail-sg/metaformer's or a
    backbone of ours; only the keys under ``prefix`` when given) into
    ``model`` strictly, as :func:`fit_baseline_weights` checks."""
    state_dict = unwrap_state_dict(load_file(path_or_url, map_location))
    if prefix:
        state_dict = strip_prefix(state_dict, prefix, path_or_url)
    fit = fit_baseline_weights(model, state_dict, path_or_url)
    model.load_state_dict(fit['state_dict'], strict=False)
    print_log(f"Loaded {len(fit['state_dict'])}/{len(model.state_dict())} "
              f"MetaFormer tensors from {path_or_url} ({fit['layout']} "
              'layout); the rest are the output norms, newly initialised.'
              + (f" Not used: {_examples(fit['skipped'])}."
                 if fit['skipped'] else ''), logger=logger)
