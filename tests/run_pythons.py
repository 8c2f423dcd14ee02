"""`make test-pythons`: the library, exercise and notebook tests under every CPython found.

Each interpreter that the package supports (``requires-python`` in pyproject.toml) gets its own
virtual environment, ``.venv-pythons/<version>``, with ``.[dev]`` installed from the registry (a
second run installs nothing new), and runs

- ``pytest tests`` without the website's tests (``tests/book``) and the grader's sandbox
  tests (``tests/grading``), which the main ``make test`` runs;
- ``pytest --nbval-lax notebooks/``: every checked output must reproduce with that
  interpreter's NumPy, SciPy and scikit-learn.

It prints one table: interpreter, the versions pip chose, and each run's result and time.
Interpreters are looked for in pyenv's versions and as ``python3.N`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENVS = REPO / ".venv-pythons"
VERSIONS_SCRIPT = (
    "import importlib.metadata as m, platform; "
    "print(platform.python_version(), *(m.version(p) for p in ('numpy', 'scipy', 'scikit-learn')))"
)


def minimum_python() -> tuple[int, int]:
    """The lowest (major, minor) that pyproject.toml's ``requires-python`` admits."""
    # a regular expression, not tomllib: this script may itself run on Python 3.10
    spec = re.search(r'^requires-python\s*=\s*"([^"]*)"', (REPO / "pyproject.toml").read_text(),
                     re.MULTILINE)[1]
    match = re.fullmatch(r"\s*>=\s*(\d+)\.(\d+)\s*", spec)
    if match is None:
        raise SystemExit(f"requires-python = {spec!r}: expected the form '>=3.N'; "
                         "teach tests/run_pythons.py the new form")
    return int(match[1]), int(match[2])


def version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = out.split()
    return int(major), int(minor)


def interpreters() -> dict[tuple[int, int], str]:
    """One interpreter per (major, minor) version: pyenv's first, then ``python3.N`` on PATH."""
    candidates = []
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(str(p) for p in Path(root, "versions").glob("3.*/bin/python3"))
    candidates += [found for n in range(8, 20) if (found := shutil.which(f"python3.{n}"))]
    lowest = minimum_python()
    found: dict[tuple[int, int], str] = {}
    for python in candidates:
        version = version_of(python)
        if version is not None and version >= lowest and version not in found:
            found[version] = python
    return dict(sorted(found.items()))


def run(command: list[str], log: Path, env: dict[str, str]) -> tuple[bool, float]:
    start = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    return done.returncode == 0, time.perf_counter() - start


def summary_line(log: Path) -> str:
    """pytest's last line (``12 passed in 3.4s``) from the log."""
    lines = [line for line in log.read_text().splitlines() if re.search(r" in [\d.]+s", line)]
    return lines[-1].strip("= ") if lines else "see the log"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated versions, e.g. 3.10,3.13")
    args = parser.parse_args()
    found = interpreters()
    if args.only:
        wanted = {tuple(int(x) for x in v.split(".")) for v in args.only.split(",")}
        found = {v: p for v, p in found.items() if v in wanted}
    if not found:
        print("no supported CPython found (pyenv versions or python3.N on the PATH)")
        return 1
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    rows, ok_all = [], True
    for (major, minor), python in found.items():
        name = f"{major}.{minor}"
        venv = VENVS / name
        log = VENVS / f"{name}.log"
        VENVS.mkdir(exist_ok=True)
        log.write_text("")
        print(f"Python {name} ({python}): log in {log.relative_to(REPO)}", flush=True)
        bin_ = venv / "bin"
        steps = []
        if not (bin_ / "python").exists():
            steps.append(run([python, "-m", "venv", str(venv)], log, env))
        steps.append(run([str(bin_ / "python"), "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
                         log, env))
        if not all(ok for ok, _ in steps):
            rows.append((name, "-", "-", "-", "install failed", "", "", ""))
            ok_all = False
            continue
        versions = subprocess.run([str(bin_ / "python"), "-c", VERSIONS_SCRIPT],
                                  capture_output=True, text=True, check=True).stdout.split()
        lib_ok, lib_time = run([str(bin_ / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "tests", "--ignore=tests/book", "--ignore=tests/grading"], log, env)
        lib_summary = summary_line(log)
        nb_ok, nb_time = run([str(bin_ / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "--nbval-lax", "notebooks/"], log, env)
        nb_summary = summary_line(log)
        ok_all &= lib_ok and nb_ok
        rows.append((versions[0], versions[1], versions[2], versions[3],
                     ("pass" if lib_ok else "FAIL") + f" ({lib_summary})", f"{lib_time:.0f} s",
                     ("pass" if nb_ok else "FAIL") + f" ({nb_summary})", f"{nb_time:.0f} s"))
    header = ("python", "numpy", "scipy", "scikit-learn", "library + exercises", "time",
              "notebooks (nbval)", "time")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
