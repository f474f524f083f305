"""Runs are guarded: resume is exact with dropout and drop path on (the
random states travel in the checkpoint), a bare ``--resume`` with nothing
to resume from fails naming the work dir, a weights-only file is no
training checkpoint, and one work dir holds one live training run."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

from mmpoolformer.checkpoints import (atomic_write, load_local_checkpoint,
                                      remove_partial_files, resume_source,
                                      use_safe_checkpoint_loading)
from mmpoolformer.hooks import RandomStatesHook, WorkDirBusyError, WorkDirLock
from tests.tool_support import REPO, run_tool, train_logs

HOLD_LOCK = """
import sys, time
from mmpoolformer.hooks import WorkDirLock
WorkDirLock(sys.argv[1]).acquire()
print('held', flush=True)
time.sleep(300)
"""


def test_resume_with_dropout_and_drop_path_repeats_the_losses_exactly(
        dropout_runs):
    [uninterrupted] = train_logs(dropout_runs['full'])
    first, resumed = train_logs(dropout_runs['interrupted'])
    assert [log['step'] for log in first] == [1, 2, 3, 4]
    assert [log['step'] for log in resumed] == [3, 4, 5, 6]
    for log in resumed:
        expected = uninterrupted[log['step'] - 1]
        assert (log['loss'], log['lr']) == (expected['loss'],
                                            expected['lr']), log['step']


def test_checkpoints_carry_the_random_states_under_weights_only(
        dropout_runs):
    use_safe_checkpoint_loading()
    checkpoint = load_local_checkpoint(
        osp.join(dropout_runs['full'], 'iter_6.pth'))
    [states] = checkpoint['random_states']  # one per rank
    assert set(states) >= {'torch', 'numpy', 'python'}
    assert states['numpy']['keys'].shape == (624, )


def test_fresh_start_is_asked_for_and_logged(dropout_runs):
    assert (f"Nothing to resume from in {dropout_runs['full']}: starting "
            'from iteration 0') in dropout_runs['fresh_log']


def test_bare_resume_with_nothing_to_resume_names_the_work_dir(
        dropout_runs, tmp_path):
    mistyped = str(tmp_path / 'work_dirs' / 'mistyped')
    result = run_tool('train.py', dropout_runs['config'], '--work-dir',
                      mistyped, '--resume', check=False)
    assert result.returncode != 0
    assert f'Nothing to resume from in {mistyped}' in result.stderr
    assert '--allow-fresh-start' in result.stderr
    assert not [f for f in os.listdir(mistyped) if f.endswith('.pth')]


def test_last_checkpoint_naming_a_missing_file_is_reported(tmp_path):
    atomic_write(tmp_path / 'last_checkpoint', b'/gone/iter_8.pth')
    with pytest.raises(FileNotFoundError, match='names /gone/iter_8.pth'):
        resume_source(str(tmp_path))


def test_resume_from_a_weights_only_file_says_what_to_use(dropout_runs,
                                                          tmp_path):
    use_safe_checkpoint_loading()
    weights = str(tmp_path / 'weights.pth')
    torch.save(load_local_checkpoint(osp.join(
        dropout_runs['full'], 'iter_6.pth'))['state_dict'], weights)
    result = run_tool('train.py', dropout_runs['config'], '--work-dir',
                      str(tmp_path / 'work'), '--resume', weights,
                      check=False)
    assert result.returncode != 0
    assert f'{weights} cannot be resumed from: it holds weights only' \
        in result.stderr
    assert f'load_from={weights}' in result.stderr
    assert "KeyError: 'meta'" not in result.stderr


def test_second_run_in_a_held_work_dir_is_refused(dropout_runs, tmp_path):
    work_dir = str(tmp_path / 'work')
    holder = subprocess.Popen(
        [sys.executable, '-c', HOLD_LOCK, work_dir], cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO), stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        # A checkpoint the live run is writing at this moment.
        in_flight = osp.join(work_dir, f'.iter_2.pth.{holder.pid}.x1.tmp')
        open(in_flight, 'wb').close()
        result = run_tool('train.py', dropout_runs['config'], '--work-dir',
                          work_dir, check=False)
        assert result.returncode != 0
        assert f'{work_dir} is in use by another run that is still alive ' \
            f'(pid {holder.pid}' in result.stderr
        assert osp.exists(in_flight)
        assert not osp.exists(osp.join(work_dir, 'iter_2.pth'))
        # Refused before the Runner wrote its log folder or config copy.
        assert sorted(os.listdir(work_dir)) == sorted(
            ['.run.lock', osp.basename(in_flight)])
    finally:
        holder.kill()
        holder.wait()
    WorkDirLock(work_dir).acquire()  # a killed holder leaves no lock


def test_lock_of_a_sigkilled_run_is_released(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, '-c', HOLD_LOCK, str(tmp_path)], cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO), stdout=subprocess.PIPE,
        text=True)
    assert holder.stdout.readline() == 'held\n'
    with pytest.raises(WorkDirBusyError, match=f'pid {holder.pid}'):
        WorkDirLock(str(tmp_path)).acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    lock = WorkDirLock(str(tmp_path))
    lock.acquire()
    lock.release()


def test_clean_up_spares_the_files_of_live_writers(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', ''])
    dead.wait()
    live = subprocess.Popen([sys.executable, '-c', 'input()'],
                            stdin=subprocess.PIPE)
    try:
        names = {pid: tmp_path / f'.iter_4.pth.{pid}.abc_1234.tmp'
                 for pid in (dead.pid, live.pid, os.getpid())}
        for path in names.values():
            path.write_bytes(b'half')
        removed = remove_partial_files(str(tmp_path))
        assert sorted(removed) == sorted(
            str(names[pid]) for pid in (dead.pid, os.getpid()))
        assert names[live.pid].exists()
    finally:
        live.kill()
        live.wait()


def test_validation_leaves_the_random_states_as_they_were():
    hook = RandomStatesHook()
    before = torch.get_rng_state()
    hook.before_val(runner=None)
    torch.rand(10)
    hook.after_val(runner=None)
    assert torch.equal(torch.get_rng_state(), before)
