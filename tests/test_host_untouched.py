"""``import mmpoolformer`` registers and changes nothing else of its host:
the libraries' registries keep their own build functions, a dataset and a
model that are not ours build as without us, and checkpoint loading keeps
mmengine's loaders. ``pip install mmpoolformer`` alone installs everything
the import needs."""
import ast
import importlib.metadata
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import mmpoolformer  # noqa: F401
from mmpoolformer.stacks import STACKS, installed_stack
from tests.tiny_data import write_tiny_coco
from tests.tool_support import REPO

REGISTRIES = [(library, kind) for library in ('mmengine', 'mmdet', 'mmseg')
              for kind in ('MODELS', 'DATASETS', 'HOOKS', 'RUNNERS')]
DESCRIBE = """
import importlib, json, sys
from mmengine.runner import CheckpointLoader
if sys.argv[1] == 'with':
    import mmpoolformer
out = {}
for library, kind in json.loads(sys.argv[2]):
    func = getattr(importlib.import_module(library + '.registry'),
                   kind).build_func
    out[library + '.' + kind] = func.__module__ + '.' + func.__qualname__
out['loaders'] = {prefix: f'{f.__module__}.{f.__qualname__}' for prefix, f
                  in CheckpointLoader._schemes.items()}
print(json.dumps(out))
"""


def host_state(with_plugin: bool) -> dict:
    """What the libraries build and load with, in a fresh process."""
    out = subprocess.run(
        [sys.executable, '-c', DESCRIBE, 'with' if with_plugin else 'without',
         json.dumps(REGISTRIES)], capture_output=True, text=True, cwd=REPO,
        check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_import_leaves_build_functions_and_loaders_as_they_were():
    assert host_state(with_plugin=True) == host_state(with_plugin=False)


def test_a_dataset_and_a_model_not_ours_build_as_the_library_builds_them(
        tmp_path):
    from mmdet.registry import DATASETS, MODELS
    init_default_scope('mmdet')
    root = write_tiny_coco(str(tmp_path) + '/')
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=root,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='images/'),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackDetInputs')]))
    assert type(dataset.pipeline) is Compose
    assert len(dataset[0]['inputs'].shape) == 3
    # A neck that does not fit its (not ours) backbone builds: no check of
    # ours stands between mmdet and its models.
    model = MODELS.build(dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor'),
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='FPN', in_channels=[1, 2, 3, 4], out_channels=8,
                  num_outs=5),
        bbox_head=dict(type='RetinaHead', num_classes=2, in_channels=8,
                       feat_channels=8,
                       anchor_generator=dict(
                           type='AnchorGenerator', octave_base_scale=4,
                           scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                           strides=[8, 16, 32, 64, 128]),
                       bbox_coder=dict(type='DeltaXYWHBBoxCoder'))))
    assert type(model).__name__ == 'RetinaNet'


def _normalised(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def _top_level_imports(path: str) -> set:
    """The packages a module imports at module level."""
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split('.')[0])
    return names


def _setup_module():
    spec = importlib.util.spec_from_file_location(
        'mmpoolformer_setup', osp.join(REPO, 'setup.py'))
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    return setup


def _requirement_names(requirements) -> set:
    return {_normalised(re.split(r'[<>=]', req)[0]) for req in requirements}


def test_install_requires_covers_what_the_import_needs():
    """The third-party packages that our modules loaded by ``import
    mmpoolformer`` import (with neither mmdet nor mmseg installed) are in
    install_requires or the installed stack's extra, or pulled in by what
    those list."""
    script = ("import sys; sys.modules.update(mmdet=None, mmseg=None); "
              "import mmpoolformer; print(' '.join(m.__file__ for n, m in "
              "sys.modules.items() if n.startswith('mmpoolformer')))")
    files = subprocess.run([sys.executable, '-c', script], cwd=REPO,
                           capture_output=True, text=True,
                           check=True).stdout.split()
    tops = set().union(*map(_top_level_imports, files)) - set(
        sys.stdlib_module_names) - {'mmpoolformer'}
    distributions = importlib.metadata.packages_distributions()
    needed = {_normalised(dist) for top in tops
              for dist in distributions[top]}
    setup = _setup_module()
    required = _requirement_names(setup.INSTALL_REQUIRES) | (
        _requirement_names(setup.STACKS[installed_stack().name]))
    # What the required packages pull in, at any depth, is theirs to
    # declare.
    pulled_in, todo = set(required), list(required)
    while todo:
        try:
            requires = importlib.metadata.requires(todo.pop()) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for req in requires:
            name = _normalised(re.split(r'[ <>=!~;\[(]', req, maxsplit=1)[0])
            if 'extra ==' not in req and name not in pulled_in:
                pulled_in.add(name)
                todo.append(name)
    assert needed & {'mmcv', 'onedl-mmcv'} and needed <= pulled_in, \
        sorted(needed - pulled_in)


@pytest.mark.parametrize('stack', sorted(STACKS))
def test_each_stack_extra_installs_that_stack_alone(stack):
    """``pip install 'mmpoolformer[<stack>]'`` asks for exactly the
    distributions :data:`mmpoolformer.stacks.STACKS` names, and the
    package's own requirements name neither stack, so installing it never
    puts one stack's files over the other's."""
    setup = _setup_module()
    assert _requirement_names(setup.STACKS[stack]) == set(
        STACKS[stack].values())
    every_stack = set().union(*(map(_normalised, names.values())
                                for names in STACKS.values()))
    assert not _requirement_names(setup.INSTALL_REQUIRES) & every_stack
    for extra in ('det', 'seg', 'demo', 'mim', 'deploy'):
        assert not _requirement_names(
            setup.EXTRAS_REQUIRE[extra]) & every_stack, extra


@pytest.mark.parametrize('given', ['layer_scale_init_valus', 'layer'])
def test_a_misspelt_arch_key_names_the_closest(given):
    from mmpoolformer.models import PoolFormer
    from mmpoolformer.models.backbones.archs import WiringError
    arch = dict(layers=[1, 1, 1, 1], embed_dims=[8, 8, 8, 8], **{given: 1})
    close = {'layer_scale_init_valus': 'layer_scale_init_values',
             'layer': 'layers'}[given]
    with pytest.raises(WiringError, match=(
            f"arch dict has no key '{given}'; did you mean '{close}'")):
        PoolFormer(arch=arch)


def test_tools_are_found_in_an_installed_package(tmp_path):
    """A wheel install has no tools/ beside the package, only
    ``mmpoolformer/.mim/tools`` (where mim runs them from)."""
    site = tmp_path / 'site'
    shutil.copytree(osp.join(REPO, 'mmpoolformer'), site / 'mmpoolformer',
                    ignore=shutil.ignore_patterns('.mim', '__pycache__'))
    shutil.copytree(osp.join(REPO, 'tools'),
                    site / 'mmpoolformer' / '.mim' / 'tools')
    script = ("from mmpoolformer.testing import load_tool; "
              "print(load_tool('train.py').__file__)")
    out = subprocess.run([sys.executable, '-c', script], cwd=str(tmp_path),
                         env=dict(os.environ, PYTHONPATH=str(site)),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(site / 'mmpoolformer' / '.mim' / 'tools' /
                              'train.py')
