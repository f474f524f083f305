"""The private parts of mmengine and numpy that mmpoolformer builds on, each
behind one small guarded function.

A new release may rename or drop any of them without notice. Each function
checks for what it needs and falls back where an equivalent exists;
``tests/test_private_apis.py`` fails, naming the API, the day one goes.
"""
import inspect
from typing import Callable, List, Tuple

import numpy as np
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
