"""An exported graph in ONNX Runtime (CPU), called like the PyTorch model's
tensor mode."""
from typing import List, Optional

import torch

from .dependencies import require
from .graph_model import GraphModel


class OnnxModel(GraphModel):
    """``OnnxModel(path)(inputs)``: the graph's outputs, in order, run by
    ONNX Runtime's CPU provider in float32."""

    def __init__(self, path: str, threads: Optional[int] = None) -> None:
        ort = require('onnxruntime')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.path = path
        self.session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        self.input = self.session.get_inputs()[0]
        self.input_shape = [size if isinstance(size, int) else None
                            for size in self.input.shape]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.description = f'ONNX Runtime {ort.__version__} (CPU, f32)'

    def run(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        feed = {self.input.name: inputs.numpy()}
        return [torch.from_numpy(out) for out in self.session.run(None, feed)]
