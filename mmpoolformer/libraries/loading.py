"""Reading a config with its library: a config names its library by
``default_scope``; a missing library is reported with the package to
install, not as a traceback from deep inside mmengine."""
import importlib
import os.path as osp
import re
from typing import Optional

from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE

from .adapters import ADAPTERS

# The library each ``default_scope`` names, as pip installs it.
LIBRARY_PACKAGES = {scope: adapter.package
                    for scope, adapter in ADAPTERS.items()}


class LibraryNotInstalledError(ImportError):
    """A config needs a library that cannot be imported."""


def _missing_library(config: str, scope: str, reason: str) -> str:
    package = LIBRARY_PACKAGES.get(scope, f'the package providing {scope!r}')
    return f'{config}: {reason}. Install it: pip install {package}'


def import_library(scope: str, config: str = 'the config') -> None:
    """Import the library of ``scope`` and register all its modules, as
    its own tools do; raise :class:`LibraryNotInstalledError` naming the
    package to install."""
    try:
        utils = importlib.import_module(f'{scope}.utils')
    except ImportError as err:
        raise LibraryNotInstalledError(_missing_library(
            config, scope, f"this config's default_scope is {scope!r}, but "
            f'{scope} cannot be imported ({err})')) from err
    utils.register_all_modules(init_default_scope=False)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config (with ``--cfg-options`` merged) and import the library
    its ``default_scope`` names."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Config {path!r} does not exist; pass a file '
                                'from configs/, e.g. configs/detection/'
                                'retinanet_poolformer_s12.py')
    try:
        cfg = Config.fromfile(path)
    except ModuleNotFoundError as err:
        # mmengine: "<package> is not installed", for a ``scope::`` base.
        found = re.match(r'(\S+) is not installed', str(err))
        if not found:
            raise
        scope = {p: m for m, p in MODULE2PACKAGE.items()}.get(
            found.group(1), found.group(1))
        raise LibraryNotInstalledError(_missing_library(
            path, scope, f"this config's base configs come from {scope!r} "
            '(its default_scope), which is not installed')) from err
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope')
    if scope is None:
        raise ValueError(
            f'{path}: no default_scope. Set default_scope to one of '
            f'{sorted(LIBRARY_PACKAGES)} (inheriting an mmdet:: or mmseg:: '
            'base config sets it).')
    import_library(scope, path)
    return cfg
