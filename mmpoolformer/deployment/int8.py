"""Post-training INT8 quantization of an exported graph with NNCF on
OpenVINO, the operations a :class:`Recipe` names kept in float; the
recipe of ``--precision int8``."""
import dataclasses
import hashlib
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
    outputs (the prediction layers) in float; ``float_interpolation``: the
    resizes that interpolate (all but nearest-neighbour ones, which only
    copy values) in float;
    ``fast_bias_correction``: NNCF's fast (else full) bias correction;
    ``smooth_quant_alpha``: SmoothQuant's alpha (None: NNCF's default for
    the model type, negative: off).
    """
    preset: str = 'performance'
    transformer: bool = False
    float_types: Tuple[str, ...] = ()
    float_patterns: Tuple[str, ...] = ()
    float_outputs: bool = False
    float_interpolation: bool = False
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


def interpolating_resizes(model) -> List[str]:
    """The names of an OpenVINO ``model``'s resizes that interpolate
    (linear, cubic): those that are not nearest-neighbour copies."""
    return [op.get_friendly_name() for op in model.get_ops()
            if op.get_type_name() == 'Interpolate'
            and op.get_attributes().get('mode') != 'nearest']


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
    if recipe.float_interpolation:
        names += interpolating_resizes(model)
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


#: The recipe of ``--precision int8``, from the sensitivity study in
#: docs/user_guides/int8.md: elementwise operations (NNCF's transformer
#: model type) and the interpolating resizes stay in float.
RECIPE = Recipe(transformer=True, float_interpolation=True)
