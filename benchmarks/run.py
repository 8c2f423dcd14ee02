"""``make bench``: emlib against scikit-learn on the same EM work, side by side in one process.

For every workload of ``benchmarks/workloads.py`` the two sides run once to warm up, then in
alternating pairs (emlib first in even pairs, scikit-learn first in odd ones, so a drift in the
machine's load falls on both). The ratio column is the median over pairs of
t_emlib / t_sklearn: a pair runs seconds apart, so on a shared machine the ratio is far steadier
than either median time. The table is printed and written as JSON under benchmarks/results/,
with the BLAS thread pools (threadpoolctl) and the load average before and after.

Also measured: each notebook's execution time in a fresh kernel (``--no-notebooks`` skips it)
and, with ``--with-tests``, the wall time of the test suite (``make test``'s commands).

Usage: python benchmarks/run.py [--only W1,W2] [--pairs 5] [--settle 0.5] [--no-notebooks]
       [--with-tests] [--strict]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from workloads import WORKLOADS, Workload  # noqa: E402

NOTEBOOK_LIMIT_S = 60.0
NOTEBOOKS_TOTAL_LIMIT_S = 240.0
TESTS_LIMIT_S = 15 * 60.0


# Seconds of rest before every timed run. After its last parallel product numpy's OpenBLAS keeps
# its worker thread spinning for about 0.1 s: measured here, that thread used 90 ms of a core
# during an emlib fit started right after a scikit-learn fit (W3: 202-208 ms against 151-158 ms
# after one of emlib's own fits), and no CPU at all once 0.1 s had passed. The rest lets each
# side start on a quiet machine, whichever ran before it.
SETTLE_S = 0.5


def timed_run(fn, inputs, settle: float = SETTLE_S) -> tuple[float, object]:
    gc.collect()
    time.sleep(settle)
    t0 = time.perf_counter()
    out = fn(inputs)
    return time.perf_counter() - t0, out


def peak_memory(fn, inputs) -> float:
    """Peak bytes allocated while ``fn`` runs, beyond what was allocated before (tracemalloc
    sees numpy's array buffers); a separate, untimed run."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    fn(inputs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak - base)


def run_workload(w: Workload, pairs: int, settle: float = SETTLE_S) -> dict:
    inputs = w.setup()
    row: dict = {"name": w.name, "description": w.description, "pairs": pairs, "settle_s": settle}
    _, ours = timed_run(w.run_emlib, inputs, settle)  # warm-up, and the results the agreement compares
    theirs = None
    if w.run_sklearn is not None:
        _, theirs = timed_run(w.run_sklearn, inputs, settle)
    value, what = w.agreement(inputs, ours, theirs)
    row["agreement"] = value
    row["agreement_of"] = what
    t_em, t_sk = [], []
    for i in range(pairs):
        if w.run_sklearn is None:
            t_em.append(timed_run(w.run_emlib, inputs, settle)[0])
            continue
        if i % 2 == 0:
            t_em.append(timed_run(w.run_emlib, inputs, settle)[0])
            t_sk.append(timed_run(w.run_sklearn, inputs, settle)[0])
        else:
            t_sk.append(timed_run(w.run_sklearn, inputs, settle)[0])
            t_em.append(timed_run(w.run_emlib, inputs, settle)[0])
    row["emlib_s"] = t_em
    row["emlib_median_s"] = float(np.median(t_em))
    if t_sk:
        row["sklearn_s"] = t_sk
        row["sklearn_median_s"] = float(np.median(t_sk))
        ratios = np.asarray(t_em) / np.asarray(t_sk)
        row["ratios"] = ratios.tolist()
        row["ratio"] = float(np.median(ratios))
    if w.gflop is not None:
        flops = w.gflop(inputs)
        row["gflop"] = flops
        row["emlib_gflops"] = flops / row["emlib_median_s"]
        if t_sk:
            row["sklearn_gflops"] = flops / row["sklearn_median_s"]
    if w.measure_memory:
        row["emlib_peak_mb"] = peak_memory(w.run_emlib, inputs) / 2**20
        if w.run_sklearn is not None:
            row["sklearn_peak_mb"] = peak_memory(w.run_sklearn, inputs) / 2**20
            row["memory_ratio"] = row["emlib_peak_mb"] / row["sklearn_peak_mb"]
    row["targets"] = w.targets
    row["misses"] = misses(row, w.targets)
    return row


def misses(row: dict, targets: dict) -> list[str]:
    out = []
    if "ratio" in targets and row.get("ratio", np.inf) > targets["ratio"]:
        out.append(f"ratio {row.get('ratio', float('nan')):.3f} > {targets['ratio']}")
    if "gflops" in targets and row.get("emlib_gflops", 0.0) < targets["gflops"]:
        out.append(f"{row.get('emlib_gflops', 0.0):.1f} GFLOP/s < {targets['gflops']}")
    if "ms" in targets and row["emlib_median_s"] * 1e3 > targets["ms"]:
        out.append(f"{row['emlib_median_s'] * 1e3:.1f} ms > {targets['ms']} ms")
    if "memory" in targets and row.get("memory_ratio", np.inf) > targets["memory"]:
        out.append(f"memory x{row.get('memory_ratio', float('nan')):.2f} > x{targets['memory']}")
    if row.get("agreement") is not None and row["agreement"] > 1e-10:
        out.append(f"agreement {row['agreement']:.1e} > 1e-10")
    return out


def fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'':4} {'workload':44} {'sklearn':>9} {'emlib':>9} {'ratio':>6} {'target':>7} "
        f"{'GFLOP/s sk|em':>14} {'agreement':>18}  status"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        t = r["targets"]
        target = (
            f"<={t['ratio']}" if "ratio" in t else f"<={t['ms']:.0f}ms" if "ms" in t else ""
        )
        gf = ""
        if "emlib_gflops" in r:
            gf = f"{r.get('sklearn_gflops', float('nan')):.1f}|{r['emlib_gflops']:.1f}"
        agree = "-"
        if r.get("agreement") is not None:
            agree = f"{r['agreement']:.1e} {r['agreement_of']}"
        elif r.get("agreement_of"):
            agree = f"n/a ({r['agreement_of']})"
        ratio = f"{r['ratio']:.3f}" if "ratio" in r else "-"
        status = "ok" if not r["misses"] else "MISS: " + "; ".join(r["misses"])
        print(
            f"{r['name']:4} {r['description']:44} {fmt_s(r.get('sklearn_median_s')):>9} "
            f"{fmt_s(r['emlib_median_s']):>9} {ratio:>6} {target:>7} {gf:>14} {agree:>18}  "
            f"{status}"
        )
        if "emlib_peak_mb" in r:
            print(
                f"{'':4}   peak memory during the fit: emlib {r['emlib_peak_mb']:.0f} MB, "
                f"scikit-learn {r.get('sklearn_peak_mb', float('nan')):.0f} MB "
                f"(x{r.get('memory_ratio', float('nan')):.2f})"
            )


