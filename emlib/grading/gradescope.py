"""``emlib gradescope``: the course's autograder, packed for a Gradescope programming assignment.

::

    emlib gradescope --out autograder.zip [--exercises ID,...] [--seed SEED]
                     [--sandbox auto|required|off] [--timeout S] [--visibility WHEN]

Gradescope unpacks the zip into ``/autograder/source``. It holds:

``setup.sh``
    run once, as root, when Gradescope builds the image: Python (``python3``, ``python3-venv``,
    ``python3-pip``), bubblewrap, and the virtual environment ``/opt/emlib`` with this very emlib
    installed from the wheel in the zip (its dependencies come from PyPI).
``run_autograder``
    run for each submission: ``python -m emlib.grading.gradescope run`` grades the notebooks in
    ``/autograder/submission`` with :func:`.batch.grade`, the harness of ``emlib grade``, and
    writes ``/autograder/results/results.json``.
``emlib-gradescope.json``
    the exercises, limits and visibility chosen when the zip was built.
``seed``
    the secret seed of the hidden cases. Only the grading process reads it: it is never copied
    into the submission folder or the sandbox, nor written into the results. Without the sandbox
    (``--sandbox off``, or ``auto`` where bubblewrap cannot run) the student's code could read
    it, so it is then deleted before that code runs (each submission gets a fresh container).

The results: one test per exercise, ``"01.jensen-gap: <title>"``, with its points and the
feedback of ``emlib grade`` for it (Markdown); a derivation is a 0-point test marked by hand; a
crash, a time-out or a damaged file is a failed 0-point test whose output gives the status. The
tests and the score are shown ``after_due_date`` by default, so that students cannot probe the
hidden cases by submitting again and again; ``--visibility visible`` shows them at once. What
``run_autograder`` prints (the flags, the sandbox warnings) is for the instructor only.

``EMLIB_GRADESCOPE_ROOT`` replaces ``/autograder`` and ``EMLIB_GRADESCOPE_PYTHON`` the Python of
``/opt/emlib``, so that the script runs against a folder laid out like Gradescope's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from .. import __version__
from . import protocol as P
from .batch import GradeOptions, grade, select_exercises
from .gradebook import atomic_write, exercise_md, running_md
from .layout import SKIPPED_FOLDERS, GradingError, answered_notebooks
from .sandbox import MODES, SandboxUnavailable, bubblewrap_problem

ROOT_VARIABLE = "EMLIB_GRADESCOPE_ROOT"
CONFIG = "emlib-gradescope.json"
SEED = "seed"
VENV = "/opt/emlib"
STUDENT = "submission"
VISIBILITIES = ("after_due_date", "visible", "after_published", "hidden")
GRADING_PACKAGES = ("nbclient", "ipykernel")  # the harness's runner and the student's kernel

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for each submission (written by `emlib gradescope`, emlib {__version__}).
# {ROOT_VARIABLE} replaces /autograder; EMLIB_GRADESCOPE_PYTHON the Python of setup.sh.
set -euo pipefail
export {ROOT_VARIABLE}="${{{ROOT_VARIABLE}:-/autograder}}"
exec "${{EMLIB_GRADESCOPE_PYTHON:-{VENV}/bin/python}}" -m emlib.grading.gradescope run
"""


@dataclass(frozen=True)
class Config:
    """What the zip's ``emlib-gradescope.json`` fixes for every submission."""

    version: str
    exercises: tuple[str, ...]
    sandbox: str = "auto"
    timeout: float = 120.0
    visibility: str = VISIBILITIES[0]

    def uses_bubblewrap(self) -> bool:
        return self.sandbox != "off" and bubblewrap_problem() is None


