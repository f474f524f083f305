"""The benchmark cases, by name, in the order ``--list`` shows them."""
from collections import OrderedDict

from . import (backbone, deployment, memory, model, products, roi_align,
               training)
from .base import Case, Options

CASES = OrderedDict((module.CASE.name, module.CASE) for module in (
    backbone, model, training, deployment, products, roi_align, memory))

__all__ = ['CASES', 'Case', 'Options']
