"""The model zoo: ``model-index.yml`` and the metafiles it imports name,
for each config, its collection, size, weights and the paper's metrics
(``null`` where the paper publishes none).

:class:`~mmpoolformer.hooks.PaperMetricsHook` logs, after a test, the
measured metrics beside the paper's with :func:`compare_with_paper`.
"""
import os.path as osp
from typing import Dict, Optional

import yaml

from ..mim_files import mim_path

# A metafile metric: the key of the evaluator's result that measures it and
# the factor to the metafile's unit (mmdet's COCO AP is 0-1, the papers' %).
MEASURED_AS = {
    'box AP': ('coco/bbox_mAP', 100.0),
    'mask AP': ('coco/segm_mAP', 100.0),
    'mIoU': ('mIoU', 1.0),
}


def model_index_path() -> str:
    """``model-index.yml`` as installed (``mmpoolformer/.mim/``) or, run
    from a source checkout, at the repository's root."""
    return mim_path('model-index.yml')


def _read_yaml(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f) or {}


def load_metafiles(path: Optional[str] = None) -> Dict[str, dict]:
    """Each metafile that ``path`` (default :func:`model_index_path`)
    imports, by its path relative to the model index, in import order."""
    path = path or model_index_path()
    root = osp.dirname(path)
    return {metafile: _read_yaml(osp.join(root, metafile))
            for metafile in _read_yaml(path).get('Import', [])}


def load_model_index(path: Optional[str] = None) -> Dict[str, list]:
    """``{'Collections': [...], 'Models': [...]}`` of every metafile that
    ``path`` (default :func:`model_index_path`) imports."""
    index: Dict[str, list] = {'Collections': [], 'Models': []}
    for content in load_metafiles(path).values():
        for key in index:
            index[key] += content.get(key) or []
    return index


def find_model(config: str,
               index: Optional[Dict[str, list]] = None) -> Optional[dict]:
    """The metafile entry whose ``Config`` has the file name of
    ``config``, or None for a config outside the model zoo."""
    index = index if index is not None else load_model_index()
    name = osp.basename(config)
    return next((model for model in index['Models']
                 if osp.basename(model['Config']) == name), None)


def compare_with_paper(model: dict, metrics: Dict[str, float]) -> str:
    """One line: each of the paper's metrics of ``model`` beside the
    measured one from ``metrics`` (an evaluator's results)."""
    parts = []
    for result in model.get('Results') or []:
        for name, paper in result['Metrics'].items():
            if paper is None:  # the paper publishes no figure
                continue
            key, scale = MEASURED_AS.get(name, (name, 1.0))
            if key in metrics:
                measured = float(metrics[key]) * scale
                parts.append(f'{name} {measured:.1f} (paper {paper}, '
                             f'{measured - float(paper):+.1f})')
            else:
                parts.append(f'{name} not measured (paper {paper}; '
                             f'no {key!r} among the results)')
    if not parts:
        return f'{model["Name"]}: the paper gives no figure to compare with.'
    datasets = ', '.join(sorted({r['Dataset'] for r in model['Results']}))
    return f'{model["Name"]} on {datasets}: ' + ', '.join(parts)
