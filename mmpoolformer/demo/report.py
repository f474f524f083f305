"""What the demo reads back from its runs: losses from mmengine's
``scalars.json``, metrics from the test runs' json logs, a before/after
table, a loss-curve figure and a grid of the drawn predictions."""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

LossSeries = Tuple[List[int], List[float]]


def _newest(pattern: str, what: str, work_dir: str) -> str:
    found = sorted(glob.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f'No {what} in {work_dir}: did the run finish? ({pattern})')
    return found[-1]


def read_losses(work_dir: str) -> LossSeries:
    """Iterations and (window-averaged) total losses logged by the newest
    training run in ``work_dir``."""
    path = _newest(osp.join(work_dir, '*', 'vis_data', 'scalars.json'),
                   'scalars.json', work_dir)
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    train = [r for r in records if 'loss' in r]
    return [r['iter'] for r in train], [r['loss'] for r in train]


def read_test_metrics(work_dir: str) -> Dict[str, float]:
    """The metrics of the newest ``tools/test.py`` run in ``work_dir``
    (mmengine's LoggerHook writes them to ``<timestamp>/<timestamp>.json``)."""
    path = _newest(osp.join(work_dir, '*', '*.json'), 'test log', work_dir)
    with open(path) as f:
        return {k: v for k, v in json.load(f).items()
                if isinstance(v, (int, float))}


def format_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A markdown table, columns padded to line up in a terminal."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ['| ' + ' | '.join(c.ljust(w) for c, w in zip(r, widths)) + ' |'
             for r in cells]
    lines.insert(1, '|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    return '\n'.join(lines)


def plot_losses(series: Dict[str, LossSeries], out_file: str) -> str:
    """One panel a model: its training loss against the iteration."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3.2),
                             squeeze=False)
    for ax, (name, (iters, losses)) in zip(axes[0], series.items()):
        ax.plot(iters, losses, marker='.')
        ax.set(title=name, xlabel='iteration', ylabel='loss', ylim=(0, None))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def drawn_pictures(folder: str) -> List[str]:
    """The pictures drawn below ``folder`` (mmseg's visualizer nests its own
    in sub-folders), ordered by file name."""
    found = glob.glob(osp.join(folder, '**', '*'), recursive=True)
    return sorted((p for p in found
                   if p.lower().endswith(('.jpg', '.jpeg', '.png'))),
                  key=osp.basename)


def plot_prediction_grid(rows: Dict[str, Sequence[str]],
                         out_file: str, row_inches: float = 2.4) -> str:
    """One row a model (``rows`` maps its title to its drawn pictures), one
    panel a picture, titled with the model and the picture's name. The
    columns are as wide as the longest row's pictures, at their aspect."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    images = {title: [plt.imread(p) for p in pictures]
              for title, pictures in rows.items()}
    widest = max(images.values(), key=len)
    ratios = [image.shape[1] / image.shape[0] for image in widest]
    fig, axes = plt.subplots(
        len(rows), len(widest), squeeze=False,
        figsize=(row_inches * sum(ratios), (row_inches + .3) * len(rows)),
        gridspec_kw=dict(width_ratios=ratios))
    for panels, (title, pictures) in zip(axes, rows.items()):
        for ax in panels:
            ax.axis('off')
        for ax, path, image in zip(panels, pictures, images[title]):
            ax.imshow(image)
            name = osp.splitext(osp.basename(path))[0]
            ax.set_title(f'{title}: {name}', fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=80)
    plt.close(fig)
    return out_file
