"""Checks the tools run before the Runner starts, so that a wrong setup is
reported as what is wrong and how to fix it, not as a traceback from deep
inside a library."""
import importlib
import os.path as osp
import re
from typing import Iterable, List, Optional, Tuple

from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE

from ..models.wiring import check_model

# The library each ``default_scope`` names, as pip installs it.
LIBRARY_PACKAGES = {
    'mmdet': 'mmdet==3.3.0',
    'mmseg': 'mmsegmentation==1.2.2',
}
DATA_README = "see README 'Data'"


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


def _datasets(dataset: dict, key: str) -> Iterable[Tuple[str, dict]]:
    """``(config key, leaf dataset config)`` inside wrappers (Repeat,
    Concat, ...)."""
    if 'datasets' in dataset:
        for i, child in enumerate(dataset['datasets']):
            yield from _datasets(child, f'{key}.datasets.{i}')
    elif 'dataset' in dataset:
        yield from _datasets(dataset['dataset'], f'{key}.dataset')
    else:
        yield key, dataset


def _dataset_contents(dataset: dict) -> List[str]:
    """What a dataset config reads below its ``data_root``: the annotation
    file, then the ``data_prefix`` folders (with a trailing ``/``)."""
    contents = [dataset['ann_file']] if dataset.get('ann_file') else []
    prefix = dataset.get('data_prefix') or {}
    folders = prefix.values() if isinstance(prefix, dict) else [prefix]
    contents += [f.rstrip('/') + '/' for f in folders
                 if isinstance(f, str) and f]
    return contents


def check_data_roots(cfg: Config, dataloaders: Iterable[str]) -> None:
    """Raise ``FileNotFoundError`` naming the missing path, what belongs in
    the dataset root and how to point the config elsewhere, for each local
    dataset the named dataloaders read."""
    for loader in dataloaders:
        if not cfg.get(loader):
            continue
        for key, dataset in _datasets(cfg[loader]['dataset'],
                                      f'{loader}.dataset'):
            root = dataset.get('data_root') or ''
            if '://' in root or dataset.get('backend_args'):
                continue  # remote storage: nothing to check locally
            contents = _dataset_contents(dataset)
            holds = ' and '.join(contents)
            fix = (f'put the data there or pass --cfg-options '
                   f'{key}.data_root=/path/to/data; {DATA_README}')
            if root and not osp.isdir(root):
                raise FileNotFoundError(
                    f'{root} does not exist: it should hold {holds} '
                    f'({key}); {fix}')
            for rel in contents:
                if not osp.exists(osp.join(root, rel)):
                    raise FileNotFoundError(
                        f'{osp.join(root, rel)} does not exist: '
                        f'{root or "."} should hold {holds} ({key}); {fix}')


def check_wiring(cfg: Config) -> None:
    """Raise :class:`~mmpoolformer.models.wiring.WiringError` if the
    config's model does not fit its PoolFormer backbone (the registries
    check again when the model is built; this names it before the Runner
    makes its work dir)."""
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    check_model(cfg.model, registry.MODELS.get)
