"""One submission through the sandbox: read it, plan its hidden calls, run the harness, read the report.

The grader's side of :mod:`.sandboxed.harness`. A submission that is not JSON, or JSON that is
not a Jupyter notebook, never reaches the sandbox (``invalid-notebook``). Otherwise the exercises
it answers are found from the exercise ids it mentions (:func:`.protocol.ids_in_cell`), else from
the graded names it defines, else from a file name that starts with the notebook number
(``03_gmm.ipynb``). The :class:`~.protocol.Plan` goes into the run directory; the hidden inputs go
to the harness on its standard input (it hands them to the kernel only after the notebook ran);
the expected values never leave the grader. The report comes back as typed
:mod:`.protocol` reports in a :class:`SandboxRun`.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import protocol as P
from .integrity import defining_cells
from .sandbox import Sandbox
from .sandboxed import plain_data, report_channel

MAX_NOTEBOOK_BYTES = 64 * 2**20


@dataclass
class SandboxRun:
    """What came back from the sandbox for one submission (or why nothing could)."""

    invalid: str | None = None  # why the file is not a notebook
    cells: list[P.CellReport] = field(default_factory=list)  # the notebook's cells as run
    results: dict[str, list[P.CaseReport]] = field(default_factory=dict)  # id -> its cases
    failure: str | None = None  # the harness's own failure, if any
    complete: bool = False  # the "done" frame arrived
    timed_out: bool = False  # the wall clock ran out
    channel_problem: str | None = None  # a frame that failed authentication or decoding
    restarts: int = 0
    peak_vm: int = 0
    kernel_log: str = ""
    stderr: str = ""
    seconds: float = 0.0


def read_notebook(path: Path):
    """``(notebook, None)``, or ``(None, why it is not a valid notebook)``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"the file cannot be read ({exc.strerror})"
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return None, f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"not valid JSON ({str(exc)[:120]}): the file is damaged or not a notebook"
    missing = [k for k in ("nbformat", "cells") if not isinstance(data, dict) or k not in data]
    if missing:  # nbformat would read {"cells": []} as an empty notebook of an old version
        return None, f"valid JSON but not a Jupyter notebook (no {' or '.join(missing)} field)"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return None, f"valid JSON but not a Jupyter notebook ({first})"
    return nb, None


def notebook_numbers(nb, path: Path, exercises) -> list[str]:
    """The course notebooks (``"03"``, ...) whose exercises this submission answers."""
    known = {ex.notebook for ex in exercises}
    ids = [i for c in nb.cells if c.get("cell_type") == "code"
           for i in P.ids_in_cell(c.source, c.get("metadata", {}).get("tags", []))]
    found = {i.split(".")[0] for i in ids} & known
    if not found:
        found = {ex.notebook for ex in exercises if defining_cells(nb, ex.name)}
    if not found and (m := P.NOTEBOOK_PREFIX.match(path.stem)) and m.group(1) in known:
        found = {m.group(1)}
    return sorted(found)


def build_plan(exercises, cases: dict, limits: P.KernelLimits, workdir: str,
               pid_namespace: bool) -> P.Plan:
    """The harness's instructions: which names to call on how many hidden cases, and limits."""
    plans = tuple(
        P.ExercisePlan(
            id=ex.id, kind=ex.kind, name=ex.name,
            n_cases=len(cases[ex.id]) if ex.kind == "function" else 1,
            n_calls=int(ex.n_calls), seed_argument=ex.seed_argument,
            forbidden=tuple(ex.forbidden) if ex.kind == "function" else (),
        )
        for ex in exercises
    )
    return P.Plan(limits, workdir, pid_namespace, plans)


def run_in_sandbox(nb_path: Path, exercises, cases: dict, sandbox: Sandbox,
                   limits: P.KernelLimits) -> SandboxRun:
    """Execute one (valid) submission in the sandbox and collect its authenticated report.

    ``exercises``: the specs to grade (derivations excluded); ``cases``: exercise id -> tuple of
    hidden input dicts (function exercises).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="emlib-run-"))
    try:
        shutil.copyfile(nb_path, run_dir / "submission.ipynb")
        plan = build_plan(exercises, cases, limits, sandbox.workdir(run_dir), sandbox.use_bwrap)
        (run_dir / "plan.json").write_text(json.dumps(plan.to_wire()))
        inputs = {ex.id: [dict(c) for c in cases[ex.id]] for ex in exercises if ex.kind == "function"}
        sandbox.prepare(run_dir)
        key = secrets.token_bytes(32)
        out = sandbox.run(run_dir, key, plain_data.dumps(inputs))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return parse_report(out.stdout, key, out.timed_out, out.stderr, out.seconds)


def parse_report(stdout: bytes, key: bytes, timed_out: bool, stderr: str,
                 seconds: float) -> SandboxRun:
    """The typed reports of the authentic frames in the harness's output."""
    frames, problem = report_channel.read_frames(stdout, key)
    run = SandboxRun(timed_out=timed_out, channel_problem=problem, stderr=stderr[-4000:],
                     seconds=seconds)
    for frame in frames:
        kind = P.FRAME_KINDS.get(frame.kind)
        report = kind.from_wire(frame.value) if kind is not None else None
        if isinstance(report, P.NotebookReport):
            if not report.valid:
                run.invalid = report.error or "the harness could not read the notebook"
            run.cells, run.restarts = list(report.cells), report.restarts
        elif isinstance(report, P.ExerciseReport) and report.id:
            run.results[report.id] = list(report.cases)
        elif isinstance(report, P.FailureReport):
            run.failure = report.error
        elif isinstance(report, P.DoneReport):
            run.complete, run.kernel_log, run.peak_vm = True, report.kernel_log, report.peak_vm
    return run
