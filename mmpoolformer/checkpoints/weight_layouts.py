"""The layouts of the MetaFormer family's weight files, and their mapping to
the skeleton's module names.

The skeleton (``models/backbones/metaformer.py``) names its modules as timm
does, so ``'timm'`` is our own layout: ``stem.conv``/``stem.norm``,
``stages.N.downsample.{norm,conv}``, ``stages.N.pos_embed.pos_embed``,
``stages.N.blocks.M.*`` (``layer_scale1.scale`` ...), the dense outputs'
``norm0``..``norm3``, and ``head.norm``/``head.fc``. The others:

- ``'original'``, either release: sail-sg/poolformer's PoolFormer and
  MetaFormer S12 files (``patch_embed.proj``, ``network.K`` holding each
  stage's downsampling, position embedding and blocks in turn,
  ``layer_scale_1``, dense ``norm0``/``norm2``/``norm4``/``norm6``, and
  ``norm``/``head``), which PoolFormer's earlier versions also saved; and
  sail-sg/metaformer's baselines (``downsample_layers.N``, ``stages.N.M``,
  ``norm``/``head``, linear layers where we have 1x1 convolutions).
- ``'mmpretrain'``: sail-sg/poolformer's names under ``backbone.``, the
  final norm as ``norm6``, the classifier as ``head.fc``.
- ``'detector'``: a whole mmdet or mmseg model (``backbone.`` beside its
  neck and heads), in either backbone layout, e.g. trained with the original
  mmdet 2.x / mmseg 0.x code.
"""
import re
from typing import Dict, List, Optional, Tuple

import torch

StateDict = Dict[str, torch.Tensor]
FORMATS = ('original', 'timm', 'mmpretrain', 'detector')
_HEADS = ('neck.', 'decode_head.', 'auxiliary_head.', 'bbox_head.',
          'rpn_head.', 'roi_head.')
# Our 1x1 convolutions, which the baselines' original stores as linears.
_POINTWISE = re.compile(r'(mlp\.fc\d|token_mixer\.pwconv\d)\.weight$')


def detect_format(state_dict: StateDict) -> str:
    """Which of :data:`FORMATS` the keys follow."""
    keys = list(state_dict)
    if any(k.startswith('backbone.') for k in keys):
        dense_norms = any(re.match(r'backbone\.norm[0-4]\.', k) for k in keys)
        heads = any(k.startswith(_HEADS) for k in keys)
        return 'detector' if dense_norms or heads else 'mmpretrain'
    if any(k.startswith(('stem.', 'stages.')) for k in keys) and \
            not any(k.startswith('downsample_layers.') for k in keys):
        return 'timm'
    return 'original'


def _rename(state_dict: StateDict, rules) -> StateDict:
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in rules:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def _network_stages(state_dict: StateDict) -> Dict[int, Tuple[int, str]]:
    """Each ``network.K`` entry of a sail-sg/poolformer file as (stage,
    'downsample' | 'pos_embed' | 'blocks'): a stage starts at each
    downsampling."""
    kinds = {}
    for key in state_dict:
        found = re.match(r'network\.(\d+)\.(\w+)', key)
        if found:
            kinds[int(found[1])] = ('downsample' if found[2] == 'proj' else
                                    'pos_embed' if found[2] == 'pos_embed'
                                    else 'blocks')
    stage, entries = 0, {}
    for index in sorted(kinds):
        stage += kinds[index] == 'downsample'
        entries[index] = (stage, kinds[index])
    return entries


def _poolformer_to_ours(state_dict: StateDict) -> StateDict:
    entries = _network_stages(state_dict)
    where = {'downsample': 'downsample.conv', 'pos_embed': 'pos_embed',
             'blocks': 'blocks'}

    def network(found: re.Match) -> str:
        stage, kind = entries[int(found[1])]
        return f'stages.{stage}.{where[kind]}.'

    return _rename(state_dict, [
        (r'^patch_embed\.proj\.', 'stem.conv.'),
        (r'^network\.(\d+)\.proj\.', network),
        (r'^network\.(\d+)\.', network),
        (r'\.layer_scale_(\d)$', r'.layer_scale\1.scale'),
        (r'^norm(\d)\.', lambda m: f'norm{int(m[1]) // 2}.'),
        (r'^norm\.', 'head.norm.'),
        (r'^head\.(weight|bias)$', r'head.fc.\1'),
    ])


def _metaformer_to_ours(state_dict: StateDict) -> StateDict:
    return _rename(state_dict, [
        (r'^downsample_layers\.0\.conv\.', 'stem.conv.'),
        (r'^downsample_layers\.0\.post_norm\.', 'stem.norm.'),
        (r'^downsample_layers\.(\d+)\.conv\.', r'stages.\1.downsample.conv.'),
        (r'^downsample_layers\.(\d+)\.pre_norm\.',
         r'stages.\1.downsample.norm.'),
        (r'^stages\.(\d+)\.(\d+)\.', r'stages.\1.blocks.\2.'),
        (r'^head\.', 'head.fc.'),
        (r'^norm\.', 'head.norm.'),
    ])


def _mmpretrain_to_original(state_dict: StateDict) -> StateDict:
    return _rename(state_dict, [(r'^backbone\.norm6\.', 'norm.'),
                                (r'^backbone\.', ''),
                                (r'^head\.fc\.', 'head.')])


