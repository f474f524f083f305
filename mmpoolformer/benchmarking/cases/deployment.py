"""``deployment``: PyTorch eager against the deployment runtimes on the
CPU, for the whole detector and segmentor in tensor mode (RetinaNet-S12 at
1x3x800x1216, Semantic FPN-S12 at 1x3x512x512), random weights: ``eager``
(the original operations, ``fast_path=False``; the baseline), ``eager
fast_path``, ``ONNX Runtime``, ``OpenVINO f32`` and, where the CPU has AMX
or AVX-512 BF16, ``OpenVINO bf16``, all on the run's threads. Notes:
``drift``, the largest output difference to eager relative to its largest
output. Needs the deployment packages (``requirements/deploy.txt``)."""
import functools
import os.path as osp
import tempfile
from typing import Callable, Dict, List, Sequence

import torch

from ...deployment import build_runtime, export_onnx
from ...deployment.dependencies import require
from ...deployment.export import TensorOutputs
from ...deployment.runtimes import choose_precision
from ..results import Row, shape_text, timed_rows
from ..timing import time_variants
from .base import Case, Options
from .building import WHOLE_MODELS, exportable_pair, output_drifts, whole_model

BASELINE = 'eager'


def runners(model: torch.nn.Module, x: torch.Tensor, threads: int,
            workdir: str) -> Dict[str, Callable[[torch.Tensor], object]]:
    """The ways to compute the model's graph, by name; the baseline
    first."""
    model, fast = exportable_pair(model)
    fast.backbone.fast_path = True
    path = osp.join(workdir, 'model.onnx')
    export_onnx(model, x, path)
    runs = {BASELINE: TensorOutputs(model),
            'eager fast_path': TensorOutputs(fast),
            'ONNX Runtime': build_runtime(path, 'onnxruntime', 'f32',
                                          threads),
            'OpenVINO f32': build_runtime(path, 'openvino', 'f32', threads)}
    if choose_precision('openvino')[0] == 'bf16':
        runs['OpenVINO bf16'] = build_runtime(path, 'openvino', 'bf16',
                                              threads)
    return runs


def require_runtimes(options: Options) -> None:
    """Raise, saying how to install them, where a runtime is missing."""
    for package in ('onnx', 'onnxruntime', 'openvino'):
        require(package)


def time_runners(options: Options, keys: Sequence[str],
                 make_runners: Callable[..., Dict[str, Callable]]
                 ) -> List[Row]:
    """Time, alternating, the ways ``make_runners(model, x, threads,
    workdir)`` gives to compute each model's graph against the first of
    them; note each one's ``drift`` from it."""
    rows = []
    for key in keys:
        model, x = whole_model(key, options)
        with tempfile.TemporaryDirectory() as workdir, torch.no_grad():
            runs = make_runners(model, x, options.threads, workdir)
            calls = {name: functools.partial(call, x)
                     for name, call in runs.items()}
            baseline = next(iter(calls))
            drifts = output_drifts(calls, baseline)
            timings = time_variants(calls, options.rounds, baseline)
        found = timed_rows(key, 'inference', shape_text(x.shape), timings,
                           baseline, options.rounds)
        for row in found:
            row.notes = dict(drift=drifts[row.variant])
        rows += found
    return rows


def run(options: Options, keys: Sequence[str]) -> List[Row]:
    return time_runners(options, keys, runners)


CASE = Case('deployment', 'PyTorch eager vs ONNX Runtime and OpenVINO '
            '(f32, bf16 where the CPU has native bf16)',
            tuple(WHOLE_MODELS), tuple(WHOLE_MODELS), run, require_runtimes)
