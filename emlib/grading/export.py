"""``emlib export OUT --format canvas|moodle|csv --roster ROSTER.csv --out FILE``: the gradebook
written by ``emlib grade`` into ``OUT``, as a file a learning-management system imports.

* ``canvas``: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per exercise and
  ``EM course total``; a second row ``Points Possible``; ``ID`` is the roster's ``lms_id``.
* ``moodle``: ``email`` (or ``username`` = the id when the roster has no ``email`` column), then
  one column per exercise and the total.
* ``csv``: ``id, name``, the exercises, ``total``, ``maximum``.

An exercise marked by hand (a derivation) exports the points merged from ``OUT/marks.csv``
(:mod:`.marks`); one not marked yet is an empty cell, which an LMS reads as "not graded" rather
than 0. Its "Points Possible" are the exercise's points.

A gradebook student the roster cannot map is an error naming every one of them, never a dropped
row. The file is written atomically.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from ..exercises import all_exercises
from .gradebook import atomic_write
from .layout import GradingError, read_csv_rows
from .protocol import MANUAL, NOT_A_ZERO
from .roster import ROSTER, Roster, Student, read_roster

TOTAL = "EM course total"
CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def register_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="export OUT/gradebook.csv for Canvas, Moodle or as CSV",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("gradebook", type=Path, metavar="OUT", help="the --out folder of emlib grade")
    p.add_argument("--format", required=True, choices=("canvas", "moodle", "csv"))
    p.add_argument("--roster", type=Path, default=None, metavar="ROSTER.csv",
                   help="the class list with lms_id / email (default: the roster emlib grade "
                   "kept in OUT/roster.csv)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    roster = args.roster or args.gradebook / ROSTER
    try:
        if args.roster is None and not roster.is_file():
            raise GradingError(f"no --roster given, and {args.gradebook} holds no {ROSTER} of an "
                               f"emlib grade run given --roster. Fix: give --roster ROSTER.csv, "
                               f"the class list with the columns id and lms_id or email.")
        export(args.gradebook, args.format, read_roster(roster), args.out)
    except GradingError as exc:
        print(f"emlib export: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


def _points(cell: str) -> str:
    """An exercise's points for the LMS: a derivation not marked yet is left empty (not graded,
    rather than a zero); ``timeout`` and the other status words count 0."""
    if cell == MANUAL:
        return ""
    return "0" if cell in NOT_A_ZERO else cell


def export(out: Path, fmt: str, roster: Roster, target: Path) -> None:
    rows = read_csv_rows(out / "gradebook.csv", "OUT", ("id", "total", "maximum"),
                         "give the --out folder of a finished emlib grade run")
    maxima = {ex.id: float(ex.points) for ex in all_exercises()}
    exercises = [c for c in rows[0] if c in maxima]
    students = roster.by_id()
    known = [students.get(r["id"], Student(r["id"])) for r in rows]
    if fmt == "canvas":
        unmapped = [s.id for s in known if not s.lms_id]
        need = "lms_id"
    elif fmt == "moodle" and "email" in roster.columns:
        unmapped = [s.id for s in known if not s.email]
        need = "email"
    else:
        unmapped, need = [], ""
    if unmapped:
        raise GradingError(f"--roster: {len(unmapped)} student(s) of the gradebook have no {need} in "
                           f"the roster: {', '.join(unmapped)}; expected every student to be "
                           f"mapped for --format {fmt}. Fix: add them to the roster.")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    most = max((r["maximum"] for r in rows), key=float)  # with marks by hand, the most marked
    if fmt == "canvas":
        w.writerow([*CANVAS, *exercises, TOTAL])
        w.writerow(["Points Possible", "", "", "", "", *[f"{maxima[e]:g}" for e in exercises], most])
        for s, r in zip(known, rows, strict=True):
            w.writerow([s.name or s.id, s.lms_id, s.id, s.email, s.section,
                        *[_points(r[e]) for e in exercises], r["total"]])
    elif fmt == "moodle":
        key = "email" if "email" in roster.columns else "username"
        w.writerow([key, *exercises, TOTAL])
        for s, r in zip(known, rows, strict=True):
            w.writerow([s.email if key == "email" else s.id, *[_points(r[e]) for e in exercises],
                        r["total"]])
    else:
        w.writerow(["id", "name", *exercises, "total", "maximum"])
        for s, r in zip(known, rows, strict=True):
            w.writerow([s.id, s.name, *[_points(r[e]) for e in exercises], r["total"], r["maximum"]])
    atomic_write(target, buf.getvalue())
