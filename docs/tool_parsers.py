"""The tools' argument parsers for sphinx-argparse: ``:ref:
tool_parsers.<name>`` is ``build_parser`` of ``tools/<name>.py``, with
``__`` for a folder separator (``deployment__test`` is
``tools/deployment/test.py``). Each tool is a script, loaded by its path
as the tests load it."""
from typing import Callable

from mmpoolformer.testing import load_tool


def __getattr__(name: str) -> Callable:
    if name.startswith('_'):
        raise AttributeError(name)
    return load_tool(name.replace('__', '/') + '.py').build_parser
