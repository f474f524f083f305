"""A run killed with SIGKILL while writing a checkpoint resumes with
``--resume`` from the last complete one and continues exactly as a run that
was never interrupted; checkpoints are written atomically and load under
torch's ``weights_only=True``."""
import glob
import os
import os.path as osp

import pytest
import torch

from mmpoolformer.checkpoints import (atomic_write, load_local_checkpoint,
                                      remove_partial_files,
                                      use_safe_checkpoint_loading)
from tests.tiny_data import write_tiny_coco
from tests.tool_support import DETECTION, run_tool, train_logs, write_config

KILL = """
custom_imports = dict(imports=['mmpoolformer', 'tests.tool_hooks'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='KillWhileSaving', at=6)]
"""


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """8 iterations (checkpoints every 2, keeping 1) uninterrupted; the same
    killed while writing the checkpoint of iteration 6, then resumed."""
    tmp = tmp_path_factory.mktemp('resume')
    root = write_tiny_coco(str(tmp / 'coco')) + '/'
    config = write_config(str(tmp / 'tiny.py'), DETECTION, root, iters=8)
    killed = write_config(str(tmp / 'killed.py'), DETECTION, root, iters=8,
                          extra=KILL)
    full, interrupted = str(tmp / 'full'), str(tmp / 'interrupted')
    run_tool('train.py', config, '--work-dir', full)
    crash = run_tool('train.py', killed, '--work-dir', interrupted,
                     check=False)
    after_crash = dict(
        returncode=crash.returncode, files=sorted(os.listdir(interrupted)),
        last=open(osp.join(interrupted, 'last_checkpoint')).read())
    run_tool('train.py', config, '--work-dir', interrupted, '--resume')
    return full, interrupted, after_crash


def test_kill_while_saving_leaves_the_previous_checkpoint(runs):
    _, interrupted, after_crash = runs
    assert after_crash['returncode'] == -9  # SIGKILL
    files = after_crash['files']
    # Killed halfway through writing iteration 6: only a hidden partial file.
    assert [f for f in files if f.startswith('.iter_6.pth.')], files
    assert 'iter_6.pth' not in files
    assert after_crash['last'] == osp.join(interrupted, 'iter_4.pth')
    assert 'iter_4.pth' in files  # kept although max_keep_ckpts=1


def test_resume_continues_as_if_never_interrupted(runs):
    full, interrupted, _ = runs
    [uninterrupted] = train_logs(full)
    first, resumed = train_logs(interrupted)
    assert [log['step'] for log in first] == [1, 2, 3, 4, 5, 6]
    assert [log['step'] for log in resumed] == [5, 6, 7, 8]
    for log in resumed:  # same data, weights, optimizer and lr schedule
        expected = uninterrupted[log['step'] - 1]
        for key in ('loss', 'loss_cls', 'loss_bbox', 'lr'):
            assert log[key] == pytest.approx(expected[key], rel=1e-6), key


def test_resumed_model_and_optimizer_equal_uninterrupted_ones(runs):
    full, interrupted, _ = runs
    use_safe_checkpoint_loading()  # as the tools do: weights_only=True
    a, b = (load_local_checkpoint(osp.join(d, 'iter_8.pth'))
            for d in (full, interrupted))
    assert a['meta']['iter'] == b['meta']['iter'] == 8
    for key, value in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][key], value,
                                   rtol=1e-5, atol=1e-7)
    for key in ('step', 'exp_avg', 'exp_avg_sq'):
        for i, state in a['optimizer']['state'].items():
            torch.testing.assert_close(b['optimizer']['state'][i][key],
                                       state[key], rtol=1e-5, atol=1e-7)
    assert a['param_schedulers'] == b['param_schedulers']
    # The resumed run removed the partial file and kept one checkpoint.
    assert sorted(f for f in os.listdir(interrupted) if 'iter_' in f) == [
        'iter_8.pth']


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    atomic_write(target, b'complete checkpoint')

    def disk_full(fd):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError, match='No space'):
        atomic_write(target, b'new checkpoint that does not fit')
    assert target.read_bytes() == b'complete checkpoint'
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_partial_files_of_killed_writes_are_found_and_removed(tmp_path):
    (tmp_path / '.iter_6.pth.abc123.tmp').write_bytes(b'half')
    (tmp_path / 'iter_4.pth').write_bytes(b'complete')
    assert remove_partial_files(str(tmp_path)) == [
        str(tmp_path / '.iter_6.pth.abc123.tmp')]
    assert glob.glob(str(tmp_path / '*')) == [str(tmp_path / 'iter_4.pth')]
