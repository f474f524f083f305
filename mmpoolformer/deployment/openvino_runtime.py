"""An exported graph in OpenVINO on the CPU, in f32 or in bf16 (on AMX /
AVX-512 BF16), called like the PyTorch model's tensor mode."""
from typing import List, Optional

import torch

from .dependencies import require
from .graph_model import GraphModel

# Our precision names -> OpenVINO's INFERENCE_PRECISION_HINT values.
PRECISION_HINTS = {'f32': 'f32', 'bf16': 'bf16'}


class OpenVinoModel(GraphModel):
    """``OpenVinoModel(path, 'bf16')(inputs)``: the graph's outputs, in
    order, compiled for OpenVINO's CPU plugin with ``precision`` as its
    inference precision hint (the precision of its matrix products and
    convolutions; ``'f32'`` keeps the graph's float32)."""

    def __init__(self, path: str, precision: str = 'f32',
                 threads: Optional[int] = None) -> None:
        ov = require('openvino')
        if precision not in PRECISION_HINTS:
            raise ValueError(f'OpenVINO precision {precision!r}: choose one '
                             f'of {sorted(PRECISION_HINTS)}.')
        config = {'INFERENCE_PRECISION_HINT': PRECISION_HINTS[precision]}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        core = ov.Core()
        self.path = path
        model = core.read_model(path)
        # NNCF's INT8 models carry their quantizers as FakeQuantize.
        quantized = any(op.get_type_name() == 'FakeQuantize'
                        for op in model.get_ops())
        self.compiled = core.compile_model(model, 'CPU', config)
        self.request = self.compiled.create_infer_request()
        shape = self.compiled.inputs[0].get_partial_shape()
        self.input_shape = [dim.get_length() if dim.is_static else None
                            for dim in shape]
        self.output_names = [out.get_any_name()
                             for out in self.compiled.outputs]
        self.precision = self.compiled.get_property(
            'INFERENCE_PRECISION_HINT').to_string()
        self.description = (f'OpenVINO {ov.__version__.split("-")[0]} '
                            f'(CPU, {"int8 + " if quantized else ""}'
                            f'{self.precision})')

    def run(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        # share_outputs=False: copies, which the next request cannot change.
        results = self.request.infer({0: inputs.numpy()},
                                     share_outputs=False)
        return [torch.from_numpy(results[out])
                for out in self.compiled.outputs]
