import json
import os
import sys
from typing import Callable

import pytest
import torch
from filelock import FileLock

# Tests import the reference transcription as ``tests.reference_poolformer``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_configure(config):
    """Under pytest-xdist (``make test`` runs ``pytest -n auto``), each
    worker's torch takes its share of the cores rather than all of them:
    two workers on two cores at two threads each would oversubscribe them.
    The tools the tests start run on one thread already."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 1))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def shared_run(tmp_path_factory, name: str,
               make: Callable[[str], dict]) -> dict:
    """``make(folder)``, a session's training run, made once per session:
    under pytest-xdist the first worker to ask makes it, in the folder the
    workers share, and the others wait for it and read what it returned
    (pytest-xdist's pattern for a session fixture that runs once)."""
    if 'PYTEST_XDIST_WORKER' not in os.environ:
        return make(str(tmp_path_factory.mktemp(name)))
    shared = tmp_path_factory.getbasetemp().parent
    result = shared / f'{name}.json'
    with FileLock(f'{result}.lock'):
        if not result.is_file():
            folder = shared / name
            folder.mkdir()
            result.write_text(json.dumps(make(str(folder))))
        return json.loads(result.read_text())


@pytest.fixture(scope='session')
def tiny_detector_run(tmp_path_factory):
    """A tiny RetinaNet trained for two iterations (tests/tiny_runs.py)."""
    from tests.tiny_runs import TinyRun, train
    return TinyRun(**shared_run(
        tmp_path_factory, 'tiny_detector',
        lambda folder: train(folder, 'detection')._asdict()))


@pytest.fixture(scope='session')
def tiny_segmentor_run(tmp_path_factory):
    """A tiny Semantic FPN trained for two iterations with
    ``--auto-scale-lr``, validation and TensorBoard (tests/tiny_runs.py)."""
    from tests.tiny_runs import TinyRun, train
    return TinyRun(**shared_run(
        tmp_path_factory, 'tiny_segmentor',
        lambda folder: train(folder, 'segmentation')._asdict()))


@pytest.fixture(scope='session')
def dropout_runs(tmp_path_factory):
    """One shared set of tiny training runs (see
    :func:`tests.tool_runs.dropout_runs`)."""
    from tests.tool_runs import dropout_runs
    return shared_run(tmp_path_factory, 'dropout_runs', dropout_runs)
