"""The private parts of mmengine and numpy that mmpoolformer builds on, each
behind one small guarded function.

Both stacks are covered: OpenMMLab's mmengine 0.10.7 and OneDL's
onedl-mmengine 0.10.12 differ in how a resumed loop skips the trained
batches and in how their checkpoint loader treats a file that torch's safe
loading refuses. A new release may rename or drop any of these without
notice. Each function checks for what it needs and falls back where an
equivalent exists; ``tests/test_private_apis.py`` fails, naming the API,
the day one goes.
"""
import contextlib
import inspect
import io
import os
import pickle
import tempfile
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.hooks import CheckpointHook

#: The private method of mmengine's ``CheckpointHook`` (0.7.4 to at least
#: 0.10.7) that writes one checkpoint and ``last_checkpoint``;
#: ``AtomicCheckpointHook`` overrides it to order those steps.
SAVE_STEP_METHOD = '_save_checkpoint_with_step'
SAVE_STEP_PARAMETERS = ('self', 'runner', 'step', 'meta')
SAVE_STEP_CALLERS = ('_save_checkpoint', '_save_best_checkpoint')


def checkpoint_hook_saves_by_step() -> bool:
    """Whether mmengine's ``CheckpointHook`` still saves every checkpoint
    through ``_save_checkpoint_with_step(runner, step, meta)``, so that an
    override of that method sees every save."""
    method = getattr(CheckpointHook, SAVE_STEP_METHOD, None)
    if method is None:
        return False
    if tuple(inspect.signature(method).parameters) != SAVE_STEP_PARAMETERS:
        return False
    callers = [getattr(CheckpointHook, name, None)
               for name in SAVE_STEP_CALLERS]
    return all(caller is not None
               and SAVE_STEP_METHOD in caller.__code__.co_names
               for caller in callers)


#: Where numpy's pickles say its rebuild functions live: ``numpy._core``
#: from numpy 2 on, ``numpy.core`` before.
NUMPY_MULTIARRAY_MODULES = ('numpy._core.multiarray', 'numpy.core.multiarray')


def numpy_pickle_globals() -> List[Tuple[Callable, str]]:
    """Allow-list entries for ``torch.serialization.add_safe_globals``: the
    functions numpy's pickles call to rebuild an array and a scalar
    (``multiarray._reconstruct`` and ``multiarray.scalar``), each under both
    of numpy's module names, so a checkpoint written under numpy 1 or 2
    loads under either.

    The functions are asked of the pickle protocol (``__reduce__``) instead
    of imported by their private module path, so they are the very objects
    this numpy rebuilds with, whichever its version.
    """
    rebuilders = (np.zeros(1).__reduce__()[0],
                  np.float64(0).__reduce__()[0])
    return [(function, f'{module}.{function.__name__}')
            for function in rebuilders
            for module in NUMPY_MULTIARRAY_MODULES]


#: How ``IterBasedTrainLoop.run`` passes over the batches a resumed run has
#: already trained: OpenMMLab's mmengine fetches each with ``next()`` on
#: ``dataloader_iterator``; onedl-mmengine calls
#: ``dataloader_iterator.skip_iter(n)``, which moves the sampler on without
#: loading them (unless the loop's ``fast_forward_on_resume`` skips nothing).
RESUME_SKIP_NAMES = {'next': ('dataloader_iterator', 'next', 'range'),
                     'skip_iter': ('dataloader_iterator', 'skip_iter')}


def resume_skip_protocol() -> Optional[str]:
    """``'next'`` or ``'skip_iter'`` (see :data:`RESUME_SKIP_NAMES`): how
    mmengine's ``IterBasedTrainLoop`` skips trained batches on resume;
    ``None`` when its ``run`` follows neither."""
    from mmengine.runner import IterBasedTrainLoop
    names = set(IterBasedTrainLoop.run.__code__.co_names)
    for protocol in ('skip_iter', 'next'):
        if set(RESUME_SKIP_NAMES[protocol]) <= names:
            return protocol
    return None


#: The table in ``mmengine.config.utils`` that turns a config base's scope
#: (``mmseg::``) into the distribution mmengine looks up (mmsegmentation).
SCOPE_TABLE = 'MODULE2PACKAGE'


def config_scope_packages() -> Optional[Dict[str, str]]:
    """mmengine's scope-to-distribution table, as ``Config.fromfile`` reads
    it for a ``scope::`` base, or ``None`` when it no longer does."""
    from mmengine.config import utils
    table = getattr(utils, SCOPE_TABLE, None)
    reader = getattr(utils, '_get_package_and_cfg_path', None)
    if not isinstance(table, dict) or reader is None:
        return None
    return table if SCOPE_TABLE in reader.__code__.co_names else None


#: The loader behind the host's local checkpoint paths (its
#: ``CheckpointLoader`` scheme ``''``): ``init_detector``, the Inferencers,
#: ``load_from`` and ``--resume`` in the libraries' own tools.
HOST_LOCAL_LOADER = 'mmengine.runner.checkpoint.load_from_local'


def host_loads_refused_files() -> bool:
    """Whether mmengine's own loader for local checkpoints loads a file
    that ``torch.load(weights_only=True)`` refuses (onedl-mmengine falls
    back to ``weights_only=False``, which runs a file's code).

    Probed with a harmless file: a pickled :class:`fractions.Fraction`,
    which torch's allow-list does not hold. What the host prints about
    falling back is kept out of the output."""
    from mmengine.runner import checkpoint
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'probe.pth')
        torch.save({'probe': Fraction(1, 3)}, path)
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                loaded = checkpoint.load_from_local(path, map_location='cpu')
            except pickle.UnpicklingError:  # torch's weights_only refusal
                return False
    return loaded == {'probe': Fraction(1, 3)}
