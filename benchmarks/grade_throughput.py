"""``make bench-grade``: how fast ``emlib grade`` gets through a class, and what a worker adds.

N copies (``--copies``, 40 by default) of a correct notebook-03 submission (the source notebook,
solutions included: it gets full marks; each copy has its own bytes, else the cache would grade
one and reuse it) are graded on notebook 03's exercises
(``--exercises 03``) four ways, each into a fresh output folder by the ``emlib grade`` command:

- ``plain``: the notebook executed by nbclient in a fresh kernel, no sandbox, no grading
  (``--plain-runs`` times, 3 by default: the floor any grading pays);
- ``--jobs 1`` and ``--jobs 2``: threads of one process;
- ``--cluster local:2``: a Dask LocalCluster of two worker processes (one thread each), started
  and closed by the command, as on a real cluster but on this machine.

Printed: the wall time, the seconds per submission, the ratio to plain execution, and the
speed-up of two workers over one. Every gradebook must give every copy full marks, and the
gradebooks must be byte for byte the same. The table goes to
``benchmarks/results/grade-<time>.json`` too (ignored by git). Nothing here is a test.

Usage: python benchmarks/grade_throughput.py [--copies 40] [--plain-runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT / "notebooks" / "03_gmm_em.ipynb"
MODES = (("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"]),
         ("--cluster local:2", ["--cluster", "local:2"]))


def write_copies(subs: Path, copies: int) -> None:
    """``copies`` files of the source notebook, each with its own bytes (a number in its
    metadata): the grader's cache is keyed by the bytes, and identical copies would be graded
    once."""
    import nbformat

    for i in range(copies):
        nb = nbformat.read(SOURCE, as_version=4)
        nb.metadata["bench_copy"] = i + 1
        nbformat.write(nb, subs / f"student-{i + 1:03d}.ipynb")


def plain_seconds(runs: int) -> list[float]:
    """Wall seconds of executing the notebook in a fresh kernel, ``runs`` times."""
    import nbformat
    from nbclient import NotebookClient

    times = []
    for _ in range(runs):
        nb = nbformat.read(SOURCE, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(SOURCE.parent)}})
        t0 = time.perf_counter()
        client.execute(stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def grade_seconds(subs: Path, out: Path, extra: list[str]) -> float:
    """Wall seconds of one ``emlib grade`` command over ``subs``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    cmd = [sys.executable, "-m", "emlib.cli", "grade", str(subs), "--out", str(out),
           "--exercises", "03", "--seed", "20261204", "--quiet", *extra]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(extra)} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return seconds


def full_marks(gradebook: Path, copies: int) -> bool:
    with open(gradebook, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return len(rows) == copies and all(r["percent"] == "100" for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=40, help="submissions to grade (40)")
    parser.add_argument("--plain-runs", type=int, default=3,
                        help="executions of the plain notebook to average (3)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="grade into this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.plain_runs < 1:
        parser.error("--copies and --plain-runs must be at least 1")
    work = args.keep or Path(tempfile.mkdtemp(prefix="emlib-bench-grade-"))
    subs = work / "submissions"
    subs.mkdir(parents=True, exist_ok=True)
    write_copies(subs, args.copies)
    print(f"grading {args.copies} copies of {SOURCE.name} (--exercises 03) on "
          f"{os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.2f}")
    rows = []
    try:
        plain = plain_seconds(args.plain_runs)
        per_plain = sum(plain) / len(plain)
        rows.append({"mode": "plain nbclient", "seconds": sum(plain), "submissions": len(plain),
                     "per_submission": per_plain})
        print(f"  plain nbclient: {per_plain:.1f} s per run ({len(plain)} runs)")
        books = []
        for name, extra in MODES:
            out = work / ("out" + name.replace(" ", "_").replace(":", "").replace("-", ""))
            shutil.rmtree(out, ignore_errors=True)
            seconds = grade_seconds(subs, out, extra)
            books.append((out / "gradebook.csv").read_bytes())
            rows.append({"mode": name, "seconds": seconds, "submissions": args.copies,
                         "per_submission": seconds / args.copies,
                         "full_marks": full_marks(out / "gradebook.csv", args.copies)})
            print(f"  {name}: {seconds:.0f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    one = next(r for r in rows if r["mode"] == "--jobs 1")["per_submission"]
    print("\n| mode | wall s | s per submission | x plain | speed-up over --jobs 1 |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        r["ratio_to_plain"] = r["per_submission"] / per_plain
        r["speedup"] = one / r["per_submission"]
        print(f"| {r['mode']} | {r['seconds']:.0f} | {r['per_submission']:.1f} | "
              f"{r['ratio_to_plain']:.2f} | {r['speedup']:.2f} |")
    same = all(b == books[0] for b in books)
    marks = all(r.get("full_marks", True) for r in rows)
    print(f"\nevery copy full marks: {'yes' if marks else 'NO'}; the same gradebook from every "
          f"mode: {'yes' if same else 'NO'}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (results / f"grade-{stamp}.json").write_text(json.dumps(
        {"copies": args.copies, "cpus": os.cpu_count(), "python": platform.python_version(),
         "load_after": os.getloadavg()[0], "rows": rows, "same_gradebook": same,
         "full_marks": marks}, indent=1))
    return 0 if same and marks else 1


if __name__ == "__main__":
    sys.exit(main())
