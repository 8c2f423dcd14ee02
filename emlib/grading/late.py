"""Late work: a per-student late file and the penalty rule.

``--late late.csv`` has the header ``id,days_late``: the student id as in the gradebook and how
many days late the work came in (a number >= 0; ``1.5`` is a day and a half). The penalty takes
``days_late x P`` percent of the student's total, at most all of it, where ``P`` is
``--late-penalty`` (default 10 percent per day). It applies to the total after every exercise
is scored, and the feedback shows it. The map is kept in ``OUT/results.json``, so a re-run
without ``--late`` applies the same one; a new ``--late`` replaces it.
"""

from __future__ import annotations

import math
from pathlib import Path

from .layout import GradingError, read_csv_rows

DEFAULT_PERCENT_PER_DAY = 10.0


def read_late(path: Path) -> dict[str, float]:
    """``{student id: days late}`` from a CSV with the header ``id,days_late``."""
    rows = read_csv_rows(path, "--late", ("id", "days_late"),
                         "one row per late student, e.g. 'alice,2'")
    late: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        sid, text = (row["id"] or "").strip(), (row["days_late"] or "").strip()
        if not sid:
            continue
        try:
            days = float(text)
        except ValueError:
            days = math.nan
        if not math.isfinite(days) or days < 0:
            raise GradingError(f"--late {path}, line {line}: days_late of {sid!r} is {text!r}; "
                               f"expected a number of days >= 0. Fix: write e.g. 2 or 0.5.")
        if sid in late:
            raise GradingError(f"--late {path}, line {line}: {sid!r} is listed twice. Fix: keep "
                               f"one row per student.")
        late[sid] = days
    return late


def penalty_fraction(days: float, percent_per_day: float) -> float:
    """The fraction of the total taken for ``days`` late: ``days x percent / 100``, at most 1."""
    return min(1.0, days * percent_per_day / 100.0)


def describe(days: float, percent_per_day: float, before: float, taken: float) -> str:
    """The feedback's sentence on a late penalty."""
    return (f"Late by {days:g} day(s): {penalty_fraction(days, percent_per_day) * 100:g}% of "
            f"{before:g} points ({percent_per_day:g}% per day) = -{taken:g} points.")
