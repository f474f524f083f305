"""Distributed training and testing on machines without a GPU.

mmengine's ``init_dist`` pins a CUDA device before creating the process
group, its default DDP wrapper passes ``device_ids=[LOCAL_RANK]``, and
SyncBN only runs on GPUs; all three fail on CPU. On a machine without CUDA
we start the process group with gloo ourselves (mmengine's Runner then finds
it initialised), wrap the model without device ids, and use plain BN whose
buffers DDP broadcasts from rank 0, so the ranks hold one model. With CUDA
nothing changes.
"""
import os
import subprocess
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN')


def _slurm_env() -> None:
    """``RANK``/``WORLD_SIZE``/``MASTER_*`` from srun's variables, as
    mmengine derives them."""
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def _mpi_env() -> None:
    """The same from Open MPI's variables; MASTER_ADDR must be given."""
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('--launcher mpi needs MASTER_ADDR in the environment')
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']


LAUNCHER_ENV = {'slurm': _slurm_env, 'mpi': _mpi_env}


def revert_sync_bn(node: Any) -> int:
    """Turn every SyncBN ``norm_cfg`` below ``node`` into BN, in place;
    return how many there were."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') in SYNC_BN_TYPES:
            node['type'] = 'BN'
            count += 1
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return 0
    return count + sum(revert_sync_bn(child) for child in children)


def setup_cpu_distributed(cfg: Config) -> bool:
    """For ``cfg.launcher`` other than ``'none'`` on a machine without
    CUDA: use gloo, create the process group and make the Runner wrap the
    model in DDP without device ids. Return whether it did so."""
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if revert_sync_bn(cfg.model):
        print_log('SyncBN needs GPUs: on CPU each process normalises its own '
                  'batch (BN); DDP broadcasts the BN statistics of rank 0 '
                  'before every training step.', logger='current')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=True,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        if launcher in LAUNCHER_ENV:  # torchrun ('pytorch') sets it itself
            LAUNCHER_ENV[launcher]()
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if 'timeout' in kwargs:  # seconds in configs, as for mmengine
            kwargs['timeout'] = timedelta(seconds=kwargs['timeout'])
        torch_dist.init_process_group(backend='gloo', **kwargs)
    return True
