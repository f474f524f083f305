"""The model-zoo pages, rendered from ``model-index.yml`` and its
metafiles: one README per config folder (the path each collection's
``README`` names, in mmdet's form: title, abstracts, a results table per
task and dataset, citations) and ``docs/model_zoo.md``, which summarises
every model and links to those READMEs.

:func:`render_pages` gives each page's text by its path relative to the
repository; :func:`write_pages` writes them and :func:`stale_pages` names
those whose file differs (``tools/misc/gen_model_zoo.py`` is the
command-line face).
"""
import os
import os.path as osp
import posixpath
from typing import Dict, List, Optional, Sequence, Tuple

from .metafiles import load_metafiles
from .papers import PAPERS

MODEL_ZOO_PAGE = 'docs/model_zoo.md'
REGENERATE = 'python tools/misc/gen_model_zoo.py'
GENERATED = (f'<!-- Generated from the metafiles by `{REGENERATE}`: edit '
             'the metafiles, not this file. -->')
MISSING = '-'


def _million(value: float) -> str:
    return f'{value / 1e6:.1f}'


def _flops(meta: dict) -> str:
    """GFLOPs with the input size they are counted at."""
    return f"{meta['FLOPs'] / 1e9:.1f} ({meta['FLOPs Input']})"


def _link(text: str, target: Optional[str]) -> str:
    return f'[{text}]({target})' if target else MISSING


def _figure(value) -> str:
    return MISSING if value is None else str(value)


def _table(header: Sequence[str], rows: List[Sequence[str]]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join(':-:' for _ in header) + '|']
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows]


class _Page:
    """The models and collections of one README."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.collections: List[dict] = []
        self.models: List[dict] = []

    def papers(self) -> List[Tuple[str, str]]:
        """``(title, URL)`` of each paper the collections name, in order
        of first appearance."""
        found: Dict[str, str] = {}
        for collection in self.collections:
            paper = collection['Paper']
            found.setdefault(paper['URL'], paper['Title'])
        return [(title, url) for url, title in found.items()]

    def tables(self) -> Dict[Tuple[str, str], List[dict]]:
        """The models by ``(task, dataset)`` of their results, in order
        of first appearance."""
        tables: Dict[Tuple[str, str], List[dict]] = {}
        for model in self.models:
            for result in model['Results']:
                key = (result['Task'], result['Dataset'])
                tables.setdefault(key, []).append(model)
        return tables

    def link(self, path: str, start: Optional[str] = None) -> str:
        """``path`` (relative to the repository) relative to the folder of
        ``start`` (default: this page)."""
        folder = posixpath.dirname(start or self.path)
        return posixpath.relpath(path, folder)


def _metrics(models: List[dict], task: str, dataset: str) -> Dict[str, dict]:
    """Each model's metrics for ``task`` on ``dataset``, by model name."""
    return {
        model['Name']: next(result['Metrics'] for result in model['Results']
                            if (result['Task'], result['Dataset'])
                            == (task, dataset))
        for model in models
    }


def _metric_names(metrics: Dict[str, dict]) -> List[str]:
    names: Dict[str, None] = {}
    for values in metrics.values():
        names.update(dict.fromkeys(values))
    return list(names)


def _results_table(page: _Page, task: str, dataset: str,
                   models: List[dict]) -> List[str]:
    metrics = _metrics(models, task, dataset)
    names = _metric_names(metrics)
    rows = []
    for model in models:
        meta = model['Metadata']
        pretrained = meta.get('Pretrained Weights')
        rows.append([
            model['Name'], meta['Backbone'],
            _million(meta['Parameters']),
            _flops(meta),
            *(_figure(metrics[model['Name']].get(name)) for name in names),
            _link('config', page.link(model['Config'])),
            _link(osp.basename(pretrained), pretrained) if pretrained
            else MISSING,
            _link('model', model.get('Weights')),
        ])
    header = ['Model', 'Backbone', 'Params (M)', 'FLOPs (G)', *names,
              'Config', 'Pretrained (ImageNet-1K)', 'Trained weights']
    return [f'### {task} on {dataset}', ''] + _table(header, rows) + ['']


def _title(page: _Page) -> str:
    return ' and '.join(dict.fromkeys(task for task, _ in page.tables()))


def render_readme(page: _Page) -> str:
    """One config folder's README, in mmdet's form."""
    lines = [f'# {_title(page)}', '', GENERATED, '']
    papers = page.papers()
    for title, url in papers:
        lines += [f'> [{title}]({url}) ({PAPERS[url]["venue"]})', '']
    lines += ['<!-- [BACKBONE] -->', '', '## Abstract', '']
    for title, url in papers:
        lines += [f'### {title}', '', PAPERS[url]['abstract'], '']
    lines += [
        '## Results and models', '',
        "Metrics are the paper's, '-' where it publishes none; Params: the "
        'model the config builds; FLOPs: `tools/analysis/get_flops.py` at '
        'the input size in brackets; Pretrained: the ImageNet-1K weights '
        'the backbone starts from; Trained weights: the model the paper '
        'evaluated.', '']
    for (task, dataset), models in page.tables().items():
        lines += _results_table(page, task, dataset, models)
    lines += ['## Citation', '', '```bibtex']
    lines += '\n\n'.join(PAPERS[url]['bibtex'] for _, url in papers).split(
        '\n')
    lines += ['```', '']
    return '\n'.join(lines)


