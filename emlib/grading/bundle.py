"""``emlib feedback OUT --zip [--out FILE]``: every student's feedback page in one zip file.

The zip (default ``OUT/feedback.zip``) holds ``<id>.html`` for each student of
``OUT/gradebook.csv``, in its order: the page ``emlib grade`` wrote in ``OUT/feedback/``, with
the points and comments of the marks given by hand once merged. ``<id>`` is the student id as a
file name (:func:`.gradebook.feedback_names`, the name of the page in ``OUT/feedback/``). One
file is one upload; an LMS that takes one file per student gets them by unzipping it. The zip
is written atomically, and the same pages give the same bytes.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

from .gradebook import atomic_write, feedback_names
from .layout import GradingError, read_csv_rows

EPOCH = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: the same pages, the same bytes


def register_feedback(subparsers) -> None:
    p = subparsers.add_parser("feedback", help="bundle the feedback pages of OUT into one zip",
                              description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("out", type=Path, metavar="OUT", help="the --out folder of emlib grade")
    p.add_argument("--zip", action="store_true", required=True,
                   help="write a zip with one <id>.html per student")
    p.add_argument("--out", dest="target", type=Path, default=None, metavar="FILE",
                   help="the zip file to write (default: OUT/feedback.zip)")
    p.set_defaults(func=run_feedback)


def run_feedback(args: argparse.Namespace) -> int:
    target = args.target or args.out / "feedback.zip"
    try:
        count = feedback_zip(args.out, target)
    except GradingError as exc:
        print(f"emlib feedback: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}: the feedback of {count} student(s)")
    return 0


def feedback_zip(out: Path, target: Path) -> int:
    """Write the zip of the feedback pages of ``out`` to ``target``; the number of students."""
    ids = [r["id"] for r in read_csv_rows(out / "gradebook.csv", "OUT", ("id",),
                                          "give the --out folder of a finished emlib grade run")]
    names = feedback_names(ids)
    pages = [out / "feedback" / f"{names[sid]}.html" for sid in ids]
    absent = [str(p) for p in pages if not p.is_file()]
    if absent:
        raise GradingError(f"{len(absent)} feedback page(s) of the gradebook are missing: "
                           f"{', '.join(absent)}. Fix: run emlib grade --out {out} again.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for page in pages:
            info = zipfile.ZipInfo(page.name, EPOCH)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, page.read_bytes())
    atomic_write(target, buf.getvalue())
    return len(ids)