# -- building the zip --------------------------------------------------------------------------
def _zip(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip of ``name -> (data, mode)``, the same bytes for the same files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _distribution() -> metadata.Distribution:
    try:
        dist = metadata.distribution("emlib")
    except metadata.PackageNotFoundError:
        raise GradingError("emlib is not installed, so its metadata cannot go into the wheel. "
                           "Fix: `pip install -e .` in the course repository.") from None
    if dist.version != __version__:
        raise GradingError(f"the installed emlib is version {dist.version} but the code here is "
                           f"{__version__}. Fix: `pip install -e .` in the course repository.")
    return dist


def wheel(dist: metadata.Distribution) -> tuple[str, bytes]:
    """The wheel of this emlib: its package files (data included, caches left out) and the
    installed distribution's metadata and entry points."""
    package = Path(__file__).resolve().parents[1]
    info = f"emlib-{__version__}.dist-info"
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and path.suffix != ".pyc" and not any(
                part == "__pycache__" or part.startswith(".") for part in rel.parts):
            files[f"emlib/{rel.as_posix()}"] = path.read_bytes()
    # an editable install run from the repository finds emlib.egg-info first: PKG-INFO, same format
    meta = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: emlib gradescope\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = (dist.read_text("entry_points.txt") or "").encode()
    record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
              f"{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,", ""]).encode()
    return f"emlib-{__version__}-py3-none-any.whl", _zip({n: (d, 0o644) for n, d in files.items()})


def grading_requirements(dist: metadata.Distribution) -> list[str]:
    """The requirements of the grading harness beyond emlib's own, as pyproject.toml gives them."""
    found = {}
    for req in dist.requires or []:
        spec = req.split(";")[0].strip()
        name = re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower()
        found.setdefault(name, spec)
    return [found.get(name, name) for name in GRADING_PACKAGES]