def _backbone_of(state_dict: StateDict) -> StateDict:
    return {k[len('backbone.'):]: v for k, v in state_dict.items()
            if k.startswith('backbone.')}


def is_legacy(state_dict: StateDict) -> bool:
    """Whether a backbone's keys are sail-sg/poolformer's."""
    return any(k.startswith(('network.', 'patch_embed.')) for k in state_dict)


def to_ours(state_dict: StateDict, fmt: Optional[str] = None) -> StateDict:
    """A backbone's tensors from a file in ``fmt`` (detected when not
    given) under the skeleton's names, linear weights reshaped where the
    skeleton has 1x1 convolutions."""
    fmt = fmt or detect_format(state_dict)
    if fmt == 'mmpretrain':
        state_dict = _mmpretrain_to_original(state_dict)
    elif fmt == 'detector':
        state_dict = _backbone_of(state_dict)
    if is_legacy(state_dict):
        state_dict = _poolformer_to_ours(state_dict)
    elif any(k.startswith('downsample_layers.') for k in state_dict):
        state_dict = _metaformer_to_ours(state_dict)
    return {k: v[..., None, None] if _POINTWISE.search(k) and v.dim() == 2
            else v for k, v in state_dict.items()}


def upgrade_legacy_keys(state_dict: StateDict, prefix: str = '') -> None:
    """Rename, in place, the keys under ``prefix`` of a backbone saved in
    sail-sg/poolformer's layout (PoolFormer's earlier files, mmdet 2.x /
    mmseg 0.x detectors) to the skeleton's; other keys stay."""
    own = [k for k in state_dict if k.startswith(prefix)]
    if not is_legacy({k[len(prefix):]: None for k in own}):
        return
    renamed = _poolformer_to_ours(
        {k[len(prefix):]: state_dict.pop(k) for k in own})
    state_dict.update({prefix + k: v for k, v in renamed.items()})


def legacy_prefixes(state_dict: StateDict) -> List[str]:
    """The prefixes under which ``state_dict`` holds a backbone in
    sail-sg/poolformer's layout (``'backbone.'`` for a detector)."""
    return sorted({k[:-len('patch_embed.proj.weight')] for k in state_dict
                   if k.endswith('patch_embed.proj.weight')})


def _ours_to_poolformer(state_dict: StateDict) -> StateDict:
    stages = sorted({int(m[1]) for k in state_dict
                     for m in [re.match(r'stages\.(\d+)\.', k)] if m})
    index, where = 0, {}
    for stage in stages:
        for part, present in (
                ('downsample.conv', stage > 0),
                ('pos_embed', f'stages.{stage}.pos_embed.pos_embed'
                 in state_dict),
                ('blocks', True)):
            if present:
                where[f'stages.{stage}.{part}.'] = f'network.{index}.' + (
                    'proj.' if part == 'downsample.conv' else '')
                index += 1
    return _rename(state_dict, [
        (r'^stem\.conv\.', 'patch_embed.proj.'),
        (r'^(stages\.\d+\.(?:downsample\.conv|pos_embed|blocks)\.)',
         lambda m: where[m[1]]),
        (r'\.layer_scale(\d)\.scale$', r'.layer_scale_\1'),
        (r'^norm(\d)\.', lambda m: f'norm{2 * int(m[1])}.'),
        (r'^head\.norm\.', 'norm.'),
        (r'^head\.fc\.(weight|bias)$', r'head.\1'),
    ])


def from_ours(state_dict: StateDict, target: str) -> StateDict:
    """A backbone's tensors in the skeleton's names, in ``target``'s
    layout (``'original'`` and ``'mmpretrain'`` for PoolFormer and its
    MetaFormer S12 hybrids, whose originals are sail-sg/poolformer's)."""
    if target not in FORMATS[:3]:
        raise ValueError(f'Unknown target format {target!r}; choose one of '
                         f'{sorted(FORMATS[:3])}.')
    if target == 'timm':
        return dict(state_dict)
    if 'stem.norm.weight' in state_dict:
        raise ValueError(
            f'A MetaFormer baselines file has no {target!r} layout here: '
            "keep it in the 'timm' layout, which loads everywhere.")
    original = _ours_to_poolformer(state_dict)
    if target == 'original':
        return original
    return _rename(original, [(r'^norm\.', 'norm6.'), (r'^head\.', 'head.fc.'),
                              (r'^(?!head\.)', 'backbone.')])


# Keys that only one released MetaFormer S12 file has (our names);
# metaformer_id_s12 has exactly PoolFormer-S12's keys.
_HYBRID_SIGNATURES = (
    ('metaformer_pppa_s12_224', 'stages.3.pos_embed.pos_embed'),
    ('metaformer_ppaa_s12_224', 'stages.2.pos_embed.pos_embed'),
    ('metaformer_ppff_s12_224', 'stages.2.blocks.0.token_mixer.fc.weight'),
    ('metaformer_pppf_s12_224', 'stages.3.blocks.0.token_mixer.fc.weight'),
)


def released_hybrid(state_dict: StateDict) -> Optional[str]:
    """The arch name of a released MetaFormer S12 file (our names) with
    position embeddings or spatial FC mixers, else None."""
    return next((arch for arch, key in _HYBRID_SIGNATURES
                 if key in state_dict), None)
