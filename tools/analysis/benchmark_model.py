"""The whole detector and segmentor (backbone, neck, heads) on the CPU:
the original operations in fp32 against our fp32 default and bf16.

    .venv/bin/python tools/analysis/benchmark_model.py [--cases ade coco]
        [--rounds 5] [--threads 2] [--profile]

Cases (those of benchmark_onnx.py): ``coco``, RetinaNet-S12 at
1x3x800x1216, and ``ade``, Semantic FPN-S12 at 1x3x512x512, in tensor mode
(what the exporter's graph computes), random weights with the norms'
affines and layer scales drawn around 1. Runners:

* ``original fp32``: ``fast_path=False``, the original operations, eager;
* ``default fp32``: our default (``fast_path=None``, folded on the CPU);
* ``bf16 prepared``: the default prepared by
  ``mmpoolformer.precision.prepare_bf16_inference`` (bf16 weights and
  channels_last for backbone, neck and heads), what ``--bf16`` runs;
* ``bf16 autocast``: the default under ``torch.autocast('cpu',
  torch.bfloat16)`` alone, for reference.

All run in one process on the same input, alternating (the order reversed
every other round), so load from other processes hits them alike; each
ratio is the median of the per-round ratios to the original. The load
average is printed: on a shared machine, read the ratios rather than the
times. ``--profile`` adds, per runner, the median milliseconds of the
backbone, the neck and the heads run apart.
"""
import argparse
import copy
import functools
import os
import statistics
from typing import Callable, Dict, List, Sequence

import torch
from torch import nn

from mmpoolformer.deployment.export import TensorOutputs
from mmpoolformer.precision import bf16_support, prepare_bf16_inference
from mmpoolformer.testing import (alternate, largest_difference, load_tool,
                                  machine_line, median_ratios)

onnx_bench = load_tool('analysis/benchmark_onnx.py')
CASES = onnx_bench.CASES
Run = Callable[[torch.Tensor], object]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', nargs='+', choices=sorted(CASES),
                        default=['coco', 'ade'], help='which cases to run')
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed rounds per case (after one warm-up)')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch intra-op threads')
    parser.add_argument('--profile', action='store_true',
                        help='also time backbone, neck and heads apart')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1')
    return args


class Autocast(nn.Module):
    """``model`` under CPU bf16 autocast."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            return self.model(*args)


def models(config: str, seed: int) -> Dict[str, nn.Module]:
    """The case's detector or segmentor, prepared as each runner runs it,
    with the same weights."""
    original = onnx_bench.build_model(config, seed)
    original.backbone.fast_path = False
    default = copy.deepcopy(original)
    default.backbone.fast_path = None
    prepared = copy.deepcopy(default)
    prepare_bf16_inference(prepared)
    return {'original fp32': original, 'default fp32': default,
            'bf16 prepared': prepared, 'bf16 autocast': default}


def part_runs(model: nn.Module, autocast: bool) -> Dict[str, Run]:
    """Backbone, neck and heads of ``model`` as calls on the previous
    part's outputs (each computed once, untimed)."""
    head = getattr(model, 'decode_head', None) or model.bbox_head
    parts = {'backbone': model.backbone, 'neck': model.neck, 'heads': head}
    if autocast:
        parts = {name: Autocast(part) for name, part in parts.items()}
    return parts


def alternate_no_grad(runs: Dict[str, Run], inputs: Dict[str, object],
                      rounds: int) -> Dict[str, List[float]]:
    """Seconds per call of each run on its input, without autograd
    (``mmpoolformer.testing.alternate``)."""
    with torch.no_grad():
        return alternate({name: functools.partial(run, inputs[name])
                          for name, run in runs.items()}, rounds)


def drift(got: Sequence[torch.Tensor],
          expected: Sequence[torch.Tensor]) -> float:
    """Largest |difference| over the outputs / largest |expected|."""
    diff, scale = largest_difference(got, expected)
    return diff / scale


def profile_parts(built: Dict[str, nn.Module], x: torch.Tensor,
                  rounds: int) -> None:
    """Median ms of backbone, neck and heads per runner."""
    rows = {}
    for label, model in built.items():
        parts = part_runs(model, label == 'bf16 autocast')
        inputs, value = {}, x
        with torch.no_grad():
            for name, part in parts.items():
                inputs[name] = value
                value = part(value)
        times = alternate_no_grad(parts, inputs, rounds)
        rows[label] = {name: statistics.median(t) * 1e3
                       for name, t in times.items()}
    print(f'  {"by part, ms":16s}' + ''.join(
        f'{name:>10s}' for name in ('backbone', 'neck', 'heads', 'sum')))
    for label, row in rows.items():
        print(f'  {label:16s}' + ''.join(
            f'{row[name]:10.0f}' for name in row) +
            f'{sum(row.values()):10.0f}')


def bench_case(case: dict, args: argparse.Namespace) -> None:
    built = models(case['config'], args.seed)
    runs = {label: TensorOutputs(model) for label, model in built.items()}
    runs['bf16 autocast'] = Autocast(runs['bf16 autocast'])
    x = torch.randn(case['shape'],
                    generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        expected = runs['original fp32'](x)
        drifts = {label: drift(run(x), expected)
                  for label, run in runs.items()}
    times = alternate_no_grad(runs, dict.fromkeys(runs, x), args.rounds)
    ratios = median_ratios(times, 'original fp32')
    print(f"\n{case['title']} ({'x'.join(map(str, case['shape']))}, "
          f'{args.threads} threads, {args.rounds} rounds; load average '
          f'{os.getloadavg()[0]:.1f})')
    for label, seconds in times.items():
        print(f'  {label:16s} {statistics.median(seconds) * 1e3:8.0f} ms  '
              f'{ratios[label]:5.2f}x  max |diff| / max |output| '
              f'{drifts[label]:.1e}')
    if args.profile:
        profile_parts(built, x, args.rounds)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads; bf16 units: '
          f'{bf16_support().describe()}; load average at start '
          f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; ratios: '
          'median per-round speed-up over the original fp32')
    print(machine_line())
    for key in args.cases:
        bench_case(CASES[key], args)


if __name__ == '__main__':
    main()
