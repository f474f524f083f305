"""Benchmark cases on the CPU, each run writing a results file.

    python tools/analysis/benchmark.py --list
    python tools/analysis/benchmark.py backbone model --rounds 3 --threads 2
    python tools/analysis/benchmark.py backbone --models s24 --bf16

Each case times its variants side by side in one process, the order
reversed every other round, so that load from other processes hits them
alike; a speed-up is the median of the per-round ratios to the case's
baseline, with their smallest and largest. Each case's results go to
``<results-dir>/<case>_<cpu>_<threads>t_<date>.json`` (schema:
``mmpoolformer/benchmarking/results.py``); ``render_benchmarks.py`` turns
them into tables and plots.
"""
import argparse
import sys
from typing import List, Optional, Sequence

from mmpoolformer.benchmarking.cases import CASES, Options
from mmpoolformer.benchmarking.results import command_line
from mmpoolformer.benchmarking.runner import run_cases

RESULTS_DIR = 'docs/benchmarks/results'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('cases', nargs='*', metavar='CASE',
                        help=f'cases to run: {", ".join(CASES)} '
                        '(default: all)')
    parser.add_argument('--list', action='store_true',
                        help='print the cases and their models, then exit')
    parser.add_argument('--rounds', type=int, default=3,
                        help='timed rounds per setting, after a warm-up '
                        '(default: %(default)s)')
    parser.add_argument('--threads', type=int, default=2,
                        help='threads of torch and of the runtimes '
                        '(default: %(default)s)')
    parser.add_argument('--models', '--arch', '--archs', nargs='+',
                        metavar='MODEL', help="the case's archs or models "
                        '(default: its own; --list shows them)')
    parser.add_argument('--bf16', action='store_true',
                        help='backbone and family: also time both '
                        'variants under CPU bf16 autocast')
    parser.add_argument('--profile', action='store_true',
                        help='model: time backbone, neck and heads apart; '
                        'training: where each step goes')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny shapes (with --rounds 1: checks that '
                        'the cases run; the figures mean nothing)')
    parser.add_argument('--data-root',
                        help='training: the demo data (default: data/demo)')
    parser.add_argument('--results-dir', default=RESULTS_DIR,
                        help=f'where results files go (default: '
                        f'{RESULTS_DIR})')
    parser.add_argument('--seed', type=int, default=0)
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error(f'--rounds and --threads must be at least 1, got '
                     f'{args.rounds} and {args.threads}')
    return args


def list_cases() -> None:
    for case in CASES.values():
        print(f'{case.name:12s} {case.summary}\n{"":12s} models: '
              f'{" ".join(case.default_models)} (default); known: '
              f'{" ".join(case.known_models)}')


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.list:
        list_cases()
        return []
    options = Options(rounds=args.rounds, threads=args.threads,
                      models=tuple(args.models) if args.models else None,
                      smoke=args.smoke, bf16=args.bf16, profile=args.profile,
                      seed=args.seed, data_root=args.data_root)
    try:
        paths = run_cases(args.cases or list(CASES), options,
                          args.results_dir, command_line(argv))
    except (ValueError, FileNotFoundError, ImportError) as error:
        sys.exit(f'benchmark.py: {error}')
    for path in paths:
        print(path)
    return paths


if __name__ == '__main__':
    main()
