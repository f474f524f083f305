"""What a run loads must be what it asks for: the checkpoint of
``load_from`` (``tools/test.py``'s checkpoint) fits the model key by key,
``--resume`` gets a training checkpoint, and a bare ``--resume`` finds one.
"""
import os.path as osp
import re
from collections import Counter
from typing import Dict, List, Optional

from mmengine.runner.checkpoint import find_latest_checkpoint
from torch import nn

from .weight_files import CheckpointError, shape_mismatches
from .weight_layouts import legacy_prefixes, upgrade_legacy_keys

PARTIAL_LOAD_HINT = (
    'To load only the keys that fit, ask for it: --allow-partial-load '
    "(tools/train.py, tools/test.py) or dict(type='CheckpointFitHook', "
    'allow_partial_load=True) in custom_hooks.')
SHOWN_KEYS = 8


def _model_state_dict(checkpoint: dict) -> dict:
    """The weights as mmengine's Runner loads them: under ``state_dict``
    when there, with DataParallel's ``module.`` prefix removed, and a
    backbone of sail-sg/poolformer's layout renamed as the backbone renames
    it on loading."""
    weights = checkpoint.get('state_dict', checkpoint)
    weights = {re.sub(r'^module\.', '', k): v for k, v in weights.items()}
    for prefix in legacy_prefixes(weights):
        upgrade_legacy_keys(weights, prefix)
    return weights


def _listing(title: str, keys: List[str]) -> str:
    """``title (N, by module: ...)`` and the first keys."""
    by_module = Counter(k.split('.')[0] for k in keys)
    modules = ', '.join(f'{m} {n}' for m, n in by_module.items())
    shown = '\n    '.join(keys[:SHOWN_KEYS])
    more = (f'\n    ... and {len(keys) - SHOWN_KEYS} more'
            if len(keys) > SHOWN_KEYS else '')
    return f'  {title} ({len(keys)}; {modules}):\n    {shown}{more}'


def misfits(checkpoint: dict, model: nn.Module) -> Dict[str, List[str]]:
    """Keys of ``model`` the checkpoint lacks, keys it has that ``model``
    lacks, and keys whose shapes differ (empty lists when it fits)."""
    weights = _model_state_dict(checkpoint)
    own = model.state_dict()
    return dict(
        missing=[k for k in own if k not in weights],
        unexpected=[k for k in weights if k not in own],
        mismatched=shape_mismatches(weights, own))


def describe_misfit(filename: str, model: nn.Module,
                    found: Dict[str, List[str]]) -> Optional[str]:
    """The message for a checkpoint that does not fit ``model``, or None
    when it fits."""
    titles = dict(missing='in the model, missing from the file',
                  unexpected='in the file, not in the model',
                  mismatched='of another shape')
    parts = [_listing(titles[kind], keys)
             for kind, keys in found.items() if keys]
    if not parts:
        return None
    return (f'{filename} does not fit this {type(model).__name__}; loading '
            'it would leave weights at their initial values and score or '
            'train them silently. Keys\n' + '\n'.join(parts) +
            '\nUse a checkpoint of this config (same arch, neck and heads). '
            + PARTIAL_LOAD_HINT)


def check_training_checkpoint(filename: str, checkpoint: dict) -> None:
    """``--resume`` needs what mmengine's Runner saves besides weights;
    raise :class:`CheckpointError` naming what to use instead."""
    lacking = [k for k in ('meta', 'message_hub') if k not in checkpoint]
    if lacking:
        raise CheckpointError(
            f'{filename} cannot be resumed from: it holds weights only (no '
            f'{" or ".join(lacking)}), not a training checkpoint saved by '
            'tools/train.py (work_dirs/<config>/iter_N.pth or epoch_N.pth). '
            'To start training from these weights, pass --cfg-options '
            f'load_from={filename} instead of --resume; to evaluate them, '
            'run tools/test.py CONFIG ' + filename)


def resume_source(work_dir: str) -> str:
    """The checkpoint a bare ``--resume`` continues from (the one
    ``work_dir/last_checkpoint`` names); raise ``FileNotFoundError`` naming
    the work dir when there is none."""
    fix = ('Pass the work dir of the run to resume (--work-dir), or '
           '--resume PATH.pth, or --allow-fresh-start to start from '
           'iteration 0 when there is nothing to resume.')
    last = find_latest_checkpoint(work_dir)
    if last is None:
        raise FileNotFoundError(
            f'Nothing to resume from in {work_dir}: it has no '
            f'last_checkpoint (no run saved a checkpoint there). {fix}')
    if '://' not in last and not osp.isfile(last):
        raise FileNotFoundError(
            f'Nothing to resume from in {work_dir}: its last_checkpoint '
            f'names {last}, which does not exist. {fix}')
    return last
