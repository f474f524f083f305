import os
import sys

import pytest

# Tests import the reference transcription as ``tests.reference_poolformer``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='session')
def tiny_detector_run(tmp_path_factory):
    """A tiny RetinaNet trained for two iterations (tests/tiny_runs.py)."""
    from tests.tiny_runs import train
    return train(str(tmp_path_factory.mktemp('tiny_detector')), 'detection')


@pytest.fixture(scope='session')
def tiny_segmentor_run(tmp_path_factory):
    """A tiny Semantic FPN trained for two iterations with
    ``--auto-scale-lr``, validation and TensorBoard (tests/tiny_runs.py)."""
    from tests.tiny_runs import train
    return train(str(tmp_path_factory.mktemp('tiny_segmentor')),
                 'segmentation')


@pytest.fixture(scope='session')
def dropout_runs(tmp_path_factory):
    """One shared set of tiny training runs (see
    :func:`tests.tool_runs.dropout_runs`)."""
    from tests.tool_runs import dropout_runs
    return dropout_runs(str(tmp_path_factory.mktemp('dropout_runs')))
