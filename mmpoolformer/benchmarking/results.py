"""Results files: one JSON file per case per run of
``tools/analysis/benchmark.py``, named by its setup,
``<case>_<cpu-slug>_<threads>t_<YYYYmmdd-HHMMSS>.json``.

Schema (``schema`` 1)::

    {
      "schema": 1,
      "case": "backbone",                  # a name of benchmark.py --list
      "command": "tools/analysis/benchmark.py backbone --rounds 5",
      "date": "2026-12-06T19:30:00+00:00", # UTC, when the case started
      "options": {"rounds": 5, "threads": 2, "smoke": false, ...},
      "machine": {
        "cpu": "AMD EPYC",                 # model name (/proc/cpuinfo)
        "matrix_units": ["AVX-512 BF16", "AVX-512 VNNI"],
        "threads": 2, "cpus": 2,           # torch threads, os.cpu_count()
        "versions": {"torch": "2.5.1", "onnxruntime": "1.20.1",
                     "openvino": null},    # null: not installed
        "commit": "18a7791...",            # with "+dirty" for edited files
        "matmul": {"size": 2048, "fp32_gflops": 160.2, "bf16_gflops": 310.5}
      },
      "load_average": {"start": 0.3, "end": 1.1},  # 1-minute
      "rows": [{
        "model": "s12",                    # arch, detector or demo model
        "step": "inference",               # what one timed call runs
        "shape": "1x3x800x1216",
        "variant": "fast_path",
        "baseline": "original",            # null: no baseline in the row
        "median_ms": 812.4,                # median time of one call
        "speedup": {"median": 1.7, "min": 1.6, "max": 1.8},  # or null
        "rounds": 5,
        "peak_mib": 310.0,                 # or null: not measured
        "notes": {"drift": 1.2e-06}        # the case's other figures
      }]
    }

The speed-up is the baseline's time over the variant's in each round
(both timed in the same round): ``median`` is the median of those ratios,
``min`` and ``max`` their spread.
"""
import datetime
import json
import os
import os.path as osp
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from .machine import cpu_slug
from .timing import Timing

SCHEMA = 1
TOP_KEYS = ('schema', 'case', 'command', 'date', 'options', 'machine',
            'load_average', 'rows')
MACHINE_KEYS = ('cpu', 'matrix_units', 'threads', 'versions', 'commit',
                'matmul')
ROW_KEYS = ('model', 'step', 'shape', 'variant', 'baseline', 'median_ms',
            'speedup', 'rounds', 'peak_mib', 'notes')


@dataclass
class Row:
    """One variant's figures in one setting of a case."""
    model: str
    step: str
    shape: str
    variant: str
    baseline: Optional[str]
    median_ms: float
    speedup: Optional[Dict[str, float]]
    rounds: int
    peak_mib: Optional[float] = None
    notes: Dict[str, Any] = field(default_factory=dict)


def timed_rows(model: str, step: str, shape: str,
               timings: Dict[str, Timing], baseline: Optional[str],
               rounds: int) -> List[Row]:
    """A :class:`Row` per timed variant (``timing.time_variants``)."""
    return [Row(model, step, shape, variant, baseline,
                timing.median_s * 1e3,
                timing.speedup._asdict() if timing.speedup else None, rounds)
            for variant, timing in timings.items()]


def shape_text(shape) -> str:
    """``(1, 3, 64, 64)`` as ``'1x3x64x64'``."""
    return 'x'.join(map(str, shape))


def command_line(argv: List[str]) -> str:
    """The entry point's command line for arguments ``argv``, quoted as a
    shell would need them."""
    return shlex.join(['tools/analysis/benchmark.py', *argv])


def results_name(case: str, cpu: str, threads: int,
                 when: datetime.datetime) -> str:
    """``<case>_<cpu-slug>_<threads>t_<YYYYmmdd-HHMMSS>.json``."""
    return (f'{case}_{cpu_slug(cpu)}_{threads}t_'
            f'{when.strftime("%Y%m%d-%H%M%S")}.json')


def write_results(results_dir: str, case: str, command: str,
                  started: datetime.datetime, options: dict, machine: dict,
                  load_average: Dict[str, float], rows: List[Row]) -> str:
    """Write one run of ``case`` into ``results_dir``; its path."""
    os.makedirs(results_dir, exist_ok=True)
    path = osp.join(results_dir, results_name(case, machine['cpu'],
                                              machine['threads'], started))
    record = dict(schema=SCHEMA, case=case, command=command,
                  date=started.isoformat(timespec='seconds'),
                  options=options, machine=machine,
                  load_average=load_average,
                  rows=[asdict(row) for row in rows])
    with open(path, 'w') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    return path


def _missing(record: dict, keys, where: str, path: str) -> None:
    missing = [key for key in keys if key not in record]
    if missing:
        raise ValueError(f'{path}: {where} lacks {", ".join(missing)}; '
                         'write it with tools/analysis/benchmark.py '
                         '(schema in mmpoolformer/benchmarking/results.py)')


def read_results(path: str) -> dict:
    """One results file, its keys checked; errors name the file and key."""
    try:
        with open(path) as f:
            record = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f'{path}: not JSON ({error})') from error
    if not isinstance(record, dict):
        raise ValueError(f'{path}: holds a {type(record).__name__}, not '
                         'a results object')
    _missing(record, TOP_KEYS, 'the file', path)
    if record['schema'] != SCHEMA:
        raise ValueError(f'{path}: schema {record["schema"]!r}, this '
                         f'reader knows {SCHEMA}; rerun the benchmark')
    _missing(record['machine'], MACHINE_KEYS, '"machine"', path)
    for i, row in enumerate(record['rows']):
        _missing(row, ROW_KEYS, f'"rows"[{i}]', path)
    return record
