"""``int8``: INT8 against OpenVINO bf16 on the CPU, for the whole detector
and segmentor in tensor mode (RetinaNet-S12 at 1x3x800x1216, Semantic
FPN-S12 at 1x3x512x512), random weights, all on the run's threads.

Variants: ``OpenVINO bf16`` (the plain graph, the baseline, where the CPU
has AMX or AVX-512 BF16), ``OpenVINO f32`` (the plain graph with bf16
off: the fastest float deployment on a CPU without bf16 units), ``INT8
NNCF default`` (NNCF's defaults on the plain graph) and ``INT8`` (the
tools' ``--precision int8``: the quantizable graph with the tools' recipe,
its float operations in bf16 where the CPU has native bf16, else f32) and,
on a CPU with native bf16, ``INT8 f32 floats`` (the same with its float
operations in f32: against ``OpenVINO f32``, what a CPU with int8 dot
products and no bf16 units gains).
Random weights have no training set to calibrate on: the INT8 variants are
calibrated on :data:`CALIB_BATCHES` batches of standard normal noise of the
timed shape, the statistics of the normalised images the graph takes.
Notes: ``drift``, the largest output difference to the baseline relative
to its largest output. The results file's machine names the CPU's int8
dot-product units (``int8_units``).
Needs the deployment packages (``requirements/deploy.txt``) and a CPU with
int8 dot products (VNNI or AMX-INT8)."""
import os.path as osp
from typing import Callable, Dict, List, Sequence

import torch

from ...deployment import build_runtime, export_onnx
from ...deployment.dependencies import require
from ...deployment.int8 import RECIPE, Recipe, quantize_openvino
from ...deployment.openvino_runtime import OpenVinoModel
from ...deployment.quantizable import make_quantizable
from ...deployment.runtimes import float_precision
from ...precision import bf16_support, require_cpu_int8
from ..results import Row
from .base import Case, Options
from .building import WHOLE_MODELS, exportable_pair
from .deployment import time_runners

CALIB_BATCHES = 4


def quantized(graph: str, calib: List[torch.Tensor], recipe: Recipe) -> str:
    """The INT8 model of ``graph`` with ``recipe``, written beside it."""
    path = osp.splitext(graph)[0] + '.int8.xml'
    require('openvino').save_model(quantize_openvino(graph, calib, recipe),
                                   path)
    return path


def runners(model: torch.nn.Module, x: torch.Tensor, threads: int,
            workdir: str) -> Dict[str, Callable[[torch.Tensor], object]]:
    """The ways to compute the model's graph, by name; the baseline
    first."""
    model, quantizable = exportable_pair(model)
    make_quantizable(quantizable)
    plain, reshaped = (osp.join(workdir, f'{name}.onnx')
                       for name in ('plain', 'quantizable'))
    export_onnx(model, x, plain)
    export_onnx(quantizable, x, reshaped)
    gen = torch.Generator().manual_seed(0)
    calib = [torch.randn(x.shape, generator=gen)
             for _ in range(CALIB_BATCHES)]
    runs = {}
    if bf16_support().native:
        runs['OpenVINO bf16'] = build_runtime(plain, 'openvino', 'bf16',
                                              threads)
    runs['OpenVINO f32'] = build_runtime(plain, 'openvino', 'f32', threads)
    floats = float_precision()
    runs['INT8 NNCF default'] = OpenVinoModel(
        quantized(plain, calib, Recipe()), floats, threads)
    int8 = quantized(reshaped, calib, RECIPE)
    runs['INT8'] = OpenVinoModel(int8, floats, threads)
    if floats != 'f32':
        # What a CPU with int8 dot products and no bf16 units runs.
        runs['INT8 f32 floats'] = OpenVinoModel(int8, 'f32', threads)
    return runs


def require_int8(options: Options) -> None:
    """Raise where a runtime is missing or the CPU has no int8 units."""
    for package in ('onnx', 'openvino', 'nncf'):
        require(package)
    require_cpu_int8('the int8 benchmark case')


def run(options: Options, keys: Sequence[str]) -> List[Row]:
    return time_runners(options, keys, runners)


CASE = Case('int8', 'INT8 (NNCF on OpenVINO) against OpenVINO bf16 and f32',
            tuple(WHOLE_MODELS), tuple(WHOLE_MODELS), run, require_int8)
