"""The MetaFormer family's weight files: reading them safely, and loading
one of any released layout (``weight_layouts.py``) into a backbone."""
import os
import os.path as osp
import pickle
import re
import urllib.parse
from typing import Dict, List, Mapping, Optional

import torch
from torch import nn

from .weight_layouts import (StateDict, detect_format, from_ours,
                             released_hybrid, to_ours)

# The dense outputs' norms, which no classification file has.
_OUTPUT_NORM = re.compile(r'^norm\d\.')


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
    # onedl-mmengine's own loads take mmengine's types off torch's
    # allow-list when they end (``safe_globals`` removes what it added, even
    # entries that were there before): put ours back before each load.
    from .safe_load import allow_checkpoint_types
    allow_checkpoint_types()
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


def convert(state_dict: StateDict, target: str,
            source: Optional[str] = None) -> StateDict:
    """Convert a backbone's state dict between formats (source detected
    when not given)."""
    ours = to_ours(state_dict, source)
    arch = released_hybrid(ours)
    if arch and target != 'original':
        raise ValueError(f'{arch} has no {target} layout (its position '
                         'embedding or spatial FC is its own); '
                         "keep it in the 'original' layout.")
    return from_ours(ours, target)


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


def _examples(keys: List[str]) -> str:
    return ', '.join(keys[:6]) + (f' (and {len(keys) - 6} more)'
                                  if len(keys) > 6 else '')


def fit_weights(model: nn.Module, state_dict: StateDict,
                source: str) -> Dict[str, object]:
    """``state_dict`` (any layout) under the skeleton's names, checked to
    fit ``model``: every tensor of the file finds its place but a
    classifier or output norms the model does not have, with the model's
    shape. Raises :class:`CheckpointError` naming what does not fit.
    Returns ``dict(format=..., state_dict=..., skipped=[...],
    missing=[...])``: ``missing`` are the model's tensors, other than the
    dense outputs' norms, that the file lacks."""
    fmt = detect_format(state_dict)
    ours = to_ours(state_dict, fmt)
    own = model.state_dict()
    arch = getattr(model, 'arch_name', 'custom')
    if not set(ours) & set(own):
        raise CheckpointError(
            f'No key of {source} matches arch {arch!r} ({fmt} format looked '
            f'like; first keys: {list(state_dict)[:5]}). Is it a weight file '
            'of the MetaFormer family (PoolFormer, PoolFormerV2, ConvFormer, '
            'CAFormer)?')
    hybrid = released_hybrid(ours)
    if hybrid and hybrid != arch and any(k not in own for k in ours):
        raise CheckpointError(
            f'{source} holds {hybrid} weights (its position embedding or '
            f'spatial FC keys say so); build the backbone with '
            f"arch='{hybrid}' to load it.")
    check_shapes_fit(ours, own,
                     f'{source} does not fit arch {arch!r} (it is probably '
                     'for another arch);',
                     'Choose the arch the checkpoint was trained with.')
    skipped = sorted(k for k in ours if k not in own
                     and (k.startswith('head.') or _OUTPUT_NORM.match(k)))
    unexpected = sorted(set(ours) - set(own) - set(skipped))
    missing = sorted(k for k in own
                     if k not in ours and not _OUTPUT_NORM.match(k))
    if unexpected:
        raise CheckpointError(
            f'{source} ({fmt} format; first keys: {list(state_dict)[:3]}) '
            f'does not fit arch {arch!r}: {len(unexpected)} tensors of the '
            f'file have no place in it: {_examples(unexpected)}' + (
                f'; {len(missing)} tensors of the model are not in the '
                f'file: {_examples(missing)}' if missing else '') +
            '. Build the arch the file was trained with.')
    return dict(format=fmt, skipped=skipped, missing=missing,
                state_dict={k: v for k, v in ours.items() if k in own})


def load_pretrained(model: nn.Module, path_or_url: str,
                    map_location: str = 'cpu', logger: str = 'current',
                    prefix: Optional[str] = None) -> dict:
    """Load a weight file of any released layout into a backbone (only the
    keys under ``prefix``, stripped of it, when given), as
    :func:`fit_weights` checks. Returns ``dict(format=..., skipped=[...],
    missing=[...])``.
    """
    from mmengine.logging import print_log

    state_dict = unwrap_state_dict(load_file(path_or_url, map_location))
    if prefix:
        state_dict = strip_prefix(state_dict, prefix, path_or_url)
    fit = fit_weights(model, state_dict, path_or_url)
    model.load_state_dict(fit['state_dict'], strict=False)
    print_log(f"Loaded {len(fit['state_dict'])}/{len(model.state_dict())} "
              f"tensors from {path_or_url} ({fit['format']} format)."
              + (f" Not used: {_examples(fit['skipped'])}."
                 if fit['skipped'] else ''), logger=logger)
    if fit['missing']:
        print_log(f"{len(fit['missing'])} tensors are not in the file and "
                  f"keep their initial values: {_examples(fit['missing'])}",
                  logger=logger, level=30)
    return dict(format=fit['format'], skipped=fit['skipped'],
                missing=fit['missing'])
