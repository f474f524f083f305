"""What every runtime of an exported graph offers: called like the PyTorch
model's tensor mode, its outputs grouped by name, and a clear error for a
batch of a size the graph was not exported for."""
from typing import Dict, List, Optional, Sequence

import torch


class GraphModel:
    """``model(inputs)``: the graph's outputs, in order, for a preprocessed
    batch (a float32 ``B x 3 x H x W`` tensor). A runtime sets ``path``,
    ``input_shape`` (ints, None where dynamic), ``output_names`` and
    ``description`` (the runtime and its precision, for the user), and
    implements :meth:`run`."""

    path: str
    input_shape: Sequence[Optional[int]]
    output_names: List[str]
    description: str

    def run(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        raise NotImplementedError

    def __call__(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        self._check_shape(inputs)
        return self.run(inputs.detach().cpu().float().contiguous())

    def _check_shape(self, inputs: torch.Tensor) -> None:
        for axis, (size, want) in enumerate(zip(inputs.shape,
                                                self.input_shape)):
            if want is not None and size != want:
                raise ValueError(
                    f'{self.path} was exported for inputs of shape '
                    f'{tuple(self.input_shape)} (None: dynamic) but got '
                    f'{tuple(inputs.shape)} (axis {axis}). Export it with '
                    '--dynamic, or with --shape set to the size the test '
                    'pipeline gives.')

    def grouped(self, outputs: List[torch.Tensor]
                ) -> Dict[str, List[torch.Tensor]]:
        """``outputs`` by group (``'seg_logits'``, ``'head0'``, ...), each a
        list of per-level maps, in the graph's order."""
        groups: Dict[str, List[torch.Tensor]] = {}
        for name, tensor in zip(self.output_names, outputs):
            groups.setdefault(name.rpartition('.')[0], []).append(tensor)
        return groups
