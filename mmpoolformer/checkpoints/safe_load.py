"""Resume and test under torch's ``weights_only=True`` default.

mmengine checkpoints carry its message hub (``HistoryBuffer`` objects of
numpy arrays, with references to ``HistoryBuffer``'s statistics methods,
pickled as ``getattr(HistoryBuffer, 'mean')``) and numpy scalars in their
meta. Instead of switching the protection off, we allow exactly those types,
``getattr`` only for those methods, and load local files through
:func:`~.weight_files.load_file`, which refuses anything else with the
reason and never runs the file's code.

``import mmpoolformer`` calls :func:`allow_checkpoint_types`, so loaders
that call ``torch.load`` with its ``weights_only=True`` default (mmengine's
``load_from_local``, behind the libraries' tools, ``init_detector``,
``init_model`` and the Inferencers) read our checkpoints too. Nothing else
about ``torch.load`` changes: every other global stays refused.

onedl-mmengine's loader retries a refused file with ``weights_only=False``.
``import mmpoolformer`` then warns once (:func:`warn_if_host_loads_unsafely`)
and leaves the host as it is; :func:`use_safe_checkpoint_loading`, which our
tools call and ``custom_imports=dict(imports=['mmpoolformer.safe_loading'])``
calls for the libraries' own tools, puts our refusing loader in its place.
"""
import os.path as osp
import pickle
import warnings
from typing import Callable, List, Optional

import numpy as np
import torch
from mmengine.runner import CheckpointLoader

from ..private_apis import host_loads_refused_files, numpy_pickle_globals
from .weight_files import load_file


def _history_buffer_method(owner: type, name: str) -> Callable:
    """Stands in for ``getattr`` while unpickling: only fetches the
    statistics methods mmengine's ``HistoryBuffer`` pickles by reference."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and name in STATISTICS_METHODS:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed: only '
        f'HistoryBuffer.{{{",".join(STATISTICS_METHODS)}}} are.')


STATISTICS_METHODS = ('min', 'max', 'current', 'mean')


def checkpoint_types() -> List[object]:
    """The non-tensor types an mmengine training checkpoint contains (a
    tuple gives the name a file uses for the function it allows)."""
    from mmengine.logging.history_buffer import HistoryBuffer

    dtype_classes = [type(np.dtype(t)) for t in
                     ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                      'float16', 'float32', 'float64')]
    return [HistoryBuffer, np.ndarray, np.dtype, *numpy_pickle_globals(),
            *dtype_classes,
            (_history_buffer_method, 'builtins.getattr')]


def allow_checkpoint_types() -> None:
    """Add :func:`checkpoint_types` to torch's safe-load allow-list.
    Idempotent; everything else stays refused."""
    torch.serialization.add_safe_globals(checkpoint_types())


def load_local_checkpoint(filename: str,
                          map_location: Optional[str] = None) -> dict:
    """mmengine's loader for local paths (``--resume``, ``load_from``, the
    checkpoint of ``tools/test.py``): ``weights_only=True`` with the
    reason and the fix when a file is missing, truncated or unsafe."""
    path = osp.expanduser(filename)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Checkpoint {filename!r} does not exist. Pass the path of a '
            'checkpoint file, e.g. work_dirs/<config>/iter_1000.pth.')
    return load_file(path, map_location=map_location)


def use_safe_checkpoint_loading() -> None:
    """What the tools call before building the Runner: allow mmengine's
    checkpoint types and load local checkpoints through
    :func:`load_local_checkpoint`, http(s) ones through
    :func:`~.weight_files.load_file` (both name the file and what is wrong
    with it)."""
    allow_checkpoint_types()
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint,
                                     force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                     loader=load_file, force=True)


class UnsafeHostLoadingWarning(UserWarning):
    """mmengine's own checkpoint loader loads files that torch's safe
    loading refuses, running the code they carry."""


UNSAFE_HOST_MESSAGE = (
    "This mmengine's checkpoint loader retries a file that torch's safe "
    'loading refuses with weights_only=False, which runs code stored in '
    "the file. mmpoolformer's tools, and the libraries' own entry points "
    '(init_detector, init_model, the Inferencers, load_from and --resume '
    "in mmdet's and mmseg's tools) given mmpoolformer's configs, refuse "
    "such files: those configs import 'mmpoolformer.safe_loading'. "
    "With a config of your own, add it to custom_imports, or call "
    'mmpoolformer.checkpoints.use_safe_checkpoint_loading() first. See '
    "docs/user_guides/onedl.md, 'Safe loading'.")


def warn_if_host_loads_unsafely() -> bool:
    """Warn (:class:`UnsafeHostLoadingWarning`) when mmengine's loader for
    local checkpoints loads a file torch refuses; whether it does."""
    if not host_loads_refused_files():
        return False
    warnings.warn(UNSAFE_HOST_MESSAGE, UnsafeHostLoadingWarning,
                  stacklevel=2)
    return True
