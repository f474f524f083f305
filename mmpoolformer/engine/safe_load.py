"""Resume under torch's ``weights_only=True`` default.

mmengine checkpoints carry its message hub (``HistoryBuffer`` objects of
numpy arrays) and numpy scalars in their meta. Instead of switching the
protection off, we allow exactly those types.
"""
from typing import List

import numpy as np
import torch


def checkpoint_types() -> List[object]:
    """The non-tensor types an mmengine training checkpoint contains."""
    from mmengine.logging.history_buffer import HistoryBuffer

    multiarray = np._core.multiarray  # numpy >= 2
    dtype_classes = [type(np.dtype(t)) for t in
                     ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                      'float16', 'float32', 'float64')]
    return [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
            multiarray.scalar, *dtype_classes]


def allow_checkpoint_types() -> None:
    """Add :func:`checkpoint_types` to torch's safe-load allow-list.
    Idempotent; everything else stays refused."""
    torch.serialization.add_safe_globals(checkpoint_types())
