"""The private parts of mmengine and numpy we build on are still there.

The first test of each pair fails, naming the API and the installed version,
the day a release drops it; the second takes the API away and checks the
fallback."""
import pickle
import pickletools
import warnings

import mmengine
import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook

from mmpoolformer.engine import AtomicCheckpointHook, checkpoint_types
from mmpoolformer.engine.private_apis import (SAVE_STEP_METHOD,
                                              checkpoint_hook_saves_by_step,
                                              numpy_pickle_rebuilders)


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


def _qualified_name(obj) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


def test_numpy_rebuilders_are_the_globals_numpy_pickles_name():
    array_rebuild, scalar_rebuild = numpy_pickle_rebuilders()
    names = {_qualified_name(array_rebuild), _qualified_name(scalar_rebuild)}
    pickled = _pickled_globals({'array': np.arange(3.),
                                'scalar': np.float64(2.5)})
    assert names <= pickled, (
        f'numpy {np.__version__} pickles arrays and scalars with '
        f'{sorted(pickled)}, not {sorted(names)}: update '
        'numpy_pickle_rebuilders.')
    assert {array_rebuild, scalar_rebuild} <= set(checkpoint_types())


def test_numpy_values_load_under_weights_only(tmp_path):
    values = {'array': np.arange(6, dtype=np.float32).reshape(2, 3),
              'scalar': np.float64(2.5), 'count': np.int64(7)}
    path = tmp_path / 'numpy_values.pth'
    torch.save(values, path)
    with torch.serialization.safe_globals(checkpoint_types()):
        loaded = torch.load(path, weights_only=True)
    np.testing.assert_array_equal(loaded['array'], values['array'])
    assert loaded['scalar'] == 2.5 and loaded['count'] == 7
