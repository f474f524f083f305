"""The Python examples of the README and the docs run. Every ``python``
block runs, in order, in one namespace per page; a block that needs what a
test cannot have (a GPU, a trained checkpoint) is marked on the page with
``% skip: next "reason"``, which the rendered page does not show."""
import glob
import os.path as osp
import unittest
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser

from tests.tool_support import REPO

PAGES = sorted(
    [osp.join(REPO, 'README.md'),
     *glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True)])
PAGES = [p for p in PAGES if '_build' not in p.split(osp.sep)]
SYBIL = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()])


@pytest.mark.parametrize('page', PAGES,
                         ids=[osp.relpath(p, REPO) for p in PAGES])
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes, writes here
    for example in SYBIL.parse(Path(page)).examples():
        try:
            example.evaluate()  # an example that fails raises here
        except unittest.SkipTest:
            continue  # marked on the page, with its reason


def test_examples_are_found_and_some_run():
    examples = {page: list(SYBIL.parse(Path(page)).examples())
                for page in PAGES}
    get_started = osp.join(REPO, 'docs', 'get_started.md')
    assert len(examples[get_started]) >= 2
    assert sum(map(len, examples.values())) >= 20
