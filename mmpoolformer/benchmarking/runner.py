"""Run cases and write each one's results file: the machine described once
(its ``torch.mm`` rates take a few seconds), the load average taken at
each case's start and end."""
import dataclasses
import datetime
from typing import List, Sequence

import torch

from .cases import CASES, Options
from .machine import describe_machine, load_average
from .results import write_results

#: The ``torch.mm`` size of the machine description, and on ``--smoke``.
MATMUL_SIZE, SMOKE_MATMUL_SIZE = 2048, 256


def run_cases(names: Sequence[str], options: Options, results_dir: str,
              command: str) -> List[str]:
    """Run each named case with ``options`` on ``options.threads`` torch
    threads and write its results file into ``results_dir``; their
    paths."""
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f'unknown case {", ".join(unknown)}; the cases: '
                         f'{", ".join(CASES)}')
    torch.set_num_threads(options.threads)
    chosen = [(CASES[name], CASES[name].models(options)) for name in names]
    for case, _ in chosen:
        case.check(options)
    machine = describe_machine(
        SMOKE_MATMUL_SIZE if options.smoke else MATMUL_SIZE)
    paths = []
    for case, models in chosen:
        started = datetime.datetime.now(datetime.timezone.utc)
        start_load = load_average()
        rows = case.run(options, models)
        paths.append(write_results(
            results_dir, case.name, command, started,
            dataclasses.asdict(options), machine,
            dict(start=start_load, end=load_average()), rows))
    return paths
