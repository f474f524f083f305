"""Render every results file of a folder into a markdown page
(``generated.md``) and bar plots (``plots/*.png``): one table per case,
CPU and thread count, headed by the CPU, its matrix units, the threads,
the versions and the number of runs; a figure measured in several runs of
the same setup shows as the range of its per-run values (``1.63-1.76x``).
"""
import glob
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .machine import cpu_slug
from .results import read_results

PAGE = 'generated.md'
PLOTS = 'plots'
TITLE = '# Benchmark results\n'
HOW_TO = """Each table comes from the results files in
`docs/benchmarks/results/`, written by

    python tools/analysis/benchmark.py CASE [CASE ...] --rounds N --threads T

(`--list` shows the cases) and rendered by
`python tools/analysis/render_benchmarks.py`. Run both on your own CPU to
get its tables and plots. A speed-up is the baseline's time over the
variant's in the same round: the median over the rounds, and in *per-round
spread* the smallest and largest; a figure from several runs shows as the
range of the runs' values.
"""
NO_RESULTS = '\nNo results files yet: run the command above.\n'

Setup = Tuple[str, str, int]  # case, CPU, threads
RowKey = Tuple[str, str, str, str]  # model, step, shape, variant


def read_folder(results_dir: str) -> List[dict]:
    """Every results file of ``results_dir``, in name order."""
    return [read_results(path) for path in
            sorted(glob.glob(osp.join(results_dir, '*.json')))]


def by_setup(records: Iterable[dict]) -> Dict[Setup, List[dict]]:
    """Records grouped by case, then CPU and threads (first-seen order)."""
    groups = OrderedDict()
    for record in sorted(records, key=lambda r: r['case']):
        machine = record['machine']
        key = (record['case'], machine['cpu'], machine['threads'])
        groups.setdefault(key, []).append(record)
    return groups


def value_range(values: Sequence[Optional[float]], fmt: str,
                unit: str = '') -> str:
    """``fmt`` of the values' smallest and largest, ``a-b`` and ``unit``
    (one value where they read alike; ``-`` for none)."""
    values = [v for v in values if v is not None]
    if not values:
        return '-'
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return (low if low == high else f'{low}-{high}') + unit


def ms_format(values: Sequence[float]) -> str:
    """Milliseconds with three significant figures below 100 ms."""
    smallest = min(values)
    digits = 0 if smallest >= 100 else 1 if smallest >= 10 else 2
    return '{:.%df}' % digits


def merged_rows(records: Sequence[dict]) -> Dict[RowKey, List[dict]]:
    """Each row key's rows over the runs."""
    rows = OrderedDict()
    for record in records:
        for row in record['rows']:
            key = (row['model'], row['step'], row['shape'], row['variant'])
            rows.setdefault(key, []).append(row)
    return rows


