"""The config checks: a model's parts fit its PoolFormer backbone, the
data is where the config says, and bad data is named by its files.
:class:`CheckedRunner` runs them for any config that names it."""
import importlib

from mmengine.config import Config

from ..models.backbones.archs import WiringError
from .bad_data import DatasetError, build_dataset, name_sample_errors
from .checked_runner import CheckedRunner, registry_resolver
from .data_roots import check_data_roots
from .model_wiring import check_model


def check_wiring(cfg: Config) -> None:
    """Raise :class:`WiringError` if the config's model does not fit its
    PoolFormer backbone (our tools call it before the Runner makes its
    work dir)."""
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    check_model(cfg.model, registry.MODELS.get)


__all__ = [
    'CheckedRunner', 'DatasetError', 'WiringError', 'build_dataset',
    'check_data_roots', 'check_model', 'check_wiring', 'name_sample_errors',
    'registry_resolver'
]
