"""The private parts of mmengine and numpy we build on are still there, on
the installed stack (the suite runs on OpenMMLab's and on OneDL's).

The first test of each pair fails, naming the API and the installed version,
the day a release drops it; the second takes the API away and checks the
fallback."""
import io
import pickle
import pickletools
import re
import warnings
from types import SimpleNamespace

import mmengine
import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook

from mmpoolformer.checkpoints import checkpoint_types
from mmpoolformer.hooks import AtomicCheckpointHook
from mmpoolformer.private_apis import (HOST_LOCAL_LOADER, LAZY_ITERATOR_METHOD,
                                       NUMPY_MULTIARRAY_MODULES,
                                       RESUME_SKIP_NAMES, SAVE_STEP_METHOD,
                                       SCOPE_TABLE,
                                       checkpoint_hook_saves_by_step,
                                       config_scope_packages,
                                       host_loads_refused_files,
                                       numpy_pickle_globals,
                                       resume_skip_protocol)
from mmpoolformer.stacks import installed_stack


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


#: How each stack's IterBasedTrainLoop skips trained batches on resume.
EXPECTED_RESUME_SKIP = {'openmmlab': 'next', 'onedl': 'skip_iter'}


def test_mmengine_resume_skips_as_random_states_hook_expects():
    stack = installed_stack()
    assert resume_skip_protocol() == EXPECTED_RESUME_SKIP[stack.name], (
        f'{stack.describe()}: IterBasedTrainLoop.run no longer skips '
        'trained batches with '
        f'{RESUME_SKIP_NAMES[EXPECTED_RESUME_SKIP[stack.name]]} on '
        'dataloader_iterator: RandomStatesHook (_RestoreAfterSkip) must '
        'follow its new resume path.')


def test_random_states_hook_warns_when_the_resume_path_is_unknown(
        monkeypatch):
    from mmengine.runner import IterBasedTrainLoop

    from mmpoolformer.hooks import RandomStatesHook
    from mmpoolformer.hooks.random_states import capture_random_states

    def run(self):
        return self.runner
    monkeypatch.setattr(IterBasedTrainLoop, 'run', run)
    assert resume_skip_protocol() is None
    warnings_seen = []
    runner = SimpleNamespace(
        iter=3, logger=SimpleNamespace(warning=warnings_seen.append),
        train_loop=SimpleNamespace(dataloader_iterator=iter(range(10))))
    hook = RandomStatesHook()
    hook.after_load_checkpoint(
        runner, {'random_states': [capture_random_states()]})
    hook.before_train(runner)
    assert 'does not know' in warnings_seen[0]
    assert next(runner.train_loop.dataloader_iterator) == 0  # none skipped


def test_mmengine_still_reads_config_scopes_from_its_table():
    table = config_scope_packages()
    assert table is not None and table.get('mmseg'), (
        f'mmengine {mmengine.__version__} no longer turns a config base\'s '
        f'scope into a distribution through mmengine.config.utils.'
        f'{SCOPE_TABLE} in _get_package_and_cfg_path: '
        'library_bases_by_module must follow its new lookup.')


def test_scope_table_left_alone_when_mmengine_stops_reading_it(
        monkeypatch):
    from mmengine.config import utils

    from mmpoolformer.libraries import library_bases_by_module
    monkeypatch.setattr(utils, '_get_package_and_cfg_path',
                        lambda cfg_path: ('mmsegmentation', cfg_path))
    monkeypatch.setitem(utils.MODULE2PACKAGE, 'mmseg', 'no-such-distribution')
    assert config_scope_packages() is None
    with library_bases_by_module():
        assert utils.MODULE2PACKAGE['mmseg'] == 'no-such-distribution'


#: Whether each stack's own loader for local checkpoints loads a file
#: torch's safe loading refuses.
EXPECTED_HOST_LOADS_REFUSED = {'openmmlab': False, 'onedl': True}


def test_host_loader_treats_refused_files_as_the_docs_say():
    stack = installed_stack()
    loads = host_loads_refused_files()
    assert loads == EXPECTED_HOST_LOADS_REFUSED[stack.name], (
        f'{stack.describe()}: {HOST_LOCAL_LOADER} now '
        f'{"loads" if loads else "refuses"} a file that torch\'s safe '
        "loading refuses: update docs/user_guides/onedl.md's 'Safe "
        "loading' and EXPECTED_HOST_LOADS_REFUSED.")


#: Whether each stack's dataloader iterator builds the DataLoader's
#: iterator lazily, through LAZY_ITERATOR_METHOD.
EXPECTED_LAZY_ITERATOR = {'openmmlab': False, 'onedl': True}


def test_dataloader_iterator_starts_as_random_states_hook_expects():
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    stack = installed_stack()
    lazy = hasattr(_InfiniteDataloaderIterator, LAZY_ITERATOR_METHOD)
    assert lazy == EXPECTED_LAZY_ITERATOR[stack.name], (
        f'{stack.describe()}: _InfiniteDataloaderIterator '
        f'{"now has" if lazy else "no longer has"} {LAZY_ITERATOR_METHOD}: '
        'check that a resumed run builds the DataLoader iterator before '
        'RandomStatesHook restores the random states.')