def time_notebooks(paths: list[Path]) -> list[dict]:
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        t0 = time.perf_counter()
        error = None
        try:
            # The kernel's own start-up chatter (stderr) would interleave with the table.
            client.execute(stderr=subprocess.DEVNULL)
        except Exception as exc:  # a failing notebook is reported, not fatal to the bench
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
        rows.append(
            {"notebook": path.name, "seconds": time.perf_counter() - t0, "error": error}
        )
        r = rows[-1]
        status = "ok" if error is None and r["seconds"] <= NOTEBOOK_LIMIT_S else "MISS"
        print(f"  {path.name:32} {r['seconds']:7.1f} s  {status}" + (f"  {error}" if error else ""))
    total = sum(r["seconds"] for r in rows)
    status = "ok" if total <= NOTEBOOKS_TOTAL_LIMIT_S else "MISS"
    print(f"  {'all notebooks':32} {total:7.1f} s  {status} (targets: each <= "
          f"{NOTEBOOK_LIMIT_S:.0f} s, all <= {NOTEBOOKS_TOTAL_LIMIT_S:.0f} s)")
    return rows


def time_tests() -> dict:
    """``make test``'s two commands, timed together."""
    bin_dir = Path(sys.executable).parent
    t0 = time.perf_counter()
    lint = subprocess.run([str(bin_dir / "ruff"), "check", "."], cwd=ROOT)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT)
    seconds = time.perf_counter() - t0
    status = "ok" if seconds <= TESTS_LIMIT_S else "MISS"
    print(f"  make test's commands: {seconds:.0f} s  {status} (target <= {TESTS_LIMIT_S:.0f} s); "
          f"ruff exit {lint.returncode}, pytest exit {tests.returncode}")
    return {"seconds": seconds, "ruff_exit": lint.returncode, "pytest_exit": tests.returncode}


