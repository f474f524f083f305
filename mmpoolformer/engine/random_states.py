"""The random number generators a training step draws from, as plain data
that loads under ``torch.load(weights_only=True)``: torch's CPU generator
(and CUDA's, where present), numpy's legacy global state and Python's
``random``."""
import random
from typing import Any, Dict

import numpy as np
import torch

RandomStates = Dict[str, Any]


def capture_random_states() -> RandomStates:
    """The states of this process's global generators."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    states = dict(
        torch=torch.get_rng_state(),
        numpy=dict(name=name, keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached_gaussian)),
        python=random.getstate())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: RandomStates) -> None:
    """Set the global generators to ``states`` (from
    :func:`capture_random_states`)."""
    torch.set_rng_state(states['torch'])
    numpy = states['numpy']
    np.random.set_state((numpy['name'],
                         numpy['keys'].numpy().astype(np.uint32),
                         numpy['pos'], numpy['has_gauss'],
                         numpy['cached_gaussian']))
    random.setstate(states['python'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])
