"""The model-zoo pages (each config folder's README, docs/model_zoo.md):
current with the metafiles, holding every config, with links that lead
to files; ``gen_model_zoo.py --check`` names a stale page and the
command that regenerates it."""
import os
import os.path as osp
import re
import shutil

import pytest
import yaml

from mmpoolformer.model_zoo.metafiles import load_metafiles
from mmpoolformer.model_zoo.readmes import (MODEL_ZOO_PAGE, REGENERATE,
                                            render_pages, write_pages)
from mmpoolformer.testing import load_tool
from tests.tool_support import REPO

PAGES = render_pages(REPO)
METAFILES = load_metafiles(osp.join(REPO, 'model-index.yml'))
LINK = re.compile(r'\]\(([^)\s]+)\)')


def linked_files(page: str) -> set:
    """The repository files the page ``page`` links to (not URLs), as
    paths relative to the repository."""
    return {osp.normpath(osp.join(osp.dirname(page), target))
            for target in LINK.findall(PAGES[page])
            if not target.startswith(('http://', 'https://'))}


def test_pages_are_current(tmp_path):
    written = write_pages(PAGES, str(tmp_path))
    assert len(written) == len(PAGES) == 3
    for path in PAGES:
        with open(osp.join(tmp_path, path), encoding='utf-8') as f:
            regenerated = f.read()
        current = osp.join(REPO, path)
        assert osp.isfile(current), f'{path} is missing: run {REGENERATE}'
        with open(current, encoding='utf-8') as f:
            assert f.read() == regenerated, (
                f'{path} is stale: run {REGENERATE}')


def test_each_collection_names_its_folder_readme():
    for metafile, content in METAFILES.items():
        for collection in content['Collections']:
            assert collection['README'] == osp.join(
                osp.dirname(metafile), 'README.md')
            assert collection['README'] in PAGES


def test_tables_hold_every_config():
    configs = {readme: set() for readme in PAGES}
    for content in METAFILES.values():
        readmes = {c['Name']: c['README'] for c in content['Collections']}
        for model in content['Models']:
            configs[readmes[model['In Collection']]].add(model['Config'])
            configs[MODEL_ZOO_PAGE].add(model['Config'])
    for page, expected in configs.items():
        linked = {path for path in linked_files(page)
                  if path.endswith('.py')}
        assert linked == expected, page
    assert len(configs[MODEL_ZOO_PAGE]) == sum(
        len(content['Models']) for content in METAFILES.values())


def test_every_link_to_a_file_exists():
    for page in PAGES:
        links = linked_files(page)
        assert links, page
        for path in links:
            assert osp.isfile(osp.join(REPO, path)), f'{page} links {path}'
    zoo = PAGES[MODEL_ZOO_PAGE]
    for readme in ('configs/detection/README.md',
                   'configs/segmentation/README.md'):
        assert f'`{readme}`' in zoo and osp.isfile(osp.join(REPO, readme))


def test_rows_and_citations_come_from_the_metafiles():
    readme = PAGES['configs/detection/README.md']
    assert ('| mask_rcnn_poolformer_s12 | PoolFormer-S12 | 31.6 | 140.0 '
            '(800x1280, without the RoI heads) | 37.3 | '
            '[config](mask_rcnn_poolformer_s12.py) | [poolformer_s12.pth.tar]'
            '(https://github.com/sail-sg/poolformer/releases/download/v1.0/'
            'poolformer_s12.pth.tar) | [model](https://drive.google.com/file/'
            'd/1-GSkqaS3SovfCVDsH8CzS1DikPX3cFTY/view?usp=sharing) |'
            in readme)
    # A null metric (no published figure) and no trained weights: '-'.
    assert ('| upernet_caformer_s18 | CAFormer-S18 | 53.7 | 237.4 (512x512) '
            '| - | [config](upernet_caformer_s18.py) |'
            in PAGES['configs/segmentation/README.md'])
    for path in ('configs/detection/README.md',
                 'configs/segmentation/README.md'):
        for key in ('@inproceedings{yu2022metaformer',
                    '@article{yu2024metaformer'):
            assert PAGES[path].count(key) == 1, (path, key)


def repository_copy(target: str) -> str:
    """What the pages are generated from: the model index and its
    metafiles, in a copy of the repository's layout."""
    shutil.copy(osp.join(REPO, 'model-index.yml'), target)
    for metafile in METAFILES:
        os.makedirs(osp.join(target, osp.dirname(metafile)), exist_ok=True)
        shutil.copy(osp.join(REPO, metafile), osp.join(target, metafile))
    return target


def test_check_names_the_stale_page_and_the_command(tmp_path, capsys):
    tool = load_tool('misc/gen_model_zoo.py')
    root = repository_copy(str(tmp_path))
    assert tool.main(['--root', root]) == 0
    assert tool.main(['--root', root, '--check']) == 0
    metafile = osp.join(root, 'configs', 'detection', 'metafile.yml')
    with open(metafile, encoding='utf-8') as f:
        text = f.read()
    with open(metafile, 'w', encoding='utf-8') as f:
        f.write(text.replace('box AP: 36.2', 'box AP: 36.3'))
    os.remove(osp.join(root, MODEL_ZOO_PAGE))
    capsys.readouterr()
    assert tool.main(['--root', root, '--check']) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f'{osp.join(root, path)} is stale or missing; regenerate it with: '
        f'{REGENERATE}'
        for path in ('configs/detection/README.md', MODEL_ZOO_PAGE)]


def test_a_readme_outside_the_metafiles_folder_is_refused(tmp_path):
    root = repository_copy(str(tmp_path))
    metafile = osp.join(root, 'configs', 'segmentation', 'metafile.yml')
    with open(metafile, encoding='utf-8') as f:
        content = yaml.safe_load(f)
    content['Collections'][0]['README'] = 'README.md'
    with open(metafile, 'w', encoding='utf-8') as f:
        yaml.safe_dump(content, f)
    name = content['Collections'][0]['Name']
    with pytest.raises(ValueError, match=(
            f"configs/segmentation/metafile.yml: collection '{name}' has "
            "README: 'README.md'; name the README of its folder, e.g. "
            'README: configs/segmentation/README.md')):
        render_pages(root)
