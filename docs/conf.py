"""Sphinx configuration of the mmpoolformer documentation (``make docs``)."""
import os.path as osp
import sys

DOCS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(DOCS)
sys.path[:0] = [REPO, DOCS]  # the package, and tool_parsers for the tools

from mmpoolformer.version import __version__  # noqa: E402

project = 'mmpoolformer'
author = 'mmpoolformer contributors'
copyright = 'mmpoolformer contributors, Apache License 2.0'
release = version = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'sphinxarg.ext',
]
myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 3
# Curly quotes, but '--flag' stays two hyphens (no en dash).
smartquotes_action = 'qe'
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
exclude_patterns = ['_build', 'benchmarks/*.md']

html_theme = 'furo'
html_title = f'mmpoolformer {version}'
html_static_path = ['_static']

autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'

# Benchmark results are rendered into benchmarks/generated.md by
# tools/analysis/render_benchmarks.py (``make docs`` runs it first); its
# pictures are linked relative to it, beside it in benchmarks/.
BENCHMARK_TABLES = osp.join(DOCS, 'benchmarks', 'generated.md')


def _benchmarks_not_rendered(app, docname, source):
    """Without rendered results the benchmarks page says how to make them,
    instead of failing on the missing include."""
    if docname == 'benchmarks' and not osp.exists(BENCHMARK_TABLES):
        source[0] = source[0].replace(
            '```{include} benchmarks/generated.md\n:relative-images:\n```',
            'No results are rendered in this checkout: run '
            '`python tools/analysis/render_benchmarks.py` (or `make docs`).')


def setup(app):
    app.connect('source-read', _benchmarks_not_rendered)
