"""Bad data named: whatever fails while a dataset is built or one of its
samples is loaded becomes a :class:`DatasetError` that names the files
(annotation file, image, label map) and the transform that failed, and
segmentation label maps are checked against the dataset's classes.

One mechanism for every dataset: :func:`build_naming_errors` wraps a
DATASETS registry's build function, so it holds for mmengine's Runner,
mmdet's and mmseg's tools alike (installed by :mod:`mmpoolformer.registry`).
"""
import os.path as osp
from typing import Any, Callable, Optional

import numpy as np
from mmengine.dataset import Compose


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


def name_sample_errors(dataset: Any) -> Any:
    """Give ``dataset`` (if it has a plain pipeline) a
    :class:`NamedErrorsCompose`; return it."""
    pipeline = getattr(dataset, 'pipeline', None)
    if type(pipeline) is Compose:
        dataset.pipeline = NamedErrorsCompose(
            pipeline, label_range(dataset), type(dataset).__name__)
    return dataset


def _describe_dataset(cfg: dict) -> str:
    """The dataset type and the files a dataset config reads."""
    root = cfg.get('data_root') or ''
    parts = []
    ann_file = cfg.get('ann_file')
    if ann_file:
        path = ann_file if osp.isabs(ann_file) or '://' in ann_file \
            else osp.join(root, ann_file)
        parts.append(f'ann_file={describe_file(path)}')
    if root:
        parts.append(f'data_root={root}')
    files = f' ({", ".join(parts)})' if parts else ''
    return f'{cfg.get("type")}{files}'


def build_naming_errors(build_func: Callable) -> Callable:
    """Wrap a DATASETS registry's ``build_func``: an error while the
    dataset is built (an annotation file that cannot be parsed, a category
    the classes lack) names its files; a built dataset names its bad
    samples (:func:`name_sample_errors`)."""

    def build(cfg, *args, **kwargs):
        try:
            dataset = build_func(cfg, *args, **kwargs)
        except DatasetError:
            raise
        except Exception as err:
            if not isinstance(cfg, dict):
                raise
            raise DatasetError(
                f'Building {_describe_dataset(cfg)} failed: '
                f'{_error(err)}') from err
        return name_sample_errors(dataset)

    return build
