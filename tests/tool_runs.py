"""The config tests' runs of tools/train.py and tools/test.py (through
:func:`tests.tool_support.run_tool`), and what they read back."""
import glob
import json
import os.path as osp
from typing import Dict, List, Tuple

import torch
from mmengine.runner import load_checkpoint

from mmpoolformer.checkpoints.weight_files import load_file
from mmpoolformer.checkpoints.weight_layouts import (from_ours,
                                                     upgrade_legacy_keys)
from tests.tiny_data import write_tiny_ade
from tests.tool_support import SEGMENTATION, run_tool, write_config


def save_as_original(state_dict: dict, path: str, meta: dict) -> None:
    """A checkpoint as mmcv 1.x (mmdet 2.x, mmseg 0.x) saved it, the layout
    of the files sail-sg/poolformer released: ``meta`` and ``state_dict``,
    the backbone under sail-sg/poolformer's names."""
    backbone = {k[len('backbone.'):]: v for k, v in state_dict.items()
                if k.startswith('backbone.')}
    if 'stem.conv.weight' in backbone:
        state_dict = {k: v for k, v in state_dict.items()
                      if not k.startswith('backbone.')}
        state_dict.update({f'backbone.{k}': v for k, v in
                           from_ours(backbone, 'original').items()})
    torch.save(dict(meta=dict(mmcv_version='1.4.0', **meta),
                    state_dict=state_dict), path)


def assert_loads_as_original(model: torch.nn.Module, state_dict: dict,
                             path: str, meta: dict) -> None:
    """Save ``state_dict`` at ``path`` as the original code did and check
    that mmengine's ``load_checkpoint`` puts every tensor of it, strictly,
    into ``model`` (its backbone renamed as the backbone loads it)."""
    save_as_original(state_dict, path, meta)
    load_checkpoint(model, path, map_location='cpu', strict=True)
    expected = dict(state_dict)
    upgrade_legacy_keys(expected, 'backbone.')
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[key], msg=key)


def train(config: str, work_dir: str,
          metric: str) -> Tuple[List[float], dict]:
    """Run tools/train.py; return its logged losses and the validation
    line holding ``metric``."""
    run_tool('train.py', config, '--work-dir', work_dir)
    [path] = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        logs = [json.loads(line) for line in f]
    [val] = [log for log in logs if metric in log]
    return [log['loss'] for log in logs if 'loss' in log], val


def evaluate_as_original(config: str, checkpoint: str, meta: dict,
                         work_dir: str) -> Dict[str, float]:
    """Save the weights of ``checkpoint`` as the original code did, run
    tools/test.py on that file and return its metrics; every weight must
    load (mmengine warns of any key that does not match)."""
    legacy = osp.join(osp.dirname(checkpoint), 'as_original.pth')
    weights = load_file(checkpoint)['state_dict']
    save_as_original(weights, legacy, meta)
    result = run_tool('test.py', config, legacy, '--work-dir', work_dir)
    assert 'do not match exactly' not in result.stdout + result.stderr
    [path] = glob.glob(osp.join(work_dir, '*', '*.json'))
    with open(path) as f:
        return json.load(f)


DROPOUT_ON = """
model['backbone'].update(drop_rate=0.1, drop_path_rate=0.1)
"""
KILLED_AT_4 = DROPOUT_ON + """
custom_imports = dict(imports=['mmpoolformer', 'tests.tool_hooks'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='KillWhileSaving', at=4)]
"""


def dropout_runs(tmp: str) -> Dict[str, str]:
    """The tiny Semantic FPN (dropout, drop path and the random ADE
    augmentations on) trained 6 iterations with checkpoints every 2: once
    through ``--resume --allow-fresh-start`` in an empty work dir
    (``full``), once killed while saving iteration 4 and resumed
    (``interrupted``). Returns the configs, work dirs and tool outputs."""
    root = write_tiny_ade(osp.join(tmp, 'ade')) + '/'
    runs = dict(
        config=write_config(osp.join(tmp, 'tiny.py'), SEGMENTATION, root,
                            iters=6, extra=DROPOUT_ON),
        killed=write_config(osp.join(tmp, 'killed.py'), SEGMENTATION, root,
                            iters=6, extra=KILLED_AT_4),
        full=osp.join(tmp, 'full'), interrupted=osp.join(tmp, 'interrupted'))
    fresh = run_tool('train.py', runs['config'], '--work-dir', runs['full'],
                     '--resume', '--allow-fresh-start')
    runs['fresh_log'] = fresh.stdout + fresh.stderr
    crash = run_tool('train.py', runs['killed'], '--work-dir',
                     runs['interrupted'], check=False)
    assert crash.returncode == -9, crash.stderr[-3000:]
    resumed = run_tool('train.py', runs['config'], '--work-dir',
                       runs['interrupted'], '--resume')
    runs['resumed_log'] = resumed.stdout + resumed.stderr
    return runs
