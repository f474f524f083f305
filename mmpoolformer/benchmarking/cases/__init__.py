"""The benchmark cases, by name, in the order ``--list`` shows them."""
from collections import OrderedDict

from . import (backbone, deployment, family, int8, memory, model, roi_align,
               training)
from .base import Case, Options

CASES = OrderedDict((module.CASE.name, module.CASE) for module in (
    backbone, family, model, training, deployment, int8, roi_align, memory))

__all__ = ['CASES', 'Case', 'Options']
