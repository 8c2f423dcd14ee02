"""The class roster: ``roster.csv`` given to ``--roster``.

Its header has the column ``id`` (the student id as in the gradebook) and, optionally, ``name``,
``email``, ``lms_id`` (the learning-management system's own id of the student) and ``section``.
A spreadsheet's byte-order mark is read, not kept. The file is checked whole before anything is
graded: an empty id, or an id listed twice, is an error naming its lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .layout import GradingError, read_csv_rows

OPTIONAL_COLUMNS = ("name", "email", "lms_id", "section")


ROSTER = "roster.csv"  # the roster of the last run given one, kept in OUT

@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    students: tuple[Student, ...]
    columns: tuple[str, ...]

    def ids(self) -> list[str]:
        return [s.id for s in self.students]

    def by_id(self) -> dict[str, Student]:
        return {s.id: s for s in self.students}


def read_roster(path: Path, option: str = "--roster") -> Roster:
    """The students of ``path``, in the file's order; a clear error for a bad roster."""
    rows = read_csv_rows(path, option, ("id",),
                         "one row per student, e.g. 'alice,Alice Martin,alice@example.org'")
    columns = tuple(c for c in OPTIONAL_COLUMNS if c in rows[0])
    students: list[Student] = []
    lines: dict[str, list[int]] = {}
    empty: list[int] = []
    for line, row in enumerate(rows, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line of a spreadsheet
        sid = (row["id"] or "").strip()
        if not sid:
            empty.append(line)
            continue
        lines.setdefault(sid, []).append(line)
        students.append(Student(sid, **{c: (row.get(c) or "").strip() for c in columns}))
    if empty:
        raise GradingError(f"{option} {path}, line(s) {', '.join(map(str, empty))}: the id is "
                           f"empty; expected every student to have an id. Fix: fill in the id or "
                           f"delete the row.")
    twice = {sid: where for sid, where in lines.items() if len(where) > 1}
    if twice:
        listed = "; ".join(f"{sid!r} on lines {', '.join(map(str, where))}"
                           for sid, where in twice.items())
        raise GradingError(f"{option} {path}: ids listed more than once: {listed}; expected one "
                           f"row per student. Fix: keep one row per student.")
    return Roster(tuple(students), columns)
