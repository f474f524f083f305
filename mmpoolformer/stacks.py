"""The two stacks mmpoolformer runs on, and which one is installed.

OpenMMLab's last releases and OneDL Lab's maintained continuation install
the same modules (``mmengine``, ``mmcv``, ``mmdet``, ``mmseg``) from
distributions of different names. Nothing here imports either stack, so
``import mmpoolformer`` can say what to install when neither is there.
"""
import importlib.metadata
import importlib.util
from typing import Dict, NamedTuple, Optional

#: The distribution that installs each module, per stack.
STACKS: Dict[str, Dict[str, str]] = {
    'openmmlab': dict(mmengine='mmengine', mmcv='mmcv', mmdet='mmdet',
                      mmseg='mmsegmentation'),
    'onedl': dict(mmengine='onedl-mmengine', mmcv='onedl-mmcv',
                  mmdet='onedl-mmdetection', mmseg='onedl-mmsegmentation'),
}

INSTALL_HINT = (
    'Install one stack: in a clone, `make setup` (OpenMMLab) or '
    '`STACK=onedl make setup` (OneDL) builds mmcv with its ops into a '
    "virtualenv; in your own environment, `pip install 'mmpoolformer"
    "[openmmlab]'` or `pip install 'mmpoolformer[onedl]'` after building "
    "mmcv (docs/get_started.md, 'Two stacks').")


class StackMissingError(ImportError):
    """mmengine, or mmcv with its compiled ops, is not installed."""


class Stack(NamedTuple):
    """The installed stack: its name and each module's distribution and
    version (``None`` for a module that is not installed)."""
    name: str
    versions: Dict[str, Optional[str]]

    def describe(self) -> str:
        found = ', '.join(f'{STACKS[self.name][module]} {version}'
                          for module, version in self.versions.items()
                          if version)
        return f'{self.name} ({found})'


def distribution_version(distribution: str) -> Optional[str]:
    """The installed version of ``distribution``, or ``None``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_stack() -> Optional[Stack]:
    """The stack whose mmengine is installed, or ``None``."""
    for name, distributions in STACKS.items():
        if distribution_version(distributions['mmengine']):
            return Stack(name, {module: distribution_version(distribution)
                                for module, distribution
                                in distributions.items()})
    return None


def require_stack() -> Stack:
    """The installed stack; raise :class:`StackMissingError` saying what
    to install when mmengine or mmcv with its ops is missing."""
    stack = installed_stack()
    if stack is None or importlib.util.find_spec('mmengine') is None:
        raise StackMissingError(
            'mmpoolformer needs mmengine and mmcv, and neither OpenMMLab\'s '
            '(mmengine, mmcv) nor OneDL\'s (onedl-mmengine, onedl-mmcv) is '
            f'installed. {INSTALL_HINT}')
    if importlib.util.find_spec('mmcv') is None:
        raise StackMissingError(
            f'mmpoolformer needs mmcv beside {stack.describe()}: install '
            f'{STACKS[stack.name]["mmcv"]} built with its ops. {INSTALL_HINT}')
    if importlib.util.find_spec('mmcv._ext') is None:
        raise StackMissingError(
            'The installed mmcv has no compiled ops (mmcv._ext: NMS, '
            'RoIAlign), which mmdet and mmseg need; mmcv-lite lacks them. '
            f'Reinstall {STACKS[stack.name]["mmcv"]} built from source '
            f'with its ops. {INSTALL_HINT}')
    return stack


def library_distribution(module: str) -> str:
    """The distribution that installs ``module`` (``mmdet``, ``mmseg``) on
    the installed stack (OpenMMLab's where none is), for install hints
    that do not pull the other stack in."""
    stack = installed_stack()
    return STACKS[stack.name if stack else 'openmmlab'][module]
