"""Config keys a backbone does not know, named with the closest valid
ones (a misspelt key would otherwise be dropped or fail far away)."""
import difflib
from typing import Iterable, Mapping


class WiringError(ValueError):
    """A model config whose parts do not fit together, or that gives a
    part an argument or key it does not take."""


def check_known(given: Mapping, valid: Iterable[str], what: str,
                hint: str = 'remove it.') -> None:
    """Raise :class:`WiringError` for the first key of ``given`` not in
    ``valid``, e.g. ``what='PoolFormer has no argument'``, suggesting the
    closest valid names (else ``hint``)."""
    valid = sorted(valid)
    for key in given:
        if key in valid:
            continue
        close = difflib.get_close_matches(key, valid, n=3)
        fix = f'did you mean {" or ".join(map(repr, close))}?' if close \
            else hint
        raise WiringError(f'{what} {key!r}; {fix} Valid: '
                          f'{", ".join(valid)}.')
