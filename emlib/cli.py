"""The ``emlib`` command: ``emlib student``, ``emlib exercises``, ...

Each subcommand is one ``register_<name>(subparsers)`` function that adds its parser and sets
``func`` (called with the parsed arguments, returning the exit status); :data:`COMMANDS` lists
them. A new subcommand is a new register function appended to ``COMMANDS`` (for an
instructor's command in ``emlib.grading``, a pair in :data:`GRADING_COMMANDS`). Heavy imports happen
inside the command functions so that ``emlib --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
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


# The instructor's commands live in emlib.grading: (module, command) pairs, each module holding
# ``register_<command>(subparsers)``; imported when the parser is built.
GRADING_COMMANDS = (("command", "grade"), ("export", "export"), ("similarity", "similarity"),
                    ("gradescope", "gradescope"), ("review", "review"), ("bundle", "feedback"))


def grading_command(module: str, command: str) -> Callable[[argparse._SubParsersAction], None]:
    """The register function of ``emlib <command>``, found in ``emlib.grading.<module>``."""

    def register(subparsers) -> None:
        found = importlib.import_module(f".grading.{module}", __package__)
        getattr(found, f"register_{command}")(subparsers)

    register.__name__ = f"register_{command}"
    return register


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    register_student,
    register_exercises,
    *(grading_command(module, command) for module, command in GRADING_COMMANDS),
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