def environment() -> dict:
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    import emlib

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "emlib": getattr(emlib, "__version__", importlib.metadata.version("emlib")),
        "threadpools": threadpool_info(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workload names, e.g. W1,W3")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs (>= 5)")
    parser.add_argument("--no-notebooks", action="store_true", help="skip notebook timings")
    parser.add_argument("--with-tests", action="store_true", help="also time the test suite")
    parser.add_argument("--settle", type=float, default=SETTLE_S,
                        help=f"seconds of rest before each timed run (default {SETTLE_S})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="JSON directory")
    args = parser.parse_args(argv)
    if args.pairs < 5:
        parser.error(f"--pairs must be at least 5 (medians of fewer pairs are noise); got {args.pairs}")
    chosen = WORKLOADS
    if args.only:
        names = {s.strip() for s in args.only.split(",")}
        unknown = names - {w.name for w in WORKLOADS}
        if unknown:
            parser.error(f"unknown workload(s) {sorted(unknown)}; choose from "
                         f"{[w.name for w in WORKLOADS]}")
        chosen = [w for w in WORKLOADS if w.name in names]

    env = environment()
    load_before = os.getloadavg()
    print(f"emlib {env['emlib']} vs scikit-learn {env['sklearn']} (numpy {env['numpy']}, "
          f"scipy {env['scipy']}), {env['cpus']} CPUs, load average {load_before[0]:.2f}")
    for pool in env["threadpools"]:
        print(f"  {pool['user_api']:7} {pool['prefix']:20} {pool.get('version') or '':14} "
              f"threads={pool['num_threads']}")
    print(f"ratio = median over {args.pairs} alternating pairs of t_emlib / t_sklearn, "
          f"after one warm-up run of each; {args.settle:g} s of rest before every run\n")

    rows = []
    for w in chosen:
        print(f"running {w.name}: {w.description} ...", flush=True)
        rows.append(run_workload(w, args.pairs, args.settle))
    print()
    print_table(rows)
    load_after = os.getloadavg()
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"(a shared machine makes absolute times noisy; the ratios are the measurement)")

    notebooks = []
    if not args.no_notebooks:
        paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
        print(f"\nnotebooks, each in a fresh kernel ({len(paths)} found):")
        notebooks = time_notebooks(paths)
    tests = None
    if args.with_tests:
        print("\ntest suite:")
        tests = time_tests()

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.out / f"bench-{stamp}.json"
    report = {
        "when": stamp,
        "environment": env,
        "load_average": {"before": load_before, "after": load_after},
        "workloads": rows,
        "notebooks": notebooks,
        "tests": tests,
    }
    path.write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    failed = any(r["misses"] for r in rows) or any(
        n["error"] or n["seconds"] > NOTEBOOK_LIMIT_S for n in notebooks
    )
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
