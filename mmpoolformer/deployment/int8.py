"""Post-training INT8 quantization of an exported graph with NNCF on
OpenVINO, the operations named in a :class:`Recipe` kept in float, and the
quantized model cached next to the graph."""
import dataclasses
import hashlib
import os.path as osp
from typing import Optional, Sequence, Tuple

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
    ``fast_bias_correction``: NNCF's fast (else full) bias correction;
    ``smooth_quant_alpha``: SmoothQuant's alpha (None: NNCF's default for
    the model type, negative: off).
    """
    preset: str = 'performance'
    transformer: bool = False
    float_types: Tuple[str, ...] = ()
    float_patterns: Tuple[str, ...] = ()
    fast_bias_correction: bool = True
    smooth_quant_alpha: Optional[float] = None

    def key(self) -> str:
        """A short digest of the recipe, for cache names."""
        text = repr(dataclasses.astuple(self))
        return hashlib.sha256(text.encode()).hexdigest()[:8]


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
    ignored = nncf.IgnoredScope(types=list(recipe.float_types),
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
