"""PoolFormer weight files: safe reading, format detection and key mapping.

Every format is mapped to the original sail-sg key names, which are also the
names of our :class:`~mmpoolformer.models.PoolFormer`:

- ``original``: sail-sg release files (``patch_embed.proj``, ``network.*``,
  ``norm``/``head`` for classification, ``norm0``..``norm6`` for dense),
  including the MetaFormer S12 files of ``metaformer.py``
  (:func:`released_metaformer` tells which one).
- ``timm``: timm's MetaFormer port (``stem.conv``, ``stages.*.blocks.*``).
- ``mmpretrain``: ``backbone.``-prefixed, final norm ``norm6``, ``head.fc``.
- ``detector``: a whole mmdet/mmseg model (``backbone.`` plus neck and heads),
  e.g. trained with the original mmdet 2.x / mmseg 0.x code.
"""
import os
import os.path as osp
import pickle
import re
import urllib.parse
from typing import Callable, Dict, List, Mapping, Optional

import torch
from torch import nn

StateDict = Dict[str, torch.Tensor]
FORMATS = ('original', 'timm', 'mmpretrain', 'detector')


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used, with the reason and the fix."""


ZIP_MAGIC = b'PK\x03\x04'  # torch.save's default (zip) format
PICKLE_PROTOCOL_2_OR_LATER = b'\x80'  # legacy torch.save, pickle.dump


def _refusal(err: pickle.UnpicklingError) -> Optional[str]:
    """What torch's ``weights_only`` unpickler refused (a global, or a
    pickle instruction it does not run), or None for other errors."""
    message = str(err)
    found = re.search(r'GLOBAL ([\w.]+)', message)
    if found:
        return f'unsupported global {found.group(1)}'
    found = re.search(r'WeightsUnpickler error:\s*(.+)', message)
    return found.group(1).strip() if found else None


def _looks_like_checkpoint(path: str) -> bool:
    """Whether the file starts as ``torch.save`` (or pickle) writes."""
    with open(path, 'rb') as f:
        return f.read(4).startswith((ZIP_MAGIC, PICKLE_PROTOCOL_2_OR_LATER))


def _why_unreadable(path: str) -> str:
    """What is wrong with a file ``torch.load`` failed on, judged from its
    size and first bytes."""
    size = osp.getsize(path)
    if size == 0:
        return 'the file is empty (0 bytes)'
    if _looks_like_checkpoint(path):
        return (f'it is cut short or damaged ({size} bytes, of which torch '
                'cannot read the whole archive)')
    with open(path, 'rb') as f:
        head = f.read(16)
    return f'it is not a PyTorch checkpoint (it starts with {head!r})'


def _load_local(path: str, map_location: str,
                source: Optional[str] = None) -> dict:
    """``torch.load`` with ``weights_only=True``; every failure becomes a
    :class:`CheckpointError` naming ``path`` (and the URL ``source`` it
    was downloaded from) with the reason and the fix."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Checkpoint {path!r} does not exist. Point init_cfg.checkpoint '
            'at an existing file, e.g. --cfg-options '
            'model.backbone.init_cfg.checkpoint=/path/to/poolformer_s12.pth')
    name = f'{path!r}' + (f' (downloaded from {source})' if source else '')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        refused = _refusal(err) if _looks_like_checkpoint(path) else None
        if refused is not None:
            raise CheckpointError(
                f'Refused to load {name}: it holds Python objects other '
                f'than tensors and plain containers ({refused}). Only '
                'weights are loaded, never code; save a plain state dict '
                'with torch.save instead.') from None
        reason = _why_unreadable(path)
    except (RuntimeError, EOFError, OSError, KeyError, ValueError):
        reason = _why_unreadable(path)
    fix = ('delete it so that it is downloaded again' if source else
           'copy or download it again')
    raise CheckpointError(f'Could not read checkpoint {name}: {reason}. '
                          f'{fix.capitalize()}.')


def _url_cache_path(url: str) -> str:
    """Where ``torch.hub`` keeps the download of ``url``."""
    name = osp.basename(urllib.parse.urlparse(url).path)
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def _load_url(url: str, map_location: str) -> dict:
    cached = _url_cache_path(url)
    if not osp.isfile(cached):
        try:  # to a temporary file, renamed when complete
            os.makedirs(osp.dirname(cached), exist_ok=True)
            torch.hub.download_url_to_file(url, cached, progress=False)
        except (OSError, ValueError) as err:  # URLError is an OSError
            folder = osp.dirname(cached)
            raise CheckpointError(
                f'Could not download {url} ({err}), and it is not cached '
                f'in {folder}. Without network access, download the file '
                f'elsewhere and either put it in {folder} or pass '
                '--cfg-options '
                'model.backbone.init_cfg.checkpoint=/path/to/file') from err
    return _load_local(cached, map_location, source=url)


