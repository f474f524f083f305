"""Bad data named: whatever fails while a dataset is built or one of its
samples is loaded becomes a :class:`DatasetError` that names the files
(annotation file, image, label map) and the transform that failed, and
segmentation label maps are checked against the dataset's classes.

:func:`build_dataset` builds a dataset config that way and
:func:`name_sample_errors` gives a built dataset (inside the wrappers
Concat, Repeat, ClassBalanced and MultiImageMix) pipelines that name their
errors; :class:`~.checked_runner.CheckedRunner` does both for every
dataloader it builds.
"""
import os.path as osp
from typing import Any, Iterator, Optional

import numpy as np
from mmengine.dataset import Compose
from mmengine.registry import DATASETS

from .data_roots import leaf_datasets


class DatasetError(ValueError):
    """A dataset that cannot be built, a sample that cannot be loaded, or
    labels that do not fit the dataset's classes."""


def describe_file(path: str) -> str:
    """``path``, marked when it is missing or empty (local files only)."""
    if '://' in path:
        return path
    if not osp.exists(path):
        return f'{path} (missing)'
    if osp.isfile(path) and osp.getsize(path) == 0:
        return f'{path} (empty: 0 bytes)'
    return path


def _error(err: BaseException) -> str:
    return f'{type(err).__name__}: {err}'.strip()


class LabelRange:
    """The label values a segmentation dataset allows: its classes
    ``0..num_classes-1`` and its ``ignore_index``."""

    def __init__(self, num_classes: int, ignore_index: int,
                 dataset: str) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.dataset = dataset

    def check(self, results: dict) -> None:
        """Raise :class:`DatasetError` naming the label map and the values
        of ``results['gt_seg_map']`` that are no class."""
        seg = results['gt_seg_map']
        bad = (seg >= self.num_classes) & (seg != self.ignore_index)
        if not bad.any():
            return
        values = np.unique(seg[bad]).tolist()
        shown = values[:10] + (['...'] if len(values) > 10 else [])
        in_file = ''
        if results.get('reduce_zero_label'):
            in_file = (f' ({", ".join(str(v + 1) for v in values[:10])} in '
                       'the file, before reduce_zero_label subtracts 1)')
        raise DatasetError(
            f'{results.get("seg_map_path")}: label values '
            f'{", ".join(map(str, shown))}{in_file} are not classes of '
            f'{self.dataset}, which has {self.num_classes} classes '
            f'(0..{self.num_classes - 1}) and ignore_index '
            f'{self.ignore_index}. Fix the label map, or give the dataset '
            'the classes its label maps use (metainfo=dict(classes=...)).')


def label_range(dataset: Any) -> Optional[LabelRange]:
    """The label values a segmentation dataset (one with an
    ``ignore_index``, as mmseg's) allows; None for other datasets."""
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    ignore_index = getattr(dataset, 'ignore_index', None)
    if not classes or ignore_index is None:
        return None
    return LabelRange(len(classes), ignore_index, type(dataset).__name__)


class NamedErrorsCompose(Compose):
    """A dataset's pipeline whose errors name the sample's files and the
    transform that failed; a label map is checked as soon as it is
    loaded. Same transforms, same results."""

    def __init__(self, pipeline: Compose, labels: Optional[LabelRange],
                 dataset: str) -> None:
        super().__init__(pipeline.transforms)
        self.labels = labels
        self.dataset = dataset

    def _sample(self, data: dict) -> str:
        files = [f'{key}={describe_file(value)}'
                 for key, value in data.items()
                 if key.endswith('_path') and isinstance(value, str)]
        index = data.get('sample_idx')
        sample = f'sample {index} of {self.dataset}' \
            if index is not None else f'a sample of {self.dataset}'
        return f'{sample} ({", ".join(files) or "no files"})'

    def __call__(self, data: dict) -> Optional[dict]:
        for transform in self.transforms:
            had_labels = 'gt_seg_map' in data
            try:
                data = transform(data)
            except DatasetError:
                raise
            except Exception as err:
                raise DatasetError(
                    f'{type(transform).__name__} failed on '
                    f'{self._sample(data)}: {_error(err)}') from err
            if data is None:
                return None
            if self.labels and not had_labels and 'gt_seg_map' in data:
                self.labels.check(data)
        return data


def _leaves(dataset: Any) -> Iterator[Any]:
    """The datasets inside dataset wrappers (``datasets`` of Concat,
    ``dataset`` of Repeat, ClassBalanced, MultiImageMix)."""
    children = getattr(dataset, 'datasets', None)
    if isinstance(children, (list, tuple)):
        for child in children:
            yield from _leaves(child)
    elif getattr(dataset, 'dataset', None) is not None:
        yield from _leaves(dataset.dataset)
    else:
        yield dataset


def name_sample_errors(dataset: Any) -> Any:
    """Give each dataset inside ``dataset`` that has a plain pipeline a
    :class:`NamedErrorsCompose` (idempotent); return ``dataset``. A
    MultiImageMixDataset's own mixing transforms are not covered: it calls
    them one by one, not through a pipeline of its inner dataset."""
    for leaf in _leaves(dataset):
        pipeline = getattr(leaf, 'pipeline', None)
        if type(pipeline) is Compose:
            leaf.pipeline = NamedErrorsCompose(
                pipeline, label_range(leaf), type(leaf).__name__)
    return dataset


def _describe_dataset(cfg: dict) -> str:
    """The dataset type and the files a dataset config reads (the
    datasets inside a wrapper's)."""
    leaves = [leaf for _, leaf in leaf_datasets(cfg, '')]
    described = []
    for leaf in leaves:
        root = leaf.get('data_root') or ''
        parts = []
        ann_file = leaf.get('ann_file')
        if ann_file:
            path = ann_file if osp.isabs(ann_file) or '://' in ann_file \
                else osp.join(root, ann_file)
            parts.append(f'ann_file={describe_file(path)}')
        if root:
            parts.append(f'data_root={root}')
        files = f' ({", ".join(parts)})' if parts else ''
        described.append(f'{leaf.get("type")}{files}')
    inside = ' and '.join(described)
    if len(leaves) == 1 and leaves[0] is cfg:
        return inside
    return f'{cfg.get("type")} of {inside}'


def build_dataset(cfg: dict) -> Any:
    """Build (and fully initialise) a dataset config through the current
    scope's DATASETS registry, as mmengine's Runner does; an error on the
    way (an annotation file that cannot be parsed, a category the classes
    lack) names its files. The built dataset names its bad samples
    (:func:`name_sample_errors`)."""
    try:
        dataset = DATASETS.build(cfg)
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
    except DatasetError:
        raise
    except Exception as err:
        raise DatasetError(f'Building {_describe_dataset(cfg)} failed: '
                           f'{_error(err)}') from err
    return name_sample_errors(dataset)
