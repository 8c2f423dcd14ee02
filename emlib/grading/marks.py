"""The marks given by hand: ``OUT/marks.csv``, pre-filled by ``emlib review``, merged by
``emlib grade --marks``.

The file has the header ``id,exercise,points,comment`` (``comment`` may be left out), one row per
student and exercise marked by hand (kind ``derivation``). A row whose ``points`` is empty is not
marked yet: the exercise stays ``manual``. A marked exercise scores its points out of the
exercise's points, which then count in the student's ``maximum``; its status is ``ok`` (full
points), ``wrong`` (0) or ``partial``, and the feedback says "marked by hand" with the comment.

The whole file is checked before anything is written, and every problem is reported at once
with its line: text that is not UTF-8, a missing column, an empty id or exercise, an exercise
not marked by hand or not in the gradebook, an id not in the gradebook, points that are not a
number or lie outside [0, the exercise's points], and a student and exercise given twice.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path

from ..exercises import all_exercises
from . import protocol as P
from .layout import GradingError, read_csv_rows

MARKS = "marks.csv"
HEADER = ("id", "exercise", "points", "comment")
FIX_HEADER = "start from the marks.csv that emlib review writes into OUT"


@dataclass(frozen=True)
class Mark:
    student: str
    exercise: str
    points: float | None  # None: not marked yet
    comment: str
    line: int


def hand_marked() -> dict:
    """The exercises marked by hand, by id, in course order."""
    return {ex.id: ex for ex in all_exercises() if ex.kind == "derivation"}


def _refuse(path: Path, option: str, problems: list[str]) -> GradingError:
    listed = "\n".join(f"  {p}" for p in problems)
    return GradingError(f"{option} {path}: {len(problems)} problem(s); nothing was written:\n"
                        f"{listed}")


def _check_utf8(path: Path, option: str) -> None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GradingError(f"{option} {path}: {exc.strerror}.") from None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise GradingError(f"{option} {path}, line {line}: not UTF-8 text. Fix: save the file as "
                           f"CSV (UTF-8).") from None


def _points(text: str, where: str, most: float, problems: list[str]) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(f"{where}: points {text!r} is not a number. Fix: type a number from 0 to "
                        f"{most:g}, or leave it empty until marked.")
        return None
    if not 0 <= value <= most:
        problems.append(f"{where}: points {text} is outside [0, {most:g}]. Fix: give from 0 to "
                        f"{most:g} points (the exercise's points).")
        return None
    return value


def read_marks(path: Path, option: str = "--marks") -> list[Mark]:
    """Every row of the marks file, checked on its own (see the module); blank rows skipped."""
    path = Path(path)
    _check_utf8(path, option)
    rows = read_csv_rows(path, option, HEADER[:3], FIX_HEADER)
    exercises = hand_marked()
    marks: list[Mark] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(rows, start=2):
        cells = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
        if not any(cells.values()):
            continue
        sid, ex_id, where = cells["id"], cells["exercise"], f"line {line}"
        if not sid or not ex_id:
            problems.append(f"{where}: the {'id' if not sid else 'exercise'} is empty. Fix: fill "
                            f"it in or delete the row.")
            continue
        if ex_id not in exercises:
            problems.append(f"{where}: exercise {ex_id!r} is not marked by hand; expected one of "
                            f"{', '.join(exercises)}. Fix: correct the exercise id.")
            continue
        where = f"line {line} ({sid}, {ex_id})"
        points = _points(cells["points"], where, exercises[ex_id].points, problems)
        if (sid, ex_id) in seen:
            problems.append(f"{where}: already marked on line {seen[sid, ex_id]}. Fix: keep one "
                            f"row per student and exercise.")
            continue
        seen[sid, ex_id] = line
        marks.append(Mark(sid, ex_id, points, cells.get("comment", ""), line))
    if problems:
        raise _refuse(path, option, problems)
    return marks


def check_marks(marks: list[Mark], rows, columns, path: Path, option: str = "--marks") -> None:
    """Refuse a mark of a student not in the gradebook, or of an exercise not among its columns."""
    students = {row.student for row in rows}
    graded = {ex.id for ex in columns}
    problems = []
    for m in marks:
        if m.student not in students:
            problems.append(f"line {m.line}: no student {m.student!r} in the gradebook. Fix: use "
                            f"the id as in gradebook.csv, or delete the row.")
        elif m.exercise not in graded:
            problems.append(f"line {m.line}: exercise {m.exercise} is not in the gradebook. Fix: "
                            f"grade it too (--exercises), or delete the row.")
    if problems:
        raise _refuse(path, option, problems)


def apply_marks(rows, marks: list[Mark]) -> None:
    """Each marked exercise's result in ``rows`` becomes its points out of the exercise's."""
    most = {ex_id: float(ex.points) for ex_id, ex in hand_marked().items()}
    by_student = {row.student: row for row in rows}
    for m in marks:
        if m.points is None:
            continue
        row = by_student[m.student]
        top = most[m.exercise]
        status = P.OK if m.points == top else P.WRONG if m.points == 0 else P.PARTIAL
        message = f"marked by hand: {m.comment}" if m.comment else "marked by hand"
        row.exercises[m.exercise] = replace(row.exercises[m.exercise], points=m.points,
                                            max_points=top, status=status, messages=[message])


def prefilled(existing: str | None, pairs: list[tuple[str, str]]) -> tuple[str, int]:
    """The marks file's text: ``existing`` kept byte for byte, and a row with empty points
    appended for every ``(id, exercise)`` of ``pairs`` it lacks; and how many were added."""
    if existing is None:
        existing = ",".join(HEADER) + "\n"
        header = list(HEADER)
        have: set[tuple[str, str]] = set()
    else:
        reader = csv.DictReader(io.StringIO(existing.lstrip("\ufeff")))
        header = list(reader.fieldnames or [])
        have = {((r.get("id") or "").strip(), (r.get("exercise") or "").strip()) for r in reader}
    missing = [p for p in pairs if p not in have]
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, lineterminator="\n", extrasaction="ignore")
    for sid, ex_id in missing:
        w.writerow({"id": sid, "exercise": ex_id})
    text = existing if not existing or existing.endswith("\n") else existing + "\n"
    return text + buf.getvalue(), len(missing)
