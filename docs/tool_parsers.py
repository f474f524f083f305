"""The tools' argument parsers for sphinx-argparse: ``:ref:
tool_parsers.<name>`` builds the parser of ``tools/<name>.py``, with ``__``
for a folder separator (``deployment__test`` is ``tools/deployment/test.py``).
Each tool is a script, loaded by its path as the tests load it."""
import argparse
import re
from typing import Callable

from mmpoolformer.testing import load_tool

# sphinx-argparse reads help texts as reStructuredText; the tools write
# plain text, in which a glob's '*' would open an emphasis.
RST_MARKUP = re.compile(r'([\\*`|])')


def as_rst(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` with its help texts' reStructuredText markup escaped."""
    for action in parser._actions:
        if action.help:
            action.help = RST_MARKUP.sub(r'\\\1', action.help)
    return parser


def __getattr__(name: str) -> Callable[[], argparse.ArgumentParser]:
    if name.startswith('_'):
        raise AttributeError(name)
    tool = load_tool(name.replace('__', '/') + '.py')
    return lambda: as_rst(tool.build_parser())
