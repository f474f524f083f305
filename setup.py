"""Install mmpoolformer: PoolFormer as an OpenMMLab backbone plugin.

As OpenMMLab packages do for ``mim``, the package carries ``.mim/``: the
configs, the tools and ``model-index.yml``, as symlinks to the repository
for editable installs and as copies in wheels and source distributions.
"""
import os
import os.path as osp
import platform
import shutil
import sys
from pathlib import Path
from setuptools import find_packages, setup
from typing import List, Optional

REPO = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')
# Floors are what the code needs:
# - torch 2.6: the safe-load allow-list gives torch.serialization.
#   add_safe_globals (function, 'module.name') pairs, a form added in 2.6
#   (pytorch#142153; the function itself is 2.4);
#   torch.is_autocast_enabled('cpu') of the fast path needs 2.4.
# - numpy 1.26: safe loading names numpy's pickles under both numpy 1 and 2
#   module paths; its tests and the resume tests pass on 1.26.4 and 2.4.
INSTALL_REQUIRES = ['torch>=2.6', 'numpy>=1.26']
# mmengine and mmcv (with its ops) come from one of two stacks that share
# their import names but not their distribution names. Requiring either by
# name would make pip install it over the other, so the stack is an extra
# (``pip install 'mmpoolformer[openmmlab]'`` or ``[onedl]``), and
# ``import mmpoolformer`` says which to install when neither is there
# (mmpoolformer/stacks.py). mmengine 0.10: CheckpointHook, which
# AtomicCheckpointHook overrides, is unchanged from 0.10.0 on; mmdet 3.3 and
# mmseg 1.2 refuse mmcv >= 2.2.
STACKS = {
    'openmmlab': ['mmengine>=0.10', 'mmcv>=2.0.0,<2.2.0', 'mmdet>=3.0',
                  'mmsegmentation>=1.0'],
    'onedl': ['onedl-mmengine>=0.10.12', 'onedl-mmcv>=2.3.6',
              'onedl-mmdetection>=3.5.1', 'onedl-mmsegmentation>=1.4.2'],
}
EXTRAS_REQUIRE = {
    **STACKS,
    # What mmdet and mmseg need beside either stack.
    'det': ['pycocotools'],
    'seg': ['ftfy', 'regex'],
    'demo': ['imgviz', 'scikit-image', 'pycocotools', 'matplotlib'],
    'mim': ['openmim'],
    # ONNX export and inference; requirements/deploy.txt pins them.
    'deploy': ['onnx>=1.23', 'onnxruntime>=1.31', 'onnxscript>=0.7',
               'openvino>=2026.4', 'nncf>=3.4'],
}


def _mim_mode(commands: List[str]) -> str:
    """'symlink' for an editable install, 'copy' when building a wheel or
    a source distribution, '' for the other setup commands."""
    if {'develop', 'editable_wheel'} & set(commands):
        return 'copy' if platform.system() == 'Windows' else 'symlink'
    if {'sdist', 'bdist_wheel'} & set(commands):
        return 'copy'
    return ''


def add_mim_extension(repo: str = REPO,
                      commands: Optional[List[str]] = None) -> None:
    """Lay out ``mmpoolformer/.mim/`` (what ``mim train/test/search``
    read) from the repository's configs, tools and model index, for the
    setup ``commands`` (default: this run's)."""
    mode = _mim_mode(sys.argv if commands is None else commands)
    if not mode:
        return
    mim_dir = osp.join(repo, 'mmpoolformer', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        source, target = osp.join(repo, name), osp.join(mim_dir, name)
        if not osp.exists(source):
            continue  # a wheel built from the sdist: keep its .mim copy
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)
        if mode == 'symlink':
            os.symlink(osp.relpath(source, mim_dir), target)
        elif osp.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
        else:
            shutil.copyfile(source, target)


if __name__ == '__main__':
    version: dict = {}
    exec(Path(REPO, 'mmpoolformer', 'version.py').read_text(), version)
    add_mim_extension()
    setup(
        name='mmpoolformer',
        version=version['__version__'],
        description='PoolFormer (MetaFormer, CVPR 2022) backbones for '
        'MMDetection and MMSegmentation',
        long_description=Path(REPO, 'README.md').read_text(
            encoding='utf-8'),
        long_description_content_type='text/markdown',
        packages=find_packages(include=['mmpoolformer', 'mmpoolformer.*']),
        include_package_data=True,
        python_requires='>=3.9',
        install_requires=INSTALL_REQUIRES,
        extras_require=EXTRAS_REQUIRE,
        license='Apache-2.0',
    )
