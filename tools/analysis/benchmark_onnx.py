"""PyTorch eager (plain and fast_path=True) against ONNX Runtime and
OpenVINO (f32, and bf16 where the CPU has AMX or AVX-512 BF16) on the CPU,
for our deployed models.

    .venv/bin/python tools/analysis/benchmark_onnx.py [--cases ade coco]
        [--rounds 5] [--threads 2]

Cases: ``ade``, Semantic FPN-S12 at 1x3x512x512, and ``coco``,
RetinaNet-S12 at 1x3x800x1216: the whole network in tensor mode (what the
graph computes: backbone, neck and head maps), fp32, random weights with
the norms' affines and layer scales drawn around 1. All runners run in one
process, alternating each round, so load from other processes hits them
alike; each speed-up is the median of the per-round ratios of the original
operations' fp32 eager time (``fast_path=False``) to the runner's. The
load average is printed: on a shared machine, read the ratios rather than
the times.
"""
import argparse
import copy
import os
import statistics
import tempfile
import time
from typing import Callable, Dict

import torch
from mmengine.registry import MODELS, init_default_scope

from mmpoolformer.deployment import build_runtime, export_onnx, make_exportable
from mmpoolformer.deployment.export import TensorOutputs
from mmpoolformer.deployment.runtimes import choose_precision
from mmpoolformer.libraries import load_config
from mmpoolformer.mim_files import REPO
from mmpoolformer.testing import (largest_difference, machine_line,
                                  perturb_affines)

CASES = {
    'ade': dict(title='Semantic FPN-S12, 512x512',
                config='configs/segmentation/fpn_poolformer_s12.py',
                shape=(1, 3, 512, 512)),
    'coco': dict(title='RetinaNet-S12, 800x1216',
                 config='configs/detection/retinanet_poolformer_s12.py',
                 shape=(1, 3, 800, 1216)),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', nargs='+', choices=sorted(CASES),
                        default=list(CASES), help='which cases to run')
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed rounds per case (after one warm-up)')
    parser.add_argument('--threads', type=int, default=2,
                        help='threads of torch and of the runtimes')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1')
    return args


def build_model(config: str, seed: int) -> torch.nn.Module:
    cfg = load_config(os.path.join(REPO, config))
    cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.default_scope)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)  # torch's default init: quiet
    perturb_affines(model, seed)
    return model.eval()


def runners(case: dict, seed: int, threads: int, workdir: str
            ) -> Dict[str, Callable[[torch.Tensor], object]]:
    """The ways to compute the case's graph, by name; the first is the
    original operations in eager mode."""
    plain = build_model(case['config'], seed)
    make_exportable(plain)
    plain.backbone.fast_path = False  # the original operations
    fast = copy.deepcopy(plain)
    fast.backbone.fast_path = True
    path = os.path.join(workdir, 'model.onnx')
    export_onnx(plain, torch.randn(case['shape']), path)
    runs = {
        'eager': TensorOutputs(plain),
        'eager fast_path': TensorOutputs(fast),
        'ONNX Runtime': build_runtime(path, 'onnxruntime', 'f32', threads),
        'OpenVINO f32': build_runtime(path, 'openvino', 'f32', threads),
    }
    if choose_precision('openvino')[0] == 'bf16':
        runs['OpenVINO bf16'] = build_runtime(path, 'openvino', 'bf16',
                                              threads)
    return runs


def time_once(run: Callable, inputs: torch.Tensor) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        run(inputs)
    return time.perf_counter() - start


def bench_case(case: dict, args: argparse.Namespace, workdir: str) -> None:
    runs = runners(case, args.seed, args.threads, workdir)
    inputs = torch.randn(case['shape'],
                         generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        expected = runs['eager'](inputs)
        differences = {}
        for name, run in runs.items():
            if name != 'eager':
                diff, scale = largest_difference(run(inputs), expected)
                differences[name] = diff / scale
    for run in runs.values():  # warm-up
        time_once(run, inputs)
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            times[name].append(time_once(run, inputs))
    print(f"\n{case['title']} ({args.threads} threads, {args.rounds} "
          f'rounds; load average {os.getloadavg()[0]:.1f})')
    for name, seconds in times.items():
        speedup = statistics.median(
            e / t for e, t in zip(times['eager'], seconds))
        difference = (f'   largest difference {differences[name]:.2g} of '
                      'the largest output' if name in differences else '')
        print(f'  {name:16s} {statistics.median(seconds) * 1e3:8.0f} ms   '
              f'{speedup:.2f}x the original eager{difference}')


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads; load '
          f'average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} '
          'CPUs')
    print(machine_line())
    with tempfile.TemporaryDirectory() as workdir:
        for key in args.cases:
            bench_case(CASES[key], args, workdir)


if __name__ == '__main__':
    main()
