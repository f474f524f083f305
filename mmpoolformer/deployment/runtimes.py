"""The runtimes an exported graph runs in, chosen by name, and the
precision each runs it at: ``build_runtime(path, 'openvino', 'auto')``."""
import argparse
from typing import Optional, Tuple

from ..precision import (Bf16UnavailableError, Int8UnavailableError,
                         bf16_support, require_cpu_bf16, require_cpu_int8)
from .graph_model import GraphModel

BACKENDS = ('onnxruntime', 'openvino')
PRECISIONS = ('auto', 'f32', 'bf16', 'int8')
# Photos of the config's training set that calibrate INT8 by default.
DEFAULT_CALIB = 32


def choose_precision(backend: str, precision: str = 'auto'
                     ) -> Tuple[str, str]:
    """``(precision, why)`` ``backend`` runs at for the requested
    ``precision``: ``'auto'`` is OpenVINO's bf16 where the CPU has native
    bf16 units (AMX, AVX-512 BF16), else f32; ONNX Runtime's CPU provider
    runs the graph's f32."""
    if backend not in BACKENDS:
        raise ValueError(f'--backend {backend!r}: choose one of {BACKENDS}.')
    if precision not in PRECISIONS:
        raise ValueError(f'--precision {precision!r}: choose one of '
                         f'{PRECISIONS}.')
    if precision == 'int8':
        if backend != 'openvino':
            raise ValueError(
                '--precision int8: the INT8 model is quantized by NNCF for '
                'OpenVINO; use --backend openvino.')
        units = require_cpu_int8('--precision int8')
        return 'int8', (f'asked for; this CPU has {", ".join(units)}, '
                        f'float operations in {float_precision()}')
    if backend == 'onnxruntime':
        if precision == 'bf16':
            raise ValueError(
                "--precision bf16: ONNX Runtime's CPU provider runs the "
                'graph in f32; use --backend openvino for bf16.')
        return 'f32', "the graph's own precision"
    if precision == 'f32':
        return 'f32', 'asked for'
    if precision == 'bf16':
        support = require_cpu_bf16('--precision bf16')
        return 'bf16', f'asked for; this CPU has {support.describe()}'
    support = bf16_support()
    return ('bf16' if support.native else 'f32',
            f'auto: this CPU has {support.describe()}')


def float_precision() -> str:
    """The precision of an INT8 model's float operations: bf16 where the
    CPU has native bf16 units, else f32."""
    return 'bf16' if bf16_support().native else 'f32'


def build_runtime(path: str, backend: str = 'onnxruntime',
                  precision: str = 'auto', threads: Optional[int] = None,
                  calib: int = DEFAULT_CALIB) -> GraphModel:
    """The graph at ``path`` in ``backend`` at ``precision`` (see
    :func:`choose_precision`); its ``description`` says which and why.
    ``'int8'`` runs the graph's INT8 model calibrated on ``calib`` photos,
    which :func:`~.int8_cache.prepare_int8` wrote next to it."""
    chosen, why = choose_precision(backend, precision)
    if backend == 'onnxruntime':
        from .onnx_runtime import OnnxModel
        runtime = OnnxModel(path, threads)
    elif chosen == 'int8':
        from .int8_cache import cached_int8_model
        from .openvino_runtime import OpenVinoModel
        runtime = OpenVinoModel(cached_int8_model(path, calib),
                                float_precision(), threads)
    else:
        from .openvino_runtime import OpenVinoModel
        runtime = OpenVinoModel(path, chosen, threads)
    runtime.description += f' [{why}]'
    return runtime


def add_runtime_args(parser: argparse.ArgumentParser) -> None:
    """``--backend``, ``--precision`` and ``--threads`` of the deployment
    tools."""
    parser.add_argument('--backend', choices=BACKENDS,
                        default='onnxruntime', help='the runtime')
    parser.add_argument(
        '--precision', choices=PRECISIONS, default='auto',
        help="auto: OpenVINO's bf16 where the CPU has AMX or AVX-512 BF16, "
        "else f32; ONNX Runtime's f32; int8: NNCF's INT8 model in OpenVINO, "
        'on CPUs with VNNI or AMX (default: auto)')
    parser.add_argument(
        '--calib', type=int, default=DEFAULT_CALIB, metavar='N',
        help='--precision int8: calibrate on the first N photos of the '
        "config's training set; the INT8 model is cached next to the graph "
        f'(default: {DEFAULT_CALIB})')
    parser.add_argument('--threads', type=int,
                        help='threads of the runtime (default: its own)')


def check_runtime_args(parser: argparse.ArgumentParser,
                       args: argparse.Namespace) -> None:
    """Exit with ``parser``'s usage error when ``--backend`` cannot run
    ``--precision`` here."""
    try:
        choose_precision(args.backend, args.precision)
    except (ValueError, Bf16UnavailableError, Int8UnavailableError) as err:
        parser.error(str(err))
    if args.calib < 1:
        parser.error(f'--calib {args.calib}: give at least 1 photo.')
