"""Checks that run whenever a MODELS or DATASETS registry (mmengine's,
mmdet's, mmseg's) builds something, so that they hold for the Runner, the
libraries' own tools and their APIs alike: a model's wiring is checked
before it is built (:mod:`mmpoolformer.models.wiring`), a dataset's bad
files are named (:mod:`.data_checks`)."""
import importlib
from functools import partial
from typing import Any, Callable, Iterable, Optional

from mmengine.registry import Registry

from ..models.wiring import check_build
from .data_checks import build_naming_errors

CHECKED = '_mmpoolformer_checked'


def resolve_type(registry: Registry, scope: Optional[str], type_: Any) -> Any:
    """What ``registry`` builds for ``type_`` (as ``build_from_cfg`` looks
    it up); None if it is unknown, for the build to report."""
    if not isinstance(type_, str):
        return type_
    try:
        with registry.switch_scope_and_registry(scope) as found:
            return found.get(type_)
    except Exception:  # mmengine raises RuntimeError for unknown names
        return None


def build_checking_wiring(build_func: Callable) -> Callable:
    """Wrap a MODELS registry's ``build_func`` with the wiring check."""

    def build(cfg, *args, registry: Registry, **kwargs):
        if isinstance(cfg, dict):
            check_build(cfg, partial(resolve_type, registry,
                                     cfg.get('_scope_')))
        return build_func(cfg, *args, registry=registry, **kwargs)

    return build


def _wrap_build_func(registry: Registry, wrapper: Callable) -> None:
    """Wrap ``registry.build_func`` once (registries made later inherit
    their parent's, already wrapped)."""
    if getattr(registry.build_func, CHECKED, False):
        return
    registry.build_func = wrapper(registry.build_func)
    setattr(registry.build_func, CHECKED, True)


def install_build_checks(libraries: Iterable[str]) -> None:
    """Wrap the MODELS and DATASETS registries of mmengine and of each of
    ``libraries`` (importable ones, e.g. ``'mmdet'``); idempotent."""
    for name in ['mmengine', *libraries]:
        module = importlib.import_module(f'{name}.registry')
        _wrap_build_func(module.MODELS, build_checking_wiring)
        _wrap_build_func(module.DATASETS, build_naming_errors)