def load_file(path_or_url: str, map_location: str = 'cpu') -> dict:
    """Load a checkpoint from a path or an http(s) URL with
    ``weights_only=True``: a file that would run code is refused, and a
    file that cannot be read raises :class:`CheckpointError` naming it."""
    if re.match(r'^https?://', path_or_url):
        return _load_url(path_or_url, map_location)
    return _load_local(path_or_url, map_location)


def unwrap_state_dict(checkpoint: dict) -> StateDict:
    """The state dict itself, whether plain or nested under 'state_dict'
    or 'model' (also 'module.'-prefixed ones from DataParallel)."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in checkpoint.items() if isinstance(v, torch.Tensor)}


def detect_format(state_dict: StateDict) -> str:
    """Which of :data:`FORMATS` the keys follow."""
    keys = list(state_dict)
    if any(k.startswith(('stem.conv.', 'stages.')) for k in keys):
        return 'timm'
    if any(k.startswith('backbone.') for k in keys):
        dense_norms = any(re.match(r'backbone\.norm[024]\.', k) for k in keys)
        heads = any(k.startswith(('neck.', 'decode_head.', 'bbox_head.',
                                  'rpn_head.', 'roi_head.')) for k in keys)
        return 'detector' if dense_norms or heads else 'mmpretrain'
    return 'original'


# Keys that only one released MetaFormer S12 file has; metaformer_id_s12 has
# exactly PoolFormer-S12's keys (identity mixers have no weights).
_METAFORMER_SIGNATURES = (
    ('metaformer_pppa_s12_224', 'network.6.pos_embed'),
    ('metaformer_ppaa_s12_224', 'network.4.pos_embed'),
    ('metaformer_ppff_s12_224', 'network.4.0.token_mixer.fc.weight'),
    ('metaformer_pppf_s12_224', 'network.6.0.token_mixer.fc.weight'),
)


def released_metaformer(state_dict: StateDict) -> Optional[str]:
    """The arch name of a released MetaFormer S12 file (original layout)
    with position embeddings or spatial FC mixers, else None."""
    return next((arch for arch, key in _METAFORMER_SIGNATURES
                 if key in state_dict), None)


def _rename(state_dict: StateDict, rules) -> StateDict:
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in rules:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def _timm_to_original(sd: StateDict) -> StateDict:
    out = _rename(sd, [
        (r'^stem\.conv\.', 'patch_embed.proj.'),
        (r'^stages\.(\d+)\.downsample\.conv\.',
         lambda m: f'network.{2 * int(m[1]) - 1}.proj.'),
        (r'^stages\.(\d+)\.blocks\.',
         lambda m: f'network.{2 * int(m[1])}.'),
        (r'layer_scale(\d)\.scale$', r'layer_scale_\1'),
        (r'^head\.norm\.', 'norm.'),
        (r'^head\.fc\.', 'head.'),
    ])
    # timm may store the 1x1 MLP convolutions as linear weights.
    return {k: v[..., None, None] if re.search(r'mlp\.fc\d\.weight$', k)
            and v.dim() == 2 else v for k, v in out.items()}


def _original_to_timm(sd: StateDict) -> StateDict:
    return _rename(sd, [
        (r'^patch_embed\.proj\.', 'stem.conv.'),
        (r'^network\.(\d+)\.',
         lambda m: f'stages.{int(m[1]) // 2}.blocks.' if int(m[1]) % 2 == 0
         else f'stages.{(int(m[1]) + 1) // 2}.downsample.'),
        (r'downsample\.proj\.', 'downsample.conv.'),
        (r'layer_scale_(\d)$', r'layer_scale\1.scale'),
        (r'^norm\.', 'head.norm.'),
        (r'^head\.(weight|bias)$', r'head.fc.\1'),
    ])


def _mmpretrain_to_original(sd: StateDict) -> StateDict:
    return _rename(sd, [(r'^backbone\.norm6\.', 'norm.'),
                        (r'^backbone\.', ''), (r'^head\.fc\.', 'head.')])


def _original_to_mmpretrain(sd: StateDict) -> StateDict:
    return _rename(sd, [(r'^norm\.', 'norm6.'), (r'^head\.', 'head.fc.'),
                        (r'^(?!head\.)', 'backbone.')])


def _detector_to_original(sd: StateDict) -> StateDict:
    return {k[len('backbone.'):]: v for k, v in sd.items()
            if k.startswith('backbone.')}


TO_ORIGINAL: Dict[str, Callable[[StateDict], StateDict]] = {
    'original': dict, 'timm': _timm_to_original,
    'mmpretrain': _mmpretrain_to_original, 'detector': _detector_to_original}
FROM_ORIGINAL: Dict[str, Callable[[StateDict], StateDict]] = {
    'original': dict, 'timm': _original_to_timm,
    'mmpretrain': _original_to_mmpretrain}


def convert(state_dict: StateDict, target: str,
            source: Optional[str] = None) -> StateDict:
    """Convert a PoolFormer state dict between formats (source detected
    when not given)."""
    if target not in FROM_ORIGINAL:
        raise ValueError(f'Unknown target format {target!r}; choose one of '
                         f'{sorted(FROM_ORIGINAL)}.')
    source = source or detect_format(state_dict)
    state_dict = TO_ORIGINAL[source](state_dict)
    arch = released_metaformer(state_dict)
    if arch and target != 'original':
        raise ValueError(f'{arch} has no {target} layout (its position '
                         'embedding or spatial FC shift the stage indices); '
                         "keep it in the 'original' layout.")
    return FROM_ORIGINAL[target](state_dict)


def strip_prefix(state_dict: StateDict, prefix: str,
                 path_or_url: str) -> StateDict:
    """The tensors under ``prefix`` (as mmengine's ``Pretrained`` init
    takes them), with the prefix removed."""
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    out = {k[len(prefix):]: v for k, v in state_dict.items()
           if k.startswith(prefix)}
    if not out:
        raise CheckpointError(
            f'{path_or_url} has no key starting with prefix {prefix!r} '
            f'(first keys: {list(state_dict)[:5]}); fix init_cfg.prefix.')
    return out


def shape_mismatches(state_dict: Mapping, own: Mapping) -> List[str]:
    """``key: (shape) in the file, (shape) in the model`` for each key of
    both ``state_dict`` (a file's) and ``own`` (a model's) whose shapes
    differ."""
    return [f'{k}: {tuple(v.shape)} in the file, '
            f'{tuple(own[k].shape)} in the model'
            for k, v in state_dict.items()
            if k in own and hasattr(v, 'shape') and v.shape != own[k].shape]


def check_shapes_fit(state_dict: Mapping, own: Mapping, misfit: str,
                     fix: str) -> None:
    """Raise :class:`CheckpointError` (``misfit``, the keys whose shapes
    differ, then ``fix``) when a key of both has another shape."""
    mismatched = shape_mismatches(state_dict, own)
    if mismatched:
        raise CheckpointError(
            f'{misfit} {len(mismatched)} keys differ in shape, e.g.\n  '
            + '\n  '.join(mismatched[:8]) + f'\n{fix}')


def _check_released_arch(own: StateDict, state_dict: StateDict,
                         path_or_url: str) -> None:
    arch = released_metaformer(state_dict)
    if arch and any(k.startswith('network.') and k not in own
                    for k in state_dict):
        raise CheckpointError(
            f'{path_or_url} holds {arch} weights (its position embedding or '
            f"spatial FC keys say so); build the backbone with arch='{arch}' "
            'to load it.')


def load_pretrained(model: nn.Module, path_or_url: str,
                    map_location: str = 'cpu',
                    logger: str = 'current',
                    prefix: Optional[str] = None) -> dict:
    """Load a PoolFormer checkpoint of any known format into ``model``
    (only the keys under ``prefix``, stripped of it, when given).

    Missing and unexpected keys are logged. A file for another arch (shape
    mismatches) or one with no matching key raises :class:`CheckpointError`.
    Returns ``dict(format=..., missing=[...], unexpected=[...])``.
    """
    from mmengine.logging import print_log

    state_dict = unwrap_state_dict(load_file(path_or_url, map_location))
    if prefix:
        state_dict = strip_prefix(state_dict, prefix, path_or_url)
    fmt = detect_format(state_dict)
    state_dict = TO_ORIGINAL[fmt](state_dict)
    own = model.state_dict()
    _check_released_arch(own, state_dict, path_or_url)
    check_shapes_fit(state_dict, own,
                     f'{path_or_url} does not fit this PoolFormer (it is '
                     'probably for another arch);',
                     'Choose the arch the checkpoint was trained with.')
    matched = [k for k in state_dict if k in own]
    if not matched:
        raise CheckpointError(
            f'No key of {path_or_url} matches PoolFormer (format looked like '
            f'{fmt!r}; first keys: {list(state_dict)[:5]}). Is it a '
            'PoolFormer checkpoint?')
    result = model.load_state_dict(
        {k: state_dict[k] for k in matched}, strict=False)
    unexpected = sorted(set(state_dict) - set(own))
    print_log(f'Loaded {len(matched)}/{len(own)} PoolFormer tensors from '
              f'{path_or_url} ({fmt} format).', logger=logger)
    if result.missing_keys:
        print_log('Missing keys (kept at their initial values): '
                  + ', '.join(result.missing_keys), logger=logger)
    if unexpected:
        print_log('Unexpected keys (ignored): ' + ', '.join(unexpected),
                  logger=logger)
    return dict(format=fmt, missing=list(result.missing_keys),
                unexpected=unexpected)