def table(records: Sequence[dict]) -> str:
    """The markdown table of a setup's runs."""
    rows = merged_rows(records)
    peak = any(row['peak_mib'] is not None
               for runs in rows.values() for row in runs)
    head = ['model', 'step', 'shape', 'variant', 'baseline', 'median ms',
            'speed-up', 'per-round spread', 'rounds'] + \
        (['peak MiB'] if peak else [])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for (model, step, shape, variant), runs in rows.items():
        ms = [row['median_ms'] for row in runs]
        speedups = [row['speedup'] for row in runs if row['speedup']]
        spread = value_range([s['min'] for s in speedups] +
                             [s['max'] for s in speedups], '{:.2f}', 'x')
        cells = [model, step, shape, variant, runs[0]['baseline'] or '-',
                 value_range(ms, ms_format(ms)),
                 value_range([s['median'] for s in speedups], '{:.2f}', 'x'),
                 spread, value_range([row['rounds'] for row in runs],
                                     '{:d}')]
        if peak:
            cells.append(value_range([row['peak_mib'] for row in runs],
                                     '{:.0f}'))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def header(setup: Setup, records: Sequence[dict]) -> str:
    """The setup's heading and what it ran on."""
    case, cpu, threads = setup
    machines = [record['machine'] for record in records]
    units = sorted({unit for m in machines for unit in m['matrix_units']})
    versions = OrderedDict()
    for machine in machines:
        for name, version in machine['versions'].items():
            versions.setdefault(name, set()).add(version or 'not installed')
    dates = sorted(record['date'][:10] for record in records)
    load = [record['load_average'][end] for record in records
            for end in ('start', 'end')]
    size = machines[0]['matmul']['size']
    return (
        f'### {case}: {cpu}, {threads} threads\n\n'
        f'- matrix units: {", ".join(units) or "none"}\n'
        f'- versions: ' + ', '.join(f'{name} {"/".join(sorted(found))}'
                                    for name, found in versions.items()) +
        f'\n- runs: {len(records)} ({dates[0]}'
        + (f' to {dates[-1]}' if dates[-1] != dates[0] else '') + '), commits '
        + ', '.join(sorted({str(m['commit'])[:12] for m in machines})) +
        f'\n- {size}x{size} torch.mm: fp32 ' +
        value_range([m['matmul']['fp32_gflops'] for m in machines], '{:.0f}')
        + ' GFLOP/s, bf16 ' +
        value_range([m['matmul']['bf16_gflops'] for m in machines], '{:.0f}')
        + ' GFLOP/s; 1-min load average ' + value_range(load, '{:.1f}') +
        '\n- commands: ' + '; '.join(sorted({f'`{record["command"]}`'
                                             for record in records})) +
        '\n')


def plot(setup: Setup, records: Sequence[dict], path: str) -> None:
    """Bars of the setup's speed-ups (medians, whiskers spanning the
    per-round spread), or of its median times where it has no baseline."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = merged_rows(records)
    labels, values, lows, highs = [], [], [], []
    speedups = any(row['speedup'] for runs in rows.values() for row in runs)
    for key, runs in rows.items():
        if speedups:
            figures = [row['speedup'] for row in runs if row['speedup']]
            if not figures:
                continue
            medians = [s['median'] for s in figures]
            low = min(s['min'] for s in figures)
            high = max(s['max'] for s in figures)
        else:
            medians = [row['median_ms'] for row in runs]
            low, high = min(medians), max(medians)
        value = sorted(medians)[len(medians) // 2]
        labels.append(' '.join(key))
        values.append(value)
        lows.append(value - low)
        highs.append(high - value)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(labels) + 1.2))
    ax.barh(range(len(labels)), values, xerr=[lows, highs], capsize=3)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    if speedups:
        ax.axvline(1, color='grey', linewidth=.8)
    ax.set_xlabel('speed-up over the baseline' if speedups
                  else 'median ms')
    case, cpu, threads = setup
    ax.set_title(f'{case}: {cpu}, {threads} threads', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render(results_dir: str, out_dir: str) -> str:
    """Write ``out_dir/generated.md`` and ``out_dir/plots/*.png`` from the
    results files of ``results_dir``; the page's path."""
    groups = by_setup(read_folder(results_dir))
    plots_dir = osp.join(out_dir, PLOTS)
    os.makedirs(plots_dir, exist_ok=True)
    for stale in glob.glob(osp.join(plots_dir, '*.png')):
        os.remove(stale)
    parts = [TITLE, HOW_TO]
    if not groups:
        parts.append(NO_RESULTS)
    case = None
    for setup, records in groups.items():
        if setup[0] != case:
            case = setup[0]
            parts.append(f'\n## {case}\n')
        name = f'{setup[0]}_{cpu_slug(setup[1])}_{setup[2]}t.png'
        plot(setup, records, osp.join(plots_dir, name))
        parts += ['\n', header(setup, records), '\n', table(records),
                  f'\n![{setup[0]} on {setup[1]}]({PLOTS}/{name})\n']
    page = osp.join(out_dir, PAGE)
    with open(page, 'w') as f:
        f.write(''.join(parts))
    return page
