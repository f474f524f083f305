"""An exported graph in ONNX Runtime (CPU), called like the PyTorch model's
tensor mode."""
from typing import Dict, List, Optional

import numpy as np
import torch

from .dependencies import require


class OnnxModel:
    """``OnnxModel(path)(inputs)``: the graph's outputs, in order, for a
    preprocessed batch (a float32 ``B x 3 x H x W`` tensor)."""

    def __init__(self, path: str, threads: Optional[int] = None) -> None:
        ort = require('onnxruntime')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.path = path
        self.session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        self.input = self.session.get_inputs()[0]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _check_shape(self, inputs: torch.Tensor) -> None:
        for axis, (size, want) in enumerate(zip(inputs.shape,
                                                self.input.shape)):
            if isinstance(want, int) and size != want:
                raise ValueError(
                    f'{self.path} was exported for inputs of shape '
                    f'{self.input.shape} but got {tuple(inputs.shape)} '
                    f'(axis {axis}). Export it with --dynamic, or with '
                    '--shape set to the size the test pipeline gives.')

    def __call__(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        self._check_shape(inputs)
        feed = {self.input.name: inputs.detach().cpu().numpy().astype(
            np.float32, copy=False)}
        return [torch.from_numpy(out) for out in self.session.run(None, feed)]

    def grouped(self, outputs: List[torch.Tensor]
                ) -> Dict[str, List[torch.Tensor]]:
        """``outputs`` by group (``'seg_logits'``, ``'head0'``, ...), each a
        list of per-level maps, in the graph's order."""
        groups: Dict[str, List[torch.Tensor]] = {}
        for name, tensor in zip(self.output_names, outputs):
            groups.setdefault(name.rpartition('.')[0], []).append(tensor)
        return groups
