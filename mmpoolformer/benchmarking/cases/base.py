"""What every case is given and what it is: the run's options, and a case
as a name, a summary, the models it runs by default and those it knows."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from ..results import Row


@dataclass(frozen=True)
class Options:
    """How to run a case: timed ``rounds``, torch (and runtime)
    ``threads``, the ``models`` to run (``None``: the case's defaults),
    ``smoke`` (tiny shapes, for tests), ``bf16`` (add the backbone's bf16
    variants), ``profile`` (add where the time goes, where a case can),
    ``data_root`` (the demo data for the ``training`` case; ``None``:
    ``data/demo`` in the repository)."""
    rounds: int = 3
    threads: int = 2
    models: Optional[Tuple[str, ...]] = None
    smoke: bool = False
    bf16: bool = False
    profile: bool = False
    seed: int = 0
    data_root: Optional[str] = None


@dataclass(frozen=True)
class Case:
    """A benchmark case: ``run(options, models)`` times it and returns its
    rows; ``check(options)`` raises, before any case runs, where the case
    could not run (a missing package or data folder)."""
    name: str
    summary: str
    default_models: Tuple[str, ...]
    known_models: Tuple[str, ...]
    run: Callable[[Options, Sequence[str]], List[Row]]
    check: Callable[[Options], None] = lambda options: None

    def models(self, options: Options) -> Sequence[str]:
        """The models ``options`` name, checked against the known ones."""
        models = options.models or self.default_models
        unknown = [m for m in models if m not in self.known_models]
        if unknown:
            raise ValueError(
                f'--models {" ".join(unknown)}: the {self.name} case knows '
                f'{", ".join(self.known_models)}')
        return models
