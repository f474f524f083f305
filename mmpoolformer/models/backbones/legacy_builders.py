"""The original dense configs' builders, ``poolformer_s12_feat`` ..
``poolformer_m48_feat``, registered beside ``PoolFormer``.

Like the original, a builder honours a ``FORK_LAST3`` environment variable
when ``fork_last3`` is not given, with a deprecation warning; the argument
always wins, and ``PoolFormer`` itself never reads the variable.
"""
import os
import warnings
from typing import Callable, Dict, Optional

from mmengine.logging import print_log

from ...registry import MODELS
from .archs import POOLFORMER_ARCHS, check_known
from .metaformer import PoolFormer

# What a legacy builder sets itself, and takes besides PoolFormer's
# arguments.
LEGACY_FIXED, LEGACY_EXTRA = ('arch', 'fork_feat'), ('style', )


def fork_last3_from_env() -> bool:
    """The original's ``FORK_LAST3`` switch as the legacy builders read it:
    '0', 'false', 'no', 'off' and '' (or unset) mean off."""
    value = os.environ.get('FORK_LAST3', '')
    return value.strip().lower() not in ('', '0', 'false', 'no', 'off')


def _fork_last3_from_env(builder: str) -> bool:
    """:func:`fork_last3_from_env`, warning that the variable is
    deprecated when it is set."""
    value = os.environ.get('FORK_LAST3')
    if value is None:
        return False
    enabled = fork_last3_from_env()
    warnings.warn(
        f'{builder}: reading FORK_LAST3={value!r} from the environment is '
        'deprecated; pass the backbone argument fork_last3='
        f'{enabled} instead (PoolFormer itself ignores FORK_LAST3).',
        FutureWarning, stacklevel=3)
    return enabled


def _legacy_factory(arch: str) -> Callable[..., PoolFormer]:
    """Builder for the original dense configs' ``poolformer_<arch>_feat``."""

    def build(style: Optional[str] = None, fork_last3: Optional[bool] = None,
              **kwargs) -> PoolFormer:
        if style not in (None, 'pytorch'):
            print_log(f'PoolFormer ignores style={style!r}', level=30)
        fixed = {k: v for k, v in kwargs.items() if k in LEGACY_FIXED}
        check_known(fixed, (), f'{build.__name__} has no argument',
                    f"{build.__name__} sets it; use type='PoolFormer' to "
                    'choose it.')
        if fork_last3 is None:
            fork_last3 = _fork_last3_from_env(build.__name__)
        return PoolFormer(arch=arch, fork_feat=True, fork_last3=fork_last3,
                          **kwargs)

    build.__name__ = f'poolformer_{arch}_feat'
    build.__doc__ = f'PoolFormer-{arch.upper()} for dense prediction ' \
        '(the original config name).'
    return build


LEGACY_BUILDERS: Dict[str, Callable[..., PoolFormer]] = {
    f'{name}_feat': _legacy_factory(name.split('_')[1])
    for name in POOLFORMER_ARCHS}
for _name, _build in LEGACY_BUILDERS.items():
    MODELS.register_module(_name, module=_build)
