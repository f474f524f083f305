"""Install mmpoolformer: PoolFormer as an OpenMMLab backbone plugin."""
from pathlib import Path
from setuptools import find_packages, setup

version: dict = {}
exec(Path('mmpoolformer/version.py').read_text(), version)

setup(
    name='mmpoolformer',
    version=version['__version__'],
    description='PoolFormer (MetaFormer, CVPR 2022) backbones for MMDetection '
    'and MMSegmentation',
    long_description=Path('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmpoolformer', 'mmpoolformer.*']),
    python_requires='>=3.9',
    # Floors are what the code needs:
    # - torch 2.6: the safe-load allow-list gives torch.serialization.
    #   add_safe_globals (function, 'module.name') pairs, a form added in 2.6
    #   (pytorch#142153; the function itself is 2.4); torch.is_autocast_enabled
    #   ('cpu') of the fast path needs 2.4.
    # - mmengine 0.10: tested with 0.10.7; CheckpointHook, which
    #   AtomicCheckpointHook overrides, is unchanged from 0.10.0 on.
    # - numpy 1.26: safe loading names numpy's pickles under both numpy 1 and 2
    #   module paths; its tests and the resume tests pass on 1.26.4 and 2.4.
    install_requires=['torch>=2.6', 'mmengine>=0.10', 'numpy>=1.26'],
    extras_require={
        'det': ['mmcv>=2.0.0,<2.2.0', 'mmdet>=3.0', 'pycocotools'],
        'seg': ['mmcv>=2.0.0,<2.2.0', 'mmsegmentation>=1.0', 'ftfy', 'regex'],
        'demo': ['imgviz', 'scikit-image', 'pycocotools', 'matplotlib'],
    },
    license='Apache-2.0',
)
