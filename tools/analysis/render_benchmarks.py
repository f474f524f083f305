"""Render the benchmark results files into docs/benchmarks/generated.md
and docs/benchmarks/plots/ (mmpoolformer.benchmarking.render).

    python tools/analysis/render_benchmarks.py [--results-dir DIR] [--out DIR]
"""
import argparse
import sys
from typing import Optional, Sequence

from mmpoolformer.benchmarking.render import render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results-dir', default='docs/benchmarks/results',
                        help='the results files (*.json)')
    parser.add_argument('--out', default='docs/benchmarks',
                        help='where generated.md and plots/ go')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = build_parser().parse_args(argv)
    try:
        page = render(args.results_dir, args.out)
    except ValueError as error:
        sys.exit(f'render_benchmarks.py: {error}')
    print(page)
    return page


if __name__ == '__main__':
    main()
