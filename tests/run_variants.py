"""The checked outputs and the grades again, under another BLAS kernel and on one thread.

A printed number that depends on rounding passes on the machine that stored it and fails on the
next (another CPU makes OpenBLAS pick other kernels; another core count shares the rows of X
among other threads). ``make test`` runs this after the ordinary runs:

- **another kernel family** the CPU supports (``OPENBLAS_CORETYPE``, see ``blas_kernels.py``),
  with emlib sharing the rows of X among 4 threads (``EMLIB_NUM_THREADS=4``, as on a laptop with
  four cores or more): the notebooks under nbval, and the course's own solutions graded (full
  marks required);
- **one thread** (``OPENBLAS_NUM_THREADS=1``, ``EMLIB_NUM_THREADS=1``): the same two runs.

The two variants run side by side.

nbval names any checked cell whose output differs, with both values. ``--only kernel`` or
``--only threads`` runs one variant; ``--list`` prints what would run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from blas_kernels import check_requested, other_family, read_flags

REPO = Path(__file__).resolve().parents[1]
GRADES = "tests/grading/test_grading_source_notebooks.py"
VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "EMLIB_NUM_THREADS")
ARCHITECTURE = (
    "import json, numpy, threadpoolctl; "
    "print(json.dumps([p.get('architecture') for p in threadpoolctl.threadpool_info() "
    "if p.get('internal_api') == 'openblas']))"
)


def current_architecture(env: dict[str, str]) -> str | None:
    """The kernel family numpy's OpenBLAS runs with ``env`` (None without OpenBLAS)."""
    out = subprocess.run([sys.executable, "-c", ARCHITECTURE], env=env, capture_output=True,
                         text=True, check=True).stdout
    names = [name for name in json.loads(out) if name]
    return names[0] if names else None


def variants(env: dict[str, str]) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """The (name, extra environment) pairs to run, and why any variant is left out."""
    chosen, skipped = [], []
    flags = read_flags()
    current = current_architecture(env)
    if flags is None or current is None:
        skipped.append("another BLAS kernel: needs OpenBLAS on Linux x86-64 "
                       f"(this is {os.uname().machine}, OpenBLAS kernel {current})")
    elif (other := other_family(current, flags)) is None:
        skipped.append(f"another BLAS kernel: this CPU runs only {current}")
    else:
        # with the rows shared among 4 threads, as on most laptops (the default here may be fewer)
        chosen.append((f"kernel {other} (default here: {current}), 4 emlib threads",
                       {"OPENBLAS_CORETYPE": other, "EMLIB_NUM_THREADS": "4"}))
    chosen.append(("one thread", {"OPENBLAS_NUM_THREADS": "1", "EMLIB_NUM_THREADS": "1"}))
    return chosen, skipped


def run_variant(name: str, env: dict[str, str]) -> tuple[str, list[str]]:
    """Run the notebooks and the grading of the solutions under ``env``: (report, failures)."""
    settings = " ".join(f"{k}={v}" for k, v in env.items() if k in VARIABLES)
    report, failures = [f"\n=== {name}: {settings}"], []
    with tempfile.TemporaryDirectory(prefix="emlib-variant-") as tmp:
        for what, command in (
            ("notebooks", ["--nbval-lax", "notebooks/"]),
            ("source solutions graded", [GRADES]),
        ):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 f"--basetemp={tmp}/{len(report)}", *command],
                cwd=REPO, env=env, capture_output=True, text=True)
            report.append(done.stdout + done.stderr)
            report.append(f"--- {name}, {what}: {'passed' if done.returncode == 0 else 'FAILED'} "
                          f"in {time.perf_counter() - start:.0f} s")
            if done.returncode != 0:
                failures.append(f"{name}: {what}")
    return "\n".join(report), failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kernel", "threads"])
    parser.add_argument("--list", action="store_true", help="print the variants and stop")
    args = parser.parse_args()
    env = dict(os.environ)
    problem = check_requested(env.get("OPENBLAS_CORETYPE"), read_flags())
    if problem:
        print(problem, file=sys.stderr)
        return 2
    chosen, skipped = variants(env)
    if args.only:
        chosen = [(name, extra) for name, extra in chosen
                  if (args.only == "kernel") == ("OPENBLAS_CORETYPE" in extra)]
    for reason in skipped:
        print(f"variant left out: {reason}")
    if args.list:
        for name, extra in chosen:
            print(f"{name}: " + " ".join(f"{k}={v}" for k, v in extra.items()))
        return 0
    # the variants side by side (most of each run is one kernel on one core), each reported whole
    # when it ends; each with its own pytest temporary folder
    with ThreadPoolExecutor(max(1, min(len(chosen), os.cpu_count() or 1))) as pool:
        runs = [pool.submit(run_variant, name, {**env, **extra}) for name, extra in chosen]
        failed = []
        for run in as_completed(runs):
            report, failures = run.result()
            print(report, flush=True)
            failed += failures
    if failed:
        print("\nfailed under another kernel or thread count: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
