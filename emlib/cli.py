"""The ``emlib`` command: ``emlib student``, ``emlib exercises``, ...

Each subcommand is one ``register_<name>(subparsers)`` function that adds its parser and sets
``func`` (called with the parsed arguments, returning the exit status); :data:`COMMANDS` lists
them. A new subcommand is a new register function appended to ``COMMANDS``. Heavy imports happen
inside the command functions so that ``emlib --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence


def _student(args: argparse.Namespace) -> int:
    from .student_edition import StudentEditionError, write_student_edition

    try:
        written = write_student_edition(args.source, args.out)
    except (StudentEditionError, FileNotFoundError, ValueError) as exc:
        print(f"emlib student: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} student notebook(s) to {args.out}")
    return 0


def register_student(subparsers) -> None:
    p = subparsers.add_parser(
        "student",
        help="write the student edition of the notebooks (solutions replaced by stubs)",
        description="Replace solution code with NotImplementedError stubs and solution values "
        "with ..., drop markdown cells tagged 'solution', clear exercise and check outputs.",
    )
    p.add_argument("source", help="folder of source notebooks (or one .ipynb)")
    p.add_argument("--out", required=True, help="folder to write the student notebooks to")
    p.set_defaults(func=_student)


def _exercises(args: argparse.Namespace) -> int:
    from .exercises import all_exercises, total_points

    rows = [
        {
            "id": e.id,
            "notebook": e.notebook,
            "points": e.points,
            "kind": e.kind,
            "auto_points": e.auto_points,
            "title": e.title,
        }
        for e in all_exercises()
    ]
    total = total_points()
    if args.json:
        print(json.dumps({"exercises": rows, "total_points": total}, indent=2))
        return 0
    kinds = [r["kind"] + (" (manual)" if r["kind"] == "derivation" else "") for r in rows]
    width = max([len("id"), *(len(r["id"]) for r in rows)])
    kw = max([len("kind"), *map(len, kinds)])
    print(f"{'id':<{width}}  notebook  points  {'kind':<{kw}}  title")
    for r, kind in zip(rows, kinds, strict=True):
        print(
            f"{r['id']:<{width}}  {r['notebook']:<8}  {r['points']:>6g}  {kind:<{kw}}  {r['title']}"
        )
    auto = sum(r["auto_points"] for r in rows)
    print(f"{len(rows)} exercises, {total:g} points in all ({auto:g} graded automatically).")
    return 0


def register_exercises(subparsers) -> None:
    p = subparsers.add_parser(
        "exercises", help="list every exercise: id, notebook, points, kind; the point total"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_exercises)


def register_export(subparsers) -> None:
    from .grading.export import register_export as register

    register(subparsers)


def register_gradescope(subparsers) -> None:
    from .grading.gradescope import register_gradescope as register

    register(subparsers)


def register_similarity(subparsers) -> None:
    from .grading.similarity import register_similarity as register

    register(subparsers)


def register_grade(subparsers) -> None:
    from .grading.command import register_grade as register

    register(subparsers)


def register_review(subparsers) -> None:
    from .grading.review import register_review as register

    register(subparsers)


def register_feedback(subparsers) -> None:
    from .grading.bundle import register_feedback as register

    register(subparsers)


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    register_student,
    register_exercises,
    register_grade,
    register_export,
    register_similarity,
    register_gradescope,
    register_review,
    register_feedback,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emlib", description="The EM course's tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
