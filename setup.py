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
    install_requires=['torch>=2.0', 'mmengine>=0.10'],
    extras_require={
        'det': ['mmcv>=2.0.0,<2.2.0', 'mmdet>=3.0', 'pycocotools'],
        'seg': ['mmcv>=2.0.0,<2.2.0', 'mmsegmentation>=1.0', 'ftfy', 'regex'],
        'demo': ['imgviz', 'scikit-image', 'pycocotools', 'matplotlib'],
        # ONNX export and inference; requirements/deploy.txt pins them.
        'deploy': ['onnx>=1.23', 'onnxruntime>=1.31', 'onnxscript>=0.7'],
    },
    license='Apache-2.0',
)
