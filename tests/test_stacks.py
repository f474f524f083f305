"""Either stack: OpenMMLab's last releases or OneDL's continuation.

What differs between them is checked on whichever is installed; what one
stack alone shows (a host loader that falls back to unsafe loading, a
scope table naming a distribution that is absent) is also recreated on
the other, so both code paths run in every suite."""
import os
import os.path as osp
import subprocess
import sys
import types

import pytest
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint

import mmpoolformer
from mmpoolformer.checkpoints import (CheckpointError,
                                      use_safe_checkpoint_loading)
from mmpoolformer.hooks.random_states import (_RestoreAfterSkip,
                                              capture_random_states)
from mmpoolformer.libraries import load_config
from mmpoolformer.private_apis import host_loads_refused_files
from mmpoolformer.stacks import STACKS, installed_stack
from tests.tool_support import REPO, SEGMENTATION_BASE, WritesMarker


def test_the_installed_stack_is_named_with_its_versions():
    stack = installed_stack()
    assert stack == mmpoolformer.STACK and stack.name in STACKS
    import mmcv
    import mmengine
    assert stack.versions['mmengine'] == mmengine.__version__
    assert stack.versions['mmcv'] == mmcv.__version__
    assert f'{STACKS[stack.name]["mmcv"]} {mmcv.__version__}' in (
        stack.describe())


def _import_error(hide: str) -> str:
    """What ``import mmpoolformer`` says in a fresh interpreter where the
    module ``hide`` cannot be found."""
    script = (f'import sys; sys.modules[{hide!r}] = None\n'
              'try:\n    import mmpoolformer\n'
              'except ImportError as err:\n'
              '    print(type(err).__name__, err)')
    return subprocess.run([sys.executable, '-c', script], cwd=REPO,
                          capture_output=True, text=True, check=True,
                          env=dict(os.environ, PYTHONPATH=REPO)).stdout


@pytest.mark.parametrize('hide, says', [
    ('mmengine', "neither OpenMMLab's"),
    ('mmcv', 'mmpoolformer needs mmcv'),
    ('mmcv._ext', 'no compiled ops (mmcv._ext'),
])
def test_import_without_a_stack_says_what_to_install(hide, says):
    message = _import_error(hide)
    assert message.startswith('StackMissingError') and says in message
    assert 'STACK=onedl make setup' in message
    assert "pip install 'mmpoolformer[openmmlab]'" in message


def _import_warnings() -> str:
    """What ``import mmpoolformer`` and then loading our configs' imports
    warn, in a fresh interpreter."""
    script = ('import mmpoolformer, mmpoolformer.safe_loading\n'
              'import importlib; importlib.reload(mmpoolformer)')
    return subprocess.run([sys.executable, '-W', 'default', '-c', script],
                          cwd=REPO, capture_output=True, text=True,
                          check=True,
                          env=dict(os.environ, PYTHONPATH=REPO)).stderr


def test_an_unsafe_host_loader_is_named_once_at_import():
    """Warned on the stack whose loader falls back to unsafe loading, once
    a process; not warned on the other."""
    warned = _import_warnings().count('UnsafeHostLoadingWarning')
    assert warned == (1 if host_loads_refused_files() else 0)


def _unsafe_fallback(load_from_local):
    """``load_from_local`` as onedl-mmengine's: a refused file is loaded
    again with ``weights_only=False``."""
    import pickle

    import torch

    def load(filename, map_location=None):
        try:
            return load_from_local(filename, map_location)
        except pickle.UnpicklingError:
            return torch.load(filename, map_location, weights_only=False)
    return load


@pytest.fixture(params=['this host', 'an unsafe host'])
def host_loader(request, monkeypatch):
    """mmengine's own loader for local files, as installed or as
    onedl-mmengine's falls back."""
    loader = mmengine_checkpoint.load_from_local
    if request.param == 'an unsafe host':
        loader = _unsafe_fallback(loader)
        monkeypatch.setattr(mmengine_checkpoint, 'load_from_local', loader)
    for prefix in ('', 'http://', 'https://'):  # as use_safe_... replaces
        monkeypatch.setitem(CheckpointLoader._schemes, prefix,
                            CheckpointLoader._schemes.get(prefix))
    CheckpointLoader._schemes[''] = loader
    return request.param


def test_safe_loading_refuses_what_the_host_loader_would_run(
        host_loader, tmp_path):
    import torch
    marker = str(tmp_path / 'ran')
    path = str(tmp_path / 'payload.pth')
    torch.save({'state_dict': {}, 'note': WritesMarker(marker)}, path)
    assert host_loads_refused_files() is (
        host_loader == 'an unsafe host' or installed_stack().name == 'onedl')
    if host_loads_refused_files():  # the exposure the docs describe
        CheckpointLoader.load_checkpoint(path)
        assert osp.exists(marker)
        os.remove(marker)
    use_safe_checkpoint_loading()
    with pytest.raises(CheckpointError, match='global exec'):
        CheckpointLoader.load_checkpoint(path)
    assert not osp.exists(marker)


def test_segmentation_bases_load_where_the_scope_names_an_absent_package(
        monkeypatch):
    """OneDL installs mmseg from onedl-mmsegmentation while mmengine looks
    ``mmseg::`` up as mmsegmentation: recreated here by a scope table that
    names an absent distribution. The config loads, by mmseg's module, and
    the table is left as it was."""
    monkeypatch.setitem(MODULE2PACKAGE, 'mmseg', 'no-such-distribution')
    cfg = load_config(SEGMENTATION_BASE)
    assert cfg.model.decode_head.type == 'FPNHead'
    assert MODULE2PACKAGE['mmseg'] == 'no-such-distribution'


class _Batches:
    """A dataloader iterator that counts what it hands out and skips."""

    def __init__(self, skips: bool) -> None:
        self.fetched, self.skipped = 0, 0
        if skips:
            self.skip_iter = self._skip_iter

    def __next__(self):
        self.fetched += 1
        return self.fetched

    def _skip_iter(self, num_iters: int) -> None:
        self.skipped += num_iters


@pytest.mark.parametrize('protocol', ['next', 'skip_iter'])
def test_random_states_are_restored_right_before_the_first_new_batch(
        protocol):
    """Both ways a resumed loop passes over the trained batches: fetching
    them (OpenMMLab's mmengine) or ``skip_iter`` (onedl-mmengine)."""
    import torch
    torch.manual_seed(0)
    saved = capture_random_states()
    expected = torch.rand(1)
    batches = _Batches(skips=protocol == 'skip_iter')
    loop = types.SimpleNamespace(dataloader_iterator=batches)
    wrapper = _RestoreAfterSkip(loop, 3 if protocol == 'next' else 0,
                                saved)
    loop.dataloader_iterator = wrapper
    if protocol == 'next':
        assert [next(wrapper) for _ in range(3)] == [1, 2, 3]
    else:
        wrapper.skip_iter(3)
        assert batches.skipped == 3 and batches.fetched == 0
    torch.rand(5)  # what the skipped batches drew
    first = next(wrapper)
    assert torch.equal(torch.rand(1), expected)
    assert first == batches.fetched
    assert loop.dataloader_iterator is batches  # unwrapped after restoring
