import os
import sys

import pytest

# Tests import the reference transcription as ``tests.reference_poolformer``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='session')
def dropout_runs(tmp_path_factory):
    """One shared set of tiny training runs (see
    :func:`tests.tool_runs.dropout_runs`)."""
    from tests.tool_runs import dropout_runs
    return dropout_runs(str(tmp_path_factory.mktemp('dropout_runs')))