def setup_sh(wheel_name: str, requirements: list[str]) -> str:
    check = (f"import emlib, sys; sys.exit(None if emlib.__version__ == '{__version__}' else "
             f"'installed emlib ' + emlib.__version__ + ', expected {__version__}')")
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (written by
# `emlib gradescope`, emlib {__version__}).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv {VENV}
{VENV}/bin/python -m pip install --upgrade pip
# emlib {__version__} itself from the wheel in this zip, its dependencies from PyPI
{VENV}/bin/python -m pip install ./{wheel_name} {' '.join(f"'{r}'" for r in requirements)}
{VENV}/bin/python -c "{check}"
"""


def build(out: Path, exercises=(), seed: int | None = None, sandbox: str = "auto",
          timeout: float = 120.0, visibility: str = VISIBILITIES[0]) -> Config:
    """Write the autograder zip to ``out`` (atomically); returns its configuration."""
    chosen = select_exercises(exercises)
    dist = _distribution()
    wheel_name, wheel_data = wheel(dist)
    config = Config(__version__, tuple(ex.id for ex in chosen), sandbox, timeout, visibility)
    seed = secrets.randbits(62) if seed is None else int(seed)
    atomic_write(out, _zip({
        "setup.sh": (setup_sh(wheel_name, grading_requirements(dist)).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.encode(), 0o755),
        CONFIG: (json.dumps(asdict(config), indent=1).encode(), 0o644),
        SEED: (f"{seed}\n".encode(), 0o600),
        wheel_name: (wheel_data, 0o644),
    }))
    return config


# -- grading one submission --------------------------------------------------------------------
def read_config(source: Path) -> Config:
    path = source / CONFIG
    try:
        data = json.loads(path.read_text())
        config = Config(**{**data, "exercises": tuple(data["exercises"])})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GradingError(f"{path} is missing or damaged ({type(exc).__name__}). Fix: build "
                           f"the zip again with `emlib gradescope` and upload it.") from None
    if config.version != __version__:
        raise GradingError(f"the zip was built with emlib {config.version} but emlib "
                           f"{__version__} is installed. Fix: upload the zip again, so that "
                           f"setup.sh installs the emlib inside it.")
    return config


def take_seed(source: Path, forget: bool) -> int:
    """The secret seed; with ``forget`` its file is deleted (the student's code could read it)."""
    path = source / SEED
    try:
        text = path.read_text()
    except OSError as exc:
        raise GradingError(f"the seed file {path} cannot be read ({exc.strerror}). Fix: build "
                           f"the zip again with `emlib gradescope` and upload it.") from None
    if not re.fullmatch(r"\s*-?\d+\s*", text):  # never echo it: it is secret
        raise GradingError(f"the seed file {path} does not hold one integer. Fix: build the zip "
                           f"again with `emlib gradescope --seed SEED` and upload it.")
    if forget:
        path.unlink()
    return int(text)


def submitted_notebooks(folder: Path) -> list[tuple[Path, str]]:
    """``(file, path in the submission)`` of each notebook handed in, at any depth; hidden files
    and checkpoint folders are left out."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")) if folder.is_dir() else []:
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") or p in SKIPPED_FOLDERS for p in rel.parts):
            found.append((path, rel.as_posix()))
    return found


def submission_problem(found: list[tuple[Path, str]], exercises) -> str | None:
    """Why the files handed in cannot be graded as one student's work, or None."""
    numbers = sorted({ex.notebook for ex in exercises})
    if not found:
        return (f"No notebook (.ipynb) was found in your submission. Submit the notebook you "
                f"worked in (course notebook {', '.join(numbers)}) as an .ipynb file.")
    answering: dict[str, list[str]] = {}
    for path, name in found:
        for number in answered_notebooks(path, exercises):
            answering.setdefault(number, []).append(name)
    clashes = [f"{', '.join(names)} all answer notebook {number}"
               for number, names in sorted(answering.items()) if len(names) > 1]
    if clashes:
        return (f"Several notebooks were submitted for one course notebook: {'; '.join(clashes)}. "
                f"Submit one notebook per course notebook: remove the others and submit again.")
    return None


def exercise_test(ex, result, visibility: str) -> dict:
    """One Gradescope test: an exercise's points and its feedback."""
    hand = f" (marked by hand, {ex.points:g} points)" if result.status == P.MANUAL else ""
    test = {"name": f"{ex.id}: {ex.title}{hand}", "score": result.points,
            "max_score": result.max_points, "output": "\n".join(exercise_md(result)),
            "output_format": "md", "visibility": visibility}
    if result.status != P.MANUAL:  # marked by hand: neither passed nor failed
        test["status"] = "passed" if result.status == P.OK else "failed"
    return test


def not_graded(message: str, exercises, visibility: str) -> dict:
    """The results of a submission that could not be graded: 0 on every exercise, and why."""
    tests = [{"name": f"{ex.id}: {ex.title}", "score": 0.0, "max_score": ex.auto_points,
              "status": "failed", "output": f"not graded: {message}", "output_format": "md",
              "visibility": visibility} for ex in exercises]
    return {"score": 0.0, "output": message, "output_format": "md", "visibility": visibility,
            "stdout_visibility": "hidden", "tests": tests}


def grade_submission(root: Path, config: Config, stream) -> dict:
    """Grade ``root/submission`` with ``emlib grade``'s batch; the results as Gradescope reads them."""
    exercises = select_exercises(config.exercises)
    found = submitted_notebooks(root / "submission")
    problem = submission_problem(found, exercises)
    if problem:
        stream.write(f"not graded: {problem}\n")
        return not_graded(problem, exercises, config.visibility)
    seed = take_seed(root / "source", forget=not config.uses_bubblewrap())
    with tempfile.TemporaryDirectory(prefix="emlib-gradescope-") as tmp:
        folder = Path(tmp) / "submissions" / STUDENT
        folder.mkdir(parents=True)
        for path, name in found:  # one student folder, flat: sub/a.ipynb is sub__a.ipynb
            shutil.copyfile(path, folder / name.replace("/", "__"))
        options = GradeOptions(out=Path(tmp) / "out", timeout=config.timeout, seed=seed,
                               sandbox=config.sandbox, exercises=config.exercises, quiet=True)
        rows = grade([folder.parent], options, stream=stream)
    row = next(r for r in rows if r.student == STUDENT)
    stream.write(f"graded {', '.join(name for _, name in found)}: {row.total:g} / "
                 f"{row.maximum:g} ({row.status_summary()}); flags: {', '.join(row.flags) or '-'}\n")
    return {"score": row.total,
            "output": "\n".join([f"**Total: {row.total:g} / {row.maximum:g}**", "",
                                 *running_md(row)]),
            "output_format": "md", "visibility": config.visibility, "stdout_visibility": "hidden",
            "tests": [exercise_test(ex, row.exercises[ex.id], config.visibility)
                      for ex in exercises]}


def run(root: Path, stream=None) -> int:
    """Grade the submission under ``root`` (Gradescope's ``/autograder``) into
    ``root/results/results.json``, whatever happens; 0 when it was graded or refused for a
    reason the student can fix, 1 when the autograder itself failed."""
    stream = sys.stdout if stream is None else stream
    started, status = time.monotonic(), 0
    try:
        results = grade_submission(root, read_config(root / "source"), stream)
    except (GradingError, SandboxUnavailable) as exc:
        stream.write(f"emlib gradescope: error: {exc}\n")
        results, status = not_graded(f"The autograder could not run: {exc}", (), "visible"), 1
    except Exception:  # a bug: the student still gets a result, the instructor the traceback
        stream.write(traceback.format_exc())
        results = not_graded("The autograder failed on this submission; your instructor can see "
                             "why in its log.", (), "visible")
        status = 1
    results["execution_time"] = round(time.monotonic() - started)
    atomic_write(root / "results" / "results.json", json.dumps(results, indent=1) + "\n")
    return status


# -- the command lines -------------------------------------------------------------------------
def register_gradescope(subparsers) -> None:
    from .command import _positive

    p = subparsers.add_parser(
        "gradescope", help="build a Gradescope autograder zip (setup.sh, run_autograder, seed)",
        description="Write a zip to upload as the autograder of a Gradescope programming "
        "assignment: it installs this emlib and grades each submission with the harness of "
        "emlib grade, one Gradescope test per exercise.")
    p.add_argument("--out", required=True, type=Path, metavar="ZIP", help="the zip to write")
    p.add_argument("--exercises", default="",
                   help="comma-separated exercise ids or notebook numbers (default: all)")
    p.add_argument("--seed", type=int, default=None,
                   help="secret seed of the hidden cases (default: drawn now; kept in the zip)")
    p.add_argument("--sandbox", choices=MODES, default="auto",
                   help="bubblewrap on Gradescope: use it when it runs (auto), refuse to grade "
                   "without it (required), or do not use it (off)")
    p.add_argument("--timeout", type=_positive(float), default=120.0,
                   help="seconds allowed per notebook cell and per hidden call (default 120)")
    p.add_argument("--visibility", choices=VISIBILITIES, default=VISIBILITIES[0],
                   help="when students see the tests and the score (default after_due_date)")
    p.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    ids = tuple(s.strip() for s in args.exercises.split(",") if s.strip())
    try:
        config = build(args.out, ids, args.seed, args.sandbox, args.timeout, args.visibility)
    except GradingError as exc:
        print(f"emlib gradescope: error: {exc}", file=sys.stderr)
        return 2
    points = sum(ex.auto_points for ex in select_exercises(config.exercises))
    print(f"wrote {args.out}: {len(config.exercises)} exercise(s), {points:g} points graded "
          f"automatically. Upload it as the autograder of a Gradescope programming assignment; "
          f"it holds the secret seed (its file {SEED}): keep it private.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emlib.grading.gradescope",
                                     description="Gradescope's side of the autograder zip.")
    parser.add_argument("action", choices=("run",), help="grade the submission under "
                        f"${ROOT_VARIABLE} (default /autograder) into results/results.json")
    parser.parse_args(argv)
    return run(Path(os.environ.get(ROOT_VARIABLE) or "/autograder"))


if __name__ == "__main__":
    sys.exit(main())
