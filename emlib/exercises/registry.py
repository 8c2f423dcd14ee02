"""The registry: every exercise of the course, in course order.

API stable. Each notebook NN has a module ``emlib/exercises/nbNN.py`` with a module-level tuple
``EXERCISES``; this module finds them (any ``nb`` + two digits module in the package), checks that
ids are unique and that each exercise sits in the module of its notebook, and keeps the order of
declaration within a notebook.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from pathlib import Path

from .spec import Exercise

_MODULE = re.compile(r"^nb(\d\d)$")


@lru_cache(maxsize=1)
def _registry() -> dict[str, Exercise]:
    package = Path(__file__).parent
    modules = sorted(m.name for m in pkgutil.iter_modules([str(package)]) if _MODULE.match(m.name))
    found: dict[str, Exercise] = {}
    for name in modules:
        module = importlib.import_module(f"{__package__}.{name}")
        number = _MODULE.match(name).group(1)
        for ex in getattr(module, "EXERCISES", ()):
            if not isinstance(ex, Exercise):
                raise TypeError(f"{module.__name__}.EXERCISES holds {ex!r}, not an Exercise.")
            if ex.notebook != number:
                raise ValueError(
                    f"exercise {ex.id!r} is declared in {module.__name__}; an exercise of "
                    f"notebook {ex.notebook} belongs in emlib/exercises/nb{ex.notebook}.py."
                )
            if ex.id in found:
                raise ValueError(f"exercise id {ex.id!r} is declared twice.")
            found[ex.id] = ex
    return found


def all_exercises() -> tuple[Exercise, ...]:
    """Every exercise, notebook by notebook, in the order each module declares them."""
    return tuple(_registry().values())


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; a ``KeyError`` lists the ids of the same notebook."""
    reg = _registry()
    if exercise_id in reg:
        return reg[exercise_id]
    prefix = str(exercise_id).split(".")[0]
    near = [i for i in reg if i.startswith(prefix + ".")] or list(reg)
    raise KeyError(
        f"no exercise {exercise_id!r}; known ids include {', '.join(near)}. "
        f"Fix: copy the id from the notebook's check(...) cell, or run `emlib exercises`."
    )


def total_points() -> float:
    """The course's point total (manual derivations included)."""
    return float(sum(ex.points for ex in all_exercises()))
