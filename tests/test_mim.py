"""mim: the package carries ``.mim/`` (configs, tools, model-index.yml) as
OpenMMLab packages do, symlinked for editable installs and copied into
wheels; installed from a wheel, ``mim search`` lists every model and ``mim
train``/``mim test`` run our tools, where the test of a model-zoo config
ends with the measured metric beside the paper's."""
import os
import os.path as osp
import re
import runpy
import shutil
import subprocess
import sys

import pytest
import torch

from mmpoolformer.libraries import load_config
from mmpoolformer.model_zoo.metafiles import load_model_index
from tests.tiny_data import write_tiny_ade
from tests.tool_support import REPO, SEGMENTATION, train_logs, write_config

SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'mmpoolformer', 'configs', 'tools')


def copy_sources(target: str) -> str:
    """The repository files a build reads (a checkout's, not a source
    distribution's: that has ``.mim/`` copies instead of the top-level
    configs, tools and model index), without build litter."""
    os.makedirs(target, exist_ok=True)
    for name in SOURCES:
        source = osp.join(REPO, name)
        if osp.isdir(source):
            shutil.copytree(source, osp.join(target, name),
                            ignore=shutil.ignore_patterns(
                                '__pycache__', '.mim', '*.egg-info'))
        else:
            shutil.copy(source, target)
    return target


def test_editable_installs_link_mim_files(tmp_path):
    source = copy_sources(str(tmp_path))
    setup = runpy.run_path(osp.join(source, 'setup.py'), run_name='setup')
    setup['add_mim_extension'](source, ['editable_wheel'])
    mim = osp.join(source, 'mmpoolformer', '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        assert os.readlink(osp.join(mim, name)) == osp.join('..', '..', name)
    assert osp.isfile(osp.join(mim, 'configs', 'segmentation',
                               'fpn_poolformer_s12.py'))
    setup['add_mim_extension'](source, ['egg_info'])  # no-op
    assert osp.islink(osp.join(mim, 'tools'))


def test_wheels_from_a_source_distribution_keep_its_mim_copies(tmp_path):
    source = copy_sources(str(tmp_path))
    setup = runpy.run_path(osp.join(source, 'setup.py'), run_name='setup')
    setup['add_mim_extension'](source, ['sdist'])
    shutil.rmtree(osp.join(source, 'configs'))  # not in the sdist
    shutil.rmtree(osp.join(source, 'tools'))
    os.remove(osp.join(source, 'model-index.yml'))
    setup['add_mim_extension'](source, ['bdist_wheel'])
    mim = osp.join(source, 'mmpoolformer', '.mim')
    assert osp.isfile(osp.join(mim, 'model-index.yml'))
    assert osp.isfile(osp.join(mim, 'tools', 'train.py'))


def mim(*args: str, site: str) -> str:
    """``mim ARGS`` with the wheel installed in ``site`` first on the
    path; returns its output."""
    env = dict(os.environ, PYTHONPATH=site, OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, '-m', 'mim', *args], cwd=site,
                            env=env, capture_output=True, text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return output


@pytest.fixture(scope='module')
def site(tmp_path_factory) -> str:
    """mmpoolformer built as a wheel and installed into its own folder."""
    tmp = tmp_path_factory.mktemp('mim')
    source = copy_sources(str(tmp / 'source'))
    site = str(tmp / 'site')
    subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
         '--no-build-isolation', '--no-index', '--target', site, source],
        check=True, capture_output=True, timeout=600)
    return site


def test_wheel_carries_mim_files(site):
    mim_dir = osp.join(site, 'mmpoolformer', '.mim')
    index = load_model_index(osp.join(mim_dir, 'model-index.yml'))
    for model in index['Models']:
        assert osp.isfile(osp.join(mim_dir, model['Config']))
    assert osp.isfile(osp.join(mim_dir, 'tools', 'train.py'))
    assert not osp.islink(osp.join(mim_dir, 'tools'))


def test_mim_search_lists_every_model(site):
    output = mim('search', 'mmpoolformer', '--valid-config', site=site)
    listed = set(re.findall(r"'([a-z0-9_]+)'", output))
    index = load_model_index(osp.join(REPO, 'model-index.yml'))
    assert listed == {model['Name'] for model in index['Models']}


def test_mim_train_and_test(site, tmp_path):
    """``mim train`` on a tiny config; ``mim test`` on the model-zoo
    config fpn_poolformer_s12.py by name (an untrained model on the tiny
    ADE set), which ends with the paper's mIoU beside the measured one."""
    root = write_tiny_ade(str(tmp_path / 'ade')) + '/'
    config = write_config(str(tmp_path / 'tiny.py'), SEGMENTATION, root,
                          iters=2)
    work_dir = str(tmp_path / 'work')
    mim('train', 'mmpoolformer', config, '--gpus', '0', '--work-dir',
        work_dir, site=site)
    assert [[log['step'] for log in run]
            for run in train_logs(work_dir)] == [[1, 2]]

    zoo = load_config(osp.join(REPO, 'configs', 'segmentation',
                               'fpn_poolformer_s12.py'))
    from mmseg.registry import MODELS
    checkpoint = str(tmp_path / 'fpn_s12.pth')
    torch.save({'state_dict': MODELS.build(zoo.model).state_dict()},
               checkpoint)
    loader = 'test_dataloader.'
    output = mim(
        'test', 'mmpoolformer', 'fpn_poolformer_s12.py', '--checkpoint',
        checkpoint, '--gpus', '0', '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', f'{loader}dataset.data_root={root}',
        f'{loader}num_workers=0', f'{loader}persistent_workers=False',
        site=site)
    assert re.search(r'Model zoo: fpn_poolformer_s12 on ADE20K: mIoU '
                     r'[\d.]+ \(paper 37\.2, [-+][\d.]+\)', output), output
