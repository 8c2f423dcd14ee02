"""``emlib grade``: grade a folder of student notebooks into a gradebook.

::

    emlib grade SUBMISSION... --out DIR [--jobs N] [--timeout S] [--memory MB]
                [--sandbox auto|required|off] [--seed SEED] [--force]
                [--ids MAP.csv] [--exercises ID,...] [--wall-time S] [--quiet]
                [--late LATE.csv] [--late-penalty PERCENT] [--report-hints]
                [--roster ROSTER.csv] [--marks MARKS.csv]
                [--similarity-threshold T] [--cluster tcp://HOST:PORT | local:N]
    emlib grade --out DIR [--marks MARKS.csv] [--late LATE.csv] [--roster ROSTER.csv]

The second form grades nothing: it writes the gradebook of ``DIR`` again from its results, with
the hand marks (see :mod:`.marks`), the late file and the roster given or kept from before.

Exit status: 0 when every submission was graded (whatever the students' scores), 2 for a usage
error, 3 when ``--sandbox required`` (or ``EMLIB_REQUIRE_SANDBOX=1``) finds no working bubblewrap
(here, or with ``--cluster`` on a worker), 130 when interrupted (Ctrl-C: nothing is written but
the cache of what was graded).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}")
        return value

    return parse


def add_selection_arguments(p, exercises_note: str = "") -> None:
    """``--ids`` and ``--exercises`` (read by :func:`exercise_selection`): whose files, which
    exercises; ``emlib grade`` and ``emlib similarity`` take them alike."""
    p.add_argument("--ids", type=Path, default=None, metavar="MAP.csv",
                   help="CSV with header 'file,id' mapping notebook files to student ids (a "
                   "student folder's name is its id and cannot be remapped)")
    p.add_argument("--exercises", default="",
                   help=f"comma-separated exercise ids or notebook numbers (default: all)"
                   f"{exercises_note}")


def exercise_selection(text: str) -> tuple[str, ...]:
    """The ids and notebook numbers of ``--exercises`` (empty: every exercise)."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def register_grade(subparsers) -> None:
    from .similarity import DEFAULT_THRESHOLD, threshold_argument

    p = subparsers.add_parser(
        "grade",
        help="grade student notebooks in a sandbox into OUT/gradebook.csv and feedback",
        description="Run each submitted notebook in a sandbox (bubblewrap + prlimit + a "
        "wall-clock timeout), call the graded functions on hidden inputs, judge the answers "
        "outside the sandbox, and write OUT/gradebook.csv, OUT/statuses.csv, "
        "OUT/feedback/<id>.md and .html, OUT/summary.md, and OUT/similarity.html and .csv (pairs "
        "of similar code: a flag for a human, never a penalty). The student id is the notebook's "
        "file name (or, for notebooks in a sub-folder of a folder given, the sub-folder's name), "
        "unless --ids maps files to ids. A re-run into the same OUT keeps every result it does "
        "not grade again. With no SUBMISSION nothing is graded: the gradebook of OUT is written "
        "again from its results, with the marks given by hand (--marks, see emlib review).",
    )
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION",
                   help=".ipynb files, or folders of them; none: write the gradebook of OUT again "
                   "from its results (to merge marks given by hand)")
    p.add_argument("--out", required=True, type=Path, help="folder for the gradebook and feedback")
    p.add_argument("--jobs", type=_positive(int), default=1,
                   help="submissions graded in parallel (default 1)")
    p.add_argument("--timeout", type=_positive(float), default=120.0,
                   help="seconds allowed per notebook cell and per hidden call (default 120)")
    p.add_argument("--wall-time", type=_positive(float), default=None,
                   help="seconds allowed per submission in all (default 10 x --timeout, >= 600)")
    p.add_argument("--memory", type=_positive(int), default=4096, metavar="MB",
                   help="address-space limit of each sandboxed process, in MB (default 4096)")
    p.add_argument("--sandbox", choices=("auto", "required", "off"), default="auto",
                   help="bubblewrap: use it when present (auto, the default, says loudly when it "
                   "is not), refuse to grade without it (required), or do not use it (off)")
    p.add_argument("--seed", type=int, default=None,
                   help="secret seed of the hidden cases (default: drawn once, kept in OUT/.seed)")
    p.add_argument("--force", action="store_true",
                   help="grade again submissions whose result is cached")
    add_selection_arguments(p, "; into an existing OUT only their columns change")
    p.add_argument("--late", type=Path, default=None, metavar="LATE.csv",
                   help="CSV with header 'id,days_late': the penalty of late work (default: the "
                   "late file of the previous run into OUT, if any)")
    p.add_argument("--late-penalty", type=_positive(float), default=None, metavar="PERCENT",
                   help="percent of the total taken per day late, at most all of it (default 10)")
    p.add_argument("--report-hints", action="store_true",
                   help="say in each student's feedback which hints (hint(...) calls in the "
                   "notebook) were asked for, and how far; off by default")
    p.add_argument("--roster", type=Path, default=None, metavar="ROSTER.csv",
                   help="CSV with the column 'id' (and optionally name, email, lms_id, section): "
                   "every student on it gets a row (missing work scores 0), and a graded student "
                   "not on it is flagged not-on-roster (default: the roster kept in OUT by the "
                   "last run given one)")
    p.add_argument("--marks", type=Path, default=None, metavar="MARKS.csv",
                   help="CSV 'id,exercise,points,comment' of the exercises marked by hand, as "
                   "emlib review pre-fills it (default: the last run's, else OUT/marks.csv if any)")
    p.add_argument("--similarity-threshold", type=threshold_argument,
                   default=DEFAULT_THRESHOLD, metavar="T",
                   help="OUT/similarity.html and .csv flag pairs of submissions whose code scores "
                   f"at least T, 0 < T <= 1 (default {DEFAULT_THRESHOLD}; see emlib similarity)")
    p.add_argument("--cluster", default=None, metavar="tcp://HOST:PORT|local:N",
                   help="grade on Dask workers instead of --jobs: the address of a running Dask "
                   "scheduler, or local:N to start N worker processes here; each worker must run "
                   "this emlib (checked). Needs pip install 'emlib[cluster]'")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_grade)