def _summary(model: dict) -> Tuple[str, str]:
    """The model's datasets and its metrics, e.g. ``('COCO', 'box AP
    37.3, mask AP 34.6')``."""
    results = model['Results']
    datasets = ', '.join(dict.fromkeys(r['Dataset'] for r in results))
    metrics = ', '.join(f'{name} {_figure(value)}' for r in results
                        for name, value in r['Metrics'].items())
    return datasets, metrics


def render_model_zoo(pages: List[_Page]) -> str:
    """``docs/model_zoo.md``: every model, by the README that holds it."""
    count = sum(len(page.models) for page in pages)
    lines = ['# Model zoo', '', GENERATED, '',
             f'{count} configs, one README per config folder with the '
             "papers' abstracts, a results table per task and dataset, the "
             "weights and the citations. Metrics are the paper's, '-' where "
             'it publishes none.', '']
    for page in pages:
        # The README's path as text: the docs build would take a link to a
        # Markdown file outside docs/ for a page of its own.
        lines += [f'## {_title(page)}', '',
                  f'Abstracts, tables and citations: `{page.path}`.', '']
        papers = {c['Name']: c['Paper'] for c in page.collections}
        rows = []
        for model in page.models:
            meta, paper = model['Metadata'], papers[model['In Collection']]
            rows.append([
                model['Name'], meta['Backbone'],
                _million(meta['Parameters']), _flops(meta),
                *_summary(model),
                _link(PAPERS[paper['URL']]['venue'], paper['URL']),
                _link('config', page.link(model['Config'], MODEL_ZOO_PAGE))
            ])
        lines += _table(['Model', 'Backbone', 'Params (M)', 'FLOPs (G)',
                         'Dataset', "Paper's metrics", 'Paper', 'Config'],
                        rows) + ['']
    return '\n'.join(lines)


def _pages(index_path: str) -> List[_Page]:
    """The README pages the metafiles' collections name, each with its
    collections and models, in the metafiles' order."""
    pages: Dict[str, _Page] = {}
    for metafile, content in load_metafiles(index_path).items():
        folder = osp.dirname(osp.normpath(metafile))
        by_name = {}
        for collection in content.get('Collections') or []:
            readme = collection.get('README')
            if not readme or osp.dirname(osp.normpath(readme)) != folder:
                raise ValueError(
                    f'{metafile}: collection {collection["Name"]!r} has '
                    f'README: {readme!r}; name the README of its folder, '
                    f'e.g. README: {folder}/README.md')
            if collection['Paper']['URL'] not in PAPERS:
                raise ValueError(
                    f'{metafile}: collection {collection["Name"]!r} names '
                    f'the paper {collection["Paper"]["URL"]}, which '
                    'mmpoolformer/model_zoo/papers.py does not hold; add '
                    'its venue, abstract and BibTeX there')
            page = pages.setdefault(readme, _Page(readme))
            page.collections.append(collection)
            by_name[collection['Name']] = page
        for model in content.get('Models') or []:
            if model.get('In Collection') not in by_name:
                raise ValueError(
                    f'{metafile}: model {model["Name"]!r} is in collection '
                    f'{model.get("In Collection")!r}, which {metafile} does '
                    f'not define; use one of {sorted(by_name)}')
            by_name[model['In Collection']].models.append(model)
    return list(pages.values())


def render_pages(root: str) -> Dict[str, str]:
    """Each generated page's text by its path relative to ``root``, the
    repository holding ``model-index.yml``."""
    pages = _pages(osp.join(root, 'model-index.yml'))
    rendered = {page.path: render_readme(page) for page in pages}
    rendered[MODEL_ZOO_PAGE] = render_model_zoo(pages)
    return rendered


def write_pages(pages: Dict[str, str], out_dir: str) -> List[str]:
    """Write ``pages`` under ``out_dir``; returns the paths written."""
    written = []
    for path, text in pages.items():
        target = osp.join(out_dir, path)
        os.makedirs(osp.dirname(target), exist_ok=True)
        with open(target, 'w', encoding='utf-8') as f:
            f.write(text)
        written.append(target)
    return written


def stale_pages(pages: Dict[str, str], root: str) -> List[str]:
    """The paths of ``pages`` whose file under ``root`` is missing or
    differs from the page's text."""
    stale = []
    for path, text in pages.items():
        target = osp.join(root, path)
        current = None
        if osp.isfile(target):
            with open(target, encoding='utf-8') as f:
                current = f.read()
        if current != text:
            stale.append(path)
    return stale
