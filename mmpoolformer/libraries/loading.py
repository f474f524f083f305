"""Reading a config with its library: a config names its library by
``default_scope``; a missing library is reported with the package to
install, not as a traceback from deep inside mmengine."""
import contextlib
import importlib
import importlib.util
import os.path as osp
import re
from typing import Iterator, Optional

from mmengine.config import Config

from ..private_apis import config_scope_packages
from ..stacks import distribution_version, library_distribution
from .adapters import ADAPTERS


class LibraryNotInstalledError(ImportError):
    """A config needs a library that cannot be imported."""


def _missing_library(config: str, scope: str, reason: str) -> str:
    package = (library_distribution(scope) if scope in ADAPTERS
               else f'the package providing {scope!r}')
    return f'{config}: {reason}. Install it: pip install {package}'


@contextlib.contextmanager
def library_bases_by_module() -> Iterator[None]:
    """Let mmengine find a library's ``scope::`` base configs (``mmseg::
    _base_/...``) by the library's module while a config is read.

    mmengine looks a scope up under the distribution its scope table names:
    OpenMMLab's ``mmsegmentation`` for ``mmseg``. OneDL installs ``mmseg``
    from ``onedl-mmsegmentation``, so mmengine reports mmseg as missing.
    Where the named distribution is absent but the module is installed,
    the table names the module instead, as it already does for ``mmdet``,
    whose module and distribution share a name; mmengine then finds the
    module's own ``.mim/configs``. The table is restored on exit.
    """
    table = config_scope_packages()
    renamed = {}
    for scope in ADAPTERS if table is not None else ():
        package = table.get(scope)
        if (package and package != scope and not distribution_version(package)
                and importlib.util.find_spec(scope) is not None):
            renamed[scope], table[scope] = package, scope
    try:
        yield
    finally:
        if table is not None:
            table.update(renamed)


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
        with library_bases_by_module():
            cfg = Config.fromfile(path)
    except ModuleNotFoundError as err:
        # mmengine: "<package> is not installed", for a ``scope::`` base.
        found = re.match(r'(\S+) is not installed', str(err))
        if not found:
            raise
        table = config_scope_packages() or {}
        scope = {p: m for m, p in table.items()}.get(
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
            f'{sorted(ADAPTERS)} (inheriting an mmdet:: or mmseg:: '
            'base config sets it).')
    import_library(scope, path)
    return cfg
