"""tools/dist_train.sh and dist_test.sh run two processes on a CPU-only
machine (gloo) that train one model and test it together, and a
two-process run killed and resumed repeats the uninterrupted run's losses
exactly."""
import os
import os.path as osp
import socket

import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmpoolformer.checkpoints import (load_local_checkpoint,
                                      use_safe_checkpoint_loading)
from mmpoolformer.cli.distributed import revert_sync_bn
from mmpoolformer.libraries import load_config
from tests.tiny_data import write_tiny_ade
from tests.tool_runs import DROPOUT_ON, KILLED_AT_4
from tests.tool_support import SEGMENTATION, run_tool, train_logs, write_config

SAVE_RANKS = """
custom_imports = dict(imports=['mmpoolformer', 'tests.tool_hooks'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SaveRankState')]
"""


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def build_model(config: str) -> torch.nn.Module:
    init_default_scope('mmseg')
    return MODELS.build(load_config(config).model)


def test_two_cpu_processes_train_and_test_one_model(tmp_path, monkeypatch):
    root = write_tiny_ade(str(tmp_path / 'ade'))
    # The segmentation config uses SyncBN, which only runs on GPUs.
    config = write_config(str(tmp_path / 'tiny.py'), SEGMENTATION, root,
                          iters=4, interval=4, extra=SAVE_RANKS)
    work_dir = str(tmp_path / 'work')
    monkeypatch.setenv('PORT', free_port())
    result = run_tool('dist_train.sh', config, '2', '--work-dir', work_dir)

    use_safe_checkpoint_loading()
    [logs] = train_logs(work_dir)
    assert [log['step'] for log in logs] == [1, 2, 3, 4]
    assert 'SyncBN needs GPUs' in result.stdout + result.stderr
    # Both ranks trained the same parameters; rank 0's model was saved.
    states = [torch.load(osp.join(work_dir, f'rank{r}_state.pth'))
              for r in (0, 1)]
    saved = load_local_checkpoint(osp.join(work_dir, 'iter_4.pth'))
    assert len(saved['random_states']) == 2  # every rank's, for resume
    checkpoint = saved['state_dict']
    assert states[0].keys() == states[1].keys() == checkpoint.keys()
    for key, value in states[0].items():
        assert torch.equal(checkpoint[key], value), key
    parameters = dict(build_model(config).named_parameters())
    assert len(parameters) > 10
    for key in parameters:
        assert torch.equal(states[1][key], states[0][key]), key
    assert [f for f in os.listdir(work_dir) if f.endswith('.pth')
            and not f.startswith('rank')] == ['iter_4.pth']

    out = str(tmp_path / 'predictions.pkl')
    run_tool('dist_test.sh', config, osp.join(work_dir, 'iter_4.pth'), '2',
             '--work-dir', work_dir, '--out', out)
    assert osp.getsize(out) > 0


def test_two_processes_killed_and_resumed_repeat_the_losses_exactly(
        tmp_path, monkeypatch):
    """Dropout, drop path and the random augmentations on; rank 0 is
    SIGKILLed while saving iteration 4, torchrun ends rank 1, and the
    resumed pair trains iterations 5 and 6 as the uninterrupted pair did:
    every rank's random states reach each checkpoint, gathered only when
    one is saved."""
    root = write_tiny_ade(str(tmp_path / 'ade')) + '/'
    config = write_config(str(tmp_path / 'tiny.py'), SEGMENTATION, root,
                          iters=6, extra=DROPOUT_ON)
    killed = write_config(str(tmp_path / 'killed.py'), SEGMENTATION, root,
                          iters=6, extra=KILLED_AT_4)
    full, interrupted = str(tmp_path / 'full'), str(tmp_path / 'cut')
    for args in ([config, '2', '--work-dir', full],
                 [killed, '2', '--work-dir', interrupted],
                 [config, '2', '--work-dir', interrupted, '--resume']):
        monkeypatch.setenv('PORT', free_port())
        run_tool('dist_train.sh', *args, check=args[0] != killed)
    [uninterrupted] = train_logs(full)
    first, resumed = train_logs(interrupted)
    assert [log['step'] for log in first] == [1, 2, 3, 4]
    assert [log['step'] for log in resumed] == [3, 4, 5, 6]
    use_safe_checkpoint_loading()
    saved = load_local_checkpoint(osp.join(interrupted, 'iter_6.pth'))
    assert len(saved['random_states']) == 2
    for log in resumed:
        expected = uninterrupted[log['step'] - 1]
        assert (log['loss'], log['lr']) == (expected['loss'],
                                            expected['lr']), log['step']


FAKE_SRUN = """#!/usr/bin/env bash
# srun for one task on this machine: drop srun's options, set its variables.
while [[ $1 == -* ]]; do [[ $1 == -p ]] && shift; shift; done
SLURM_PROCID=0 SLURM_NTASKS=1 SLURM_LOCALID=0 SLURM_NODELIST=localhost \\
    exec "$@"
"""


def test_slurm_train_runs_on_cpu(tmp_path, monkeypatch):
    """tools/slurm_train.sh, under an srun that starts one local task."""
    srun = tmp_path / 'bin' / 'srun'
    srun.parent.mkdir()
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    monkeypatch.setenv('PATH', f'{srun.parent}:{os.environ["PATH"]}')
    for name, value in dict(GPUS='1', GPUS_PER_NODE='1',
                            MASTER_ADDR='127.0.0.1',
                            MASTER_PORT=free_port()).items():
        monkeypatch.setenv(name, value)
    root = write_tiny_ade(str(tmp_path / 'ade'))
    config = write_config(str(tmp_path / 'tiny.py'), SEGMENTATION, root,
                          iters=1, interval=1)
    work_dir = str(tmp_path / 'work')
    result = run_tool('slurm_train.sh', 'partition', 'job', config,
                      work_dir)
    assert 'Distributed launcher: slurm' in result.stdout + result.stderr
    assert [log['step'] for log in train_logs(work_dir)[0]] == [1]
    assert osp.isfile(osp.join(work_dir, 'iter_1.pth'))


def test_sync_bn_becomes_bn_everywhere_in_a_model_config():
    model = dict(norm_cfg=dict(type='SyncBN', requires_grad=True),
                 heads=[dict(norm_cfg=dict(type='MMSyncBN')),
                        dict(norm_cfg=dict(type='GN', num_groups=4))])
    assert revert_sync_bn(model) == 2
    assert model['norm_cfg']['type'] == 'BN'
    assert [h['norm_cfg']['type'] for h in model['heads']] == ['BN', 'GN']
