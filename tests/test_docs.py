"""The documentation holds to the code: every tool command shown in the
README and the docs parses with that tool's own parser, every docs page and
heading an error message cites exists, the README stays a short front door,
and speed figures appear only on the benchmarks page."""
import glob
import os.path as osp
import re
import shlex
from typing import Iterator, List, Tuple

import pytest

from mmpoolformer.testing import load_tool
from tests.tool_support import REPO

DOCS = osp.join(REPO, 'docs')
# Rendered benchmark tables are the benchmarks page's, not written pages.
PAGES = sorted(p for p in glob.glob(osp.join(DOCS, '**', '*.md'),
                                    recursive=True)
               if not p.startswith((osp.join(DOCS, '_build'),
                                    osp.join(DOCS, 'benchmarks') + osp.sep)))
TEXTS = [osp.join(REPO, 'README.md'), *PAGES]
SHELL_BLOCK = re.compile(r'^```(?:bash|shell|console)\n(.*?)^```', re.M | re.S)
HEADING = re.compile(r'^#{1,6} +(.+?) *$', re.M)
# "docs/user_guides/data.md, 'Data'": a page and one of its headings.
CITED_HEADING = re.compile(r"docs/([\w/]+\.md), '([^']+)'")
CITED_PAGE = re.compile(r'docs/[\w/]+\.md')
# A speed figure: a time, a rate or a speed-up ("1x schedule" is none).
SPEED = re.compile(r'\d(?:[\d.,]*\d)? ?(?:ms|min|minutes|seconds|img/s|'
                   r'GFLOP/s)\b|\d\.\d+ ?x\b')


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def tool_commands(path: str) -> Iterator[Tuple[str, List[str]]]:
    """``(tool path, arguments)`` of each ``python tools/...py`` command in
    the shell blocks of ``path``, continuation lines joined."""
    for block in SHELL_BLOCK.findall(read(path)):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line, comments=True)
            for i, word in enumerate(words[1:], 1):
                if (words[i - 1].endswith('python')
                        and re.fullmatch(r'tools/[\w/]+\.py', word)):
                    yield word, words[i + 1:]


COMMANDS = [(osp.relpath(path, REPO), tool, args)
            for path in TEXTS for tool, args in tool_commands(path)]


def test_commands_are_found_in_readme_and_docs():
    shown = {tool for _, tool, _ in COMMANDS}
    assert {'tools/train.py', 'tools/test.py', 'tools/demo.py',
            'tools/deployment/pytorch2onnx.py'} <= shown
    assert any(text == 'README.md' for text, _, _ in COMMANDS)


@pytest.mark.parametrize('text, tool, args', COMMANDS,
                         ids=[f'{t}:{c}' for t, c, _ in COMMANDS])
def test_tool_command_parses(text, tool, args):
    assert osp.isfile(osp.join(REPO, tool)), f'{text}: {tool} does not exist'
    module = load_tool(osp.relpath(tool, 'tools'))
    # A tool without build_parser() parses through its parse_args(argv).
    parse = (module.build_parser().parse_args
             if hasattr(module, 'build_parser') else module.parse_args)
    try:
        parse(args)
    except SystemExit as exit:
        assert exit.code == 0, (
            f'{text}: `python {tool} {shlex.join(args)}` does not parse with '
            f"the tool's parser (see the usage error above)")


def test_every_tool_is_in_the_tools_reference():
    reference = read(osp.join(DOCS, 'tools.md'))
    listed = set(re.findall(r':ref: tool_parsers\.(\w+)', reference))
    scripts = [p for folder in ('tools', 'tools/deployment')
               for p in glob.glob(osp.join(REPO, folder, '*.py'))]
    for script in scripts:
        name = osp.splitext(osp.relpath(script, osp.join(REPO, 'tools')))[0]
        assert name.replace(osp.sep, '__') in listed, f'{name} not listed'
    for name in listed:
        assert callable(load_tool(name.replace('__', '/') + '.py')
                        .build_parser)


def code_texts() -> Iterator[Tuple[str, str]]:
    """``(path, text)`` of the package's, the tools' and the configs'
    files, where error messages and comments cite the docs."""
    for folder in ('mmpoolformer', 'tools', 'configs'):
        for path in sorted(glob.glob(osp.join(REPO, folder, '**', '*'),
                                     recursive=True)):
            if path.endswith(('.py', '.sh')):
                yield osp.relpath(path, REPO), read(path)


def test_headings_cited_by_error_messages_exist():
    citations = [(source, *match) for source, text in code_texts()
                 for match in CITED_HEADING.findall(text)]
    assert ('mmpoolformer/config_checks/data_roots.py',
            'user_guides/data.md', 'Data') in citations
    for source, page, heading in citations:
        path = osp.join(DOCS, page)
        assert osp.isfile(path), f'{source} cites {page}, which is missing'
        assert heading in HEADING.findall(read(path)), (
            f"{source} cites heading '{heading}' of docs/{page}, which has "
            f'no such heading')


# Written by ``make docs`` (tools/analysis/render_benchmarks.py), not kept.
GENERATED_PAGES = ('docs/benchmarks/generated.md', )


def test_docs_pages_cited_in_code_exist():
    citations = [(source, page) for source, text in code_texts()
                 for page in CITED_PAGE.findall(text)]
    assert ('tools/setup_env.sh', 'docs/get_started.md') in citations
    for source, page in citations:
        if page in GENERATED_PAGES:
            continue
        assert osp.isfile(osp.join(REPO, page)), f'{source} cites {page}'


def slug(heading: str) -> str:
    """The anchor MyST and GitHub give a heading."""
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def test_readme_links_into_the_docs_resolve():
    links = re.findall(r'\]\((docs/[^)#]+)(?:#([^)]+))?\)',
                       read(osp.join(REPO, 'README.md')))
    assert len(links) >= 10
    for page, anchor in links:
        path = osp.join(REPO, page)
        assert osp.isfile(path), f'README links to {page}, which is missing'
        if anchor:
            anchors = {slug(h) for h in HEADING.findall(read(path))}
            assert anchor in anchors, f'README links to {page}#{anchor}'


def test_readme_is_a_short_front_door():
    text = read(osp.join(REPO, 'README.md'))
    assert len(text.splitlines()) <= 150
    headings = HEADING.findall(text)
    for heading in ('Install', 'Quick start', 'Model zoo', 'Citation',
                    'License'):
        assert heading in headings
    assert headings.index('Install') < headings.index('Quick start')
    first_block = SHELL_BLOCK.search(text).group(1)
    assert first_block.split()[:2] == ['make', 'demo']
    assert 'make test' in first_block
    for command in ('make lint', 'make test', 'make docs'):
        assert command in text
    for arxiv in ('2111.11418', '2210.13452'):
        assert arxiv in text


def test_speed_figures_only_on_the_benchmarks_page():
    for path in TEXTS:
        if osp.basename(path) == 'benchmarks.md':
            continue
        # Code blocks show commands and configs, not measurements.
        prose = re.sub(r'^```.*?^```', '', read(path), flags=re.M | re.S)
        found = SPEED.findall(prose)
        assert not found, f'{osp.relpath(path, REPO)} quotes {found}'


def test_pages_are_task_sized():
    # The model zoo page is generated from the metafiles: as long as they.
    for path in (p for p in PAGES if osp.basename(p) != 'model_zoo.md'):
        lines = len(read(path).splitlines())
        assert lines <= 180, f'{osp.relpath(path, REPO)}: {lines} lines'