def run_grade(args: argparse.Namespace) -> int:
    from .batch import GradeOptions, GradingError, grade
    from .gradebook import unmarked
    from .sandbox import SandboxUnavailable

    options = GradeOptions(
        out=args.out, jobs=args.jobs, timeout=args.timeout, wall_seconds=args.wall_time,
        memory_mb=args.memory, sandbox=args.sandbox, seed=args.seed, force=args.force,
        ids=args.ids, exercises=exercise_selection(args.exercises),
        quiet=args.quiet, late=args.late, late_percent=args.late_penalty,
        report_hints=args.report_hints, roster=args.roster, marks=args.marks,
        similarity_threshold=args.similarity_threshold,
        cluster=args.cluster,
    )
    try:
        rows = grade(args.submissions, options)
    except KeyboardInterrupt:
        print("\nemlib grade: interrupted; no gradebook was written (what was graded is cached: "
              "the same command grades the rest)", file=sys.stderr)
        return 130
    except SandboxUnavailable as exc:
        print(f"emlib grade: error: {exc}", file=sys.stderr)
        return 3
    except GradingError as exc:
        print(f"emlib grade: error: {exc}", file=sys.stderr)
        return 2
    to_mark = unmarked(rows)
    left = (f"; {to_mark} answer(s) remain to be marked by hand (emlib review {args.out})"
            if to_mark else "")
    print(f"wrote the marks of {len(rows)} student(s): {args.out / 'gradebook.csv'}, "
          f"{args.out / 'feedback'}/, {args.out / 'summary.md'}{left}")
    return 0
