"""The datasets a run reads are where the config says: a missing data
root or annotation file is named with what belongs there and how to point
the config elsewhere, before the Runner starts."""
import os.path as osp
from typing import Iterable, List, Tuple

from mmengine.config import Config

DATA_DOCS = "see docs/user_guides/data.md, 'Data'"


def leaf_datasets(dataset: dict, key: str) -> Iterable[Tuple[str, dict]]:
    """``(config key, leaf dataset config)`` inside wrappers (Repeat,
    Concat, ...)."""
    if 'datasets' in dataset:
        for i, child in enumerate(dataset['datasets']):
            yield from leaf_datasets(child, f'{key}.datasets.{i}')
    elif 'dataset' in dataset:
        yield from leaf_datasets(dataset['dataset'], f'{key}.dataset')
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
        for key, dataset in leaf_datasets(cfg[loader]['dataset'],
                                          f'{loader}.dataset'):
            root = dataset.get('data_root') or ''
            if '://' in root or dataset.get('backend_args'):
                continue  # remote storage: nothing to check locally
            contents = _dataset_contents(dataset)
            holds = ' and '.join(contents)
            fix = (f'put the data there or pass --cfg-options '
                   f'{key}.data_root=/path/to/data; {DATA_DOCS}')
            if root and not osp.isdir(root):
                raise FileNotFoundError(
                    f'{root} does not exist: it should hold {holds} '
                    f'({key}); {fix}')
            for rel in contents:
                if not osp.exists(osp.join(root, rel)):
                    raise FileNotFoundError(
                        f'{osp.join(root, rel)} does not exist: '
                        f'{root or "."} should hold {holds} ({key}); {fix}')
