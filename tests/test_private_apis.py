"""The private parts of mmengine and numpy we build on are still there.

The first test of each pair fails, naming the API and the installed version,
the day a release drops it; the second takes the API away and checks the
fallback."""
import io
import pickle
import pickletools
import re
import warnings

import mmengine
import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook

from mmpoolformer.checkpoints import checkpoint_types
from mmpoolformer.hooks import AtomicCheckpointHook
from mmpoolformer.private_apis import (NUMPY_MULTIARRAY_MODULES,
                                       SAVE_STEP_METHOD,
                                       checkpoint_hook_saves_by_step,
                                       numpy_pickle_globals)


def test_mmengine_checkpoint_hook_still_saves_by_step():
    assert checkpoint_hook_saves_by_step(), (
        f'mmengine {mmengine.__version__} no longer saves every checkpoint '
        f'through CheckpointHook.{SAVE_STEP_METHOD}(runner, step, meta): '
        'AtomicCheckpointHook must follow its new save path.')
    with warnings.catch_warnings():
        warnings.simplefilter('error', RuntimeWarning)
        AtomicCheckpointHook(interval=1)


def _save_without_step(self, runner):
    runner.save_checkpoint(self.out_dir, 'latest.pth')


@pytest.mark.parametrize('change', ['removed', 'new signature', 'not called'])
def test_atomic_hook_warns_when_mmengine_changes_the_save_step(
        change, monkeypatch):
    if change == 'removed':
        monkeypatch.delattr(CheckpointHook, SAVE_STEP_METHOD)
    elif change == 'new signature':
        monkeypatch.setattr(CheckpointHook, SAVE_STEP_METHOD,
                            lambda self, runner, step: None)
    else:
        monkeypatch.setattr(CheckpointHook, '_save_checkpoint',
                            _save_without_step)
    assert not checkpoint_hook_saves_by_step()
    with pytest.warns(RuntimeWarning, match=SAVE_STEP_METHOD):
        hook = AtomicCheckpointHook(interval=1)
    assert hook.backend_args == dict(backend='atomic_local')


def _pickled_globals(obj) -> set:
    """``module.name`` of every global a protocol-2 pickle (torch.save's
    protocol) of ``obj`` refers to."""
    return {arg.replace(' ', '.')
            for op, arg, _ in pickletools.genops(pickle.dumps(obj, 2))
            if op.name == 'GLOBAL'}


NUMPY_VALUES = {'array': np.arange(6, dtype=np.float32).reshape(2, 3),
                'scalar': np.float64(2.5), 'count': np.int64(7)}


def test_numpy_pickles_name_the_allowed_rebuilders():
    allowed = {name for _, name in numpy_pickle_globals()}
    pickled = {name for name in _pickled_globals(NUMPY_VALUES)
               if name.endswith(('._reconstruct', '.scalar'))}
    assert len(pickled) == 2 and pickled <= allowed, (
        f'numpy {np.__version__} pickles arrays and scalars with '
        f'{sorted(pickled)}, not with any of {sorted(allowed)}: update '
        'numpy_pickle_globals.')
    assert set(numpy_pickle_globals()) <= set(checkpoint_types())


@pytest.mark.parametrize('module', NUMPY_MULTIARRAY_MODULES)
def test_numpy_values_load_under_weights_only_whichever_numpy_saved(
        module, tmp_path):
    """A checkpoint written under numpy 2 (``numpy._core``) or numpy 1
    (``numpy.core``) loads; the legacy format keeps the pickle's text."""
    buffer = io.BytesIO()
    torch.save(NUMPY_VALUES, buffer, _use_new_zipfile_serialization=False)
    data = re.sub(rb'numpy\.(_?)core\.multiarray', module.encode(),
                  buffer.getvalue())
    assert module.encode() in data
    loaded = torch.load(io.BytesIO(data), weights_only=True)
    np.testing.assert_array_equal(loaded['array'], NUMPY_VALUES['array'])
    assert loaded['scalar'] == 2.5 and loaded['count'] == 7
