"""The INT8 models of exported graphs, cached next to them: quantized on
first use with the config's own photos (:mod:`.calibration`) and the
recipe of ``--precision int8``."""
import hashlib
import os.path as osp
import sys
from typing import Tuple

from .dependencies import require
from .int8 import RECIPE, Recipe, quantize_openvino


def graph_digest(path: str) -> str:
    """A short digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def quantized_path(onnx_path: str, calib: int, recipe: Recipe) -> str:
    """Where the INT8 model of ``onnx_path`` calibrated on ``calib`` photos
    with ``recipe`` is cached: next to the graph, named by the graph's
    digest, ``calib`` and the recipe, so that a changed graph, calibration
    size or recipe is quantized afresh."""
    stem = osp.splitext(onnx_path)[0]
    return (f'{stem}.int8-{graph_digest(onnx_path)}-calib{calib}-'
            f'{recipe.key()}.xml')


def check_quantizable(onnx_path: str) -> None:
    """Refuse a graph whose PoolFormer mixers are written as ``pool(x) -
    x`` (an ``AveragePool``): INT8 loses that difference. Graphs that
    ``pytorch2onnx.py --precision int8`` writes hold the quantizable form
    (:mod:`.quantizable`)."""
    onnx = require('onnx')
    graph = onnx.load(onnx_path, load_external_data=False).graph
    if any(node.op_type == 'AveragePool' for node in graph.node):
        raise ValueError(
            f'{onnx_path} holds PoolFormer mixers as pool(x) - x, whose '
            'small difference INT8 loses. Export it for INT8: '
            'tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out '
            f'{onnx_path} --precision int8 (add --dynamic for test.py).')


def cached_int8_model(onnx_path: str, calib: int,
                      recipe: Recipe = RECIPE) -> str:
    """The cached INT8 model of ``onnx_path`` (see :func:`quantized_path`);
    raise, saying how to write it, where it is missing."""
    path = quantized_path(onnx_path, calib, recipe)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'No INT8 model of {onnx_path} calibrated on {calib} photos '
            f'({path}): run the tool with --precision int8 --calib {calib} '
            'and the config, which quantizes it.')
    return path


def prepare_int8(cfg, onnx_path: str, calib: int,
                 recipe: Recipe = RECIPE) -> Tuple[str, bool]:
    """``(path, made)``: the INT8 model of ``onnx_path`` (exported from
    ``cfg``'s model) calibrated on the first ``calib`` photos of ``cfg``'s
    training set, from the cache next to the graph, or quantized and
    cached there (``made``)."""
    path = quantized_path(onnx_path, calib, recipe)
    if osp.isfile(path):
        return path, False
    check_quantizable(onnx_path)
    from mmengine.registry import MODELS, init_default_scope

    from .calibration import calibration_batches
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batches = calibration_batches(cfg, preprocessor, calib)
    ov = require('openvino')
    ov.save_model(quantize_openvino(onnx_path, batches, recipe), path)
    return path, True


def prepare_int8_for_tool(config, onnx_path: str, calib: int) -> bool:
    """:func:`prepare_int8` for a command-line tool (``config``: a path or
    a loaded config): say what it did, or print the error and return
    False."""
    from ..libraries import load_config
    cfg = load_config(config) if isinstance(config, str) else config
    try:
        path, made = prepare_int8(cfg, onnx_path, calib)
    except (ValueError, ImportError) as err:
        print(f'error: {err}', file=sys.stderr)
        return False
    print(f'{"quantized and cached" if made else "cached"} INT8 model '
          f'(calibrated on {calib} photos): {path}')
    return True
