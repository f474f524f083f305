"""The backbone the demo trains (``tools/demo.py --arch``): PoolFormer-S12,
as its demo configs say, or a MetaFormer baseline swapped in through
``--cfg-options``, so every family member runs the same recipe."""
from typing import Any, Dict, List

from mmengine.config import Config

from ..models.backbones.archs import BASELINE_ARCHS, NUM_STAGES

DEFAULT_ARCH = 'poolformer_s12'  # the backbone the demo configs name
DEMO_ARCHS = (DEFAULT_ARCH, *sorted(BASELINE_ARCHS))


def arch_options(arch: str, cfg: Config) -> Dict[str, Any]:
    """The ``--cfg-options`` (dotted keys) that make the demo config
    ``cfg`` train ``arch``: none for PoolFormer-S12; for a MetaFormer
    baseline, its randomly initialised backbone returning the stages the
    neck reads (from the neck's ``start_level``, as PoolFormer's
    ``fork_last3`` does for RetinaNet) and the neck widened to match."""
    if arch not in DEMO_ARCHS:
        raise ValueError(f'Unknown demo arch {arch!r}. Valid archs: '
                         f'{", ".join(DEMO_ARCHS)}.')
    if arch == DEFAULT_ARCH:
        return {}
    first = cfg.model.neck.get('start_level', 0)
    embed_dims = BASELINE_ARCHS[arch]['embed_dims']
    return {
        'model.backbone._delete_': True,
        'model.backbone.type': 'MetaFormer',
        'model.backbone.arch': arch,
        'model.backbone.out_indices': list(range(first, NUM_STAGES)),
        'model.neck.in_channels': embed_dims[first:],
        'model.neck.start_level': 0,
    }


def _cli_value(value: Any) -> str:
    if isinstance(value, list):
        return f'[{",".join(_cli_value(v) for v in value)}]'
    return str(value)


def cli_options(options: Dict[str, Any]) -> List[str]:
    """``options`` as ``--cfg-options`` arguments (``key=value``, which
    mmengine's ``DictAction`` reads back as the same values)."""
    return [f'{key}={_cli_value(value)}' for key, value in options.items()]
