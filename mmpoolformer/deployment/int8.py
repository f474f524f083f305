"""Post-training INT8 quantization of an exported graph with NNCF on
OpenVINO, the operations named in a :class:`Recipe` kept in float, and the
quantized model cached next to the graph."""
import dataclasses
import hashlib
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch

from .dependencies import require


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How NNCF quantizes a graph.

    ``preset``: NNCF's ``'performance'`` (symmetric activations) or
    ``'mixed'`` (asymmetric activations); ``transformer``: NNCF's
    ``ModelType.TRANSFORMER`` (keeps elementwise operations in float and
    enables SmoothQuant on matrix products); ``float_types``: OpenVINO
    operation types kept in float (an ignored scope); ``float_patterns``:
    regular expressions over node names kept in float;
    ``float_outputs``: the linear operations that compute the graph's
    outputs (the prediction layers) in float;
    ``fast_bias_correction``: NNCF's fast (else full) bias correction;
    ``smooth_quant_alpha``: SmoothQuant's alpha (None: NNCF's default for
    the model type, negative: off).
    """
    preset: str = 'performance'
    transformer: bool = False
    float_types: Tuple[str, ...] = ()
    float_patterns: Tuple[str, ...] = ()
    float_outputs: bool = False
    fast_bias_correction: bool = True
    smooth_quant_alpha: Optional[float] = None

    def key(self) -> str:
        """A short digest of the recipe, for cache names."""
        text = repr(dataclasses.astuple(self))
        return hashlib.sha256(text.encode()).hexdigest()[:8]


LINEAR_TYPES = ('Convolution', 'GroupConvolution', 'MatMul')


def output_layers(model) -> List[str]:
    """The names of the linear operations (convolutions, matrix products)
    that compute an OpenVINO ``model``'s outputs: from each output back
    through what follows them (bias, reshapes)."""
    names = []
    for result in model.get_results():
        node = result.input_value(0).get_node()
        while node.get_type_name() not in LINEAR_TYPES:
            if node.get_input_size() == 0:
                break
            node = node.input_value(0).get_node()
        else:
            names.append(node.get_friendly_name())
    return names


def quantize_openvino(onnx_path: str, batches: Sequence[torch.Tensor],
                      recipe: Recipe = Recipe()):
    """The graph at ``onnx_path`` as an OpenVINO model with NNCF's INT8
    quantizers, calibrated on ``batches`` (the graph's inputs)."""
    ov = require('openvino')
    nncf = require('nncf')
    from nncf.quantization.advanced_parameters import \
        AdvancedQuantizationParameters
    if not batches:
        raise ValueError('quantize_openvino: give at least one calibration '
                         'batch.')
    model = ov.Core().read_model(onnx_path)
    advanced = AdvancedQuantizationParameters()
    if recipe.smooth_quant_alpha is not None:
        advanced.smooth_quant_alpha = recipe.smooth_quant_alpha
    names = output_layers(model) if recipe.float_outputs else []
    ignored = nncf.IgnoredScope(names=names, types=list(recipe.float_types),
                                patterns=list(recipe.float_patterns),
                                validate=False)
    return nncf.quantize(
        model, nncf.Dataset([batch.numpy() for batch in batches]),
        preset=nncf.QuantizationPreset(recipe.preset),
        subset_size=len(batches),
        fast_bias_correction=recipe.fast_bias_correction,
        model_type=nncf.ModelType.TRANSFORMER if recipe.transformer
        else None,
        ignored_scope=ignored, advanced_parameters=advanced)


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


#: The recipe of ``--precision int8``, from the sensitivity study in
#: docs/user_guides/int8.md: elementwise operations (NNCF's transformer
#: model type) and the resizes of the necks and heads stay in float.
RECIPE = Recipe(transformer=True, float_types=('Interpolate', ))


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
    preprocessor = MODELS.build(cfg.model).data_preprocessor
    batches = calibration_batches(cfg, preprocessor, calib)
    ov = require('openvino')
    ov.save_model(quantize_openvino(onnx_path, batches, recipe), path)
    return path, True


def prepare_int8_for_tool(config, onnx_path: str, calib: int) -> bool:
    """:func:`prepare_int8` for a command-line tool (``config``: a path or
    a loaded config): say what it did, or print the error and return
    False."""
    import sys

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
