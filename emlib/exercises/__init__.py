"""Exercises of the course: their declarations, the registry and ``check`` for students.

API stable. ``from emlib.exercises import check`` in a notebook (and ``hint`` for a student stuck before a
first output, ``symbols`` for an expression answer built with SymPy); ``get(id)`` and
``all_exercises()`` for the grader and the tests; ``Exercise``, ``Mistake``, ``Verdict`` and
:mod:`emlib.exercises.compare` for declaring exercises in ``nbNN.py``.
"""

from .check import CheckResult, check
from .formula import symbols
from .hints import hint
from .registry import all_exercises, get, total_points
from .spec import KINDS, STATUSES, Exercise, Mistake, Verdict, equation_ref

__all__ = [
    "KINDS",
    "STATUSES",
    "CheckResult",
    "Exercise",
    "Mistake",
    "Verdict",
    "all_exercises",
    "check",
    "equation_ref",
    "get",
    "hint",
    "symbols",
    "total_points",
]
