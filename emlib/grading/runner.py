"""One submission through the sandbox: read it, plan its hidden calls, run the harness, read the report.

The grader's side of :mod:`.harness`. A submission that is not JSON, or JSON that is not a
Jupyter notebook, never reaches the sandbox (``invalid-notebook``). Otherwise the exercises it
answers are found from the exercise ids it mentions (``check("03.…"``, the stubs'
``NotImplementedError("03.…``, ``# exercise: 03.…`` comments, ``exercise:03.…`` cell tags), else
from the graded names it defines, else from a file name that starts with the notebook number
(``03_gmm.ipynb``). The plan goes into the run directory; the hidden inputs go to the harness on
its standard input (it hands them to the kernel only after the notebook ran); the expected values
never leave the grader.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import channel, plain
from .integrity import defining_cells
from .sandbox import Sandbox

MAX_NOTEBOOK_BYTES = 64 * 2**20
_ID = re.compile(
    r"""(?:check\(\s*|NotImplementedError\(\s*|exercise:?\s*)["']?(\d\d)\.[a-z0-9]+(?:-[a-z0-9]+)*"""
)
NOTEBOOK_PREFIX = re.compile(r"^(\d\d)(?!\d)")


@dataclass
class Settings:
    cell_timeout: float = 120.0
    max_output_bytes: int = 1 << 20
    startup_timeout: float = 120.0


@dataclass
class RawRun:
    """What came back from the sandbox for one submission (or why nothing could)."""

    invalid: str | None = None  # why the file is not a notebook
    cells: list = field(default_factory=list)  # the harness's per-cell reports
    results: dict = field(default_factory=dict)  # exercise id -> list of case reports
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
        json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"not valid JSON ({str(exc)[:120]}): the file is damaged or not a notebook"
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
    text = "\n".join(c.source for c in nb.cells if c.get("cell_type") == "code")
    tags = " ".join(t for c in nb.cells for t in c.get("metadata", {}).get("tags", []))
    found = {m.group(1) for m in _ID.finditer(text + "\n" + tags)} & known
    if not found:
        found = {ex.notebook for ex in exercises if defining_cells(nb, ex.name)}
    if not found and (m := NOTEBOOK_PREFIX.match(path.stem)) and m.group(1) in known:
        found = {m.group(1)}
    return sorted(found)


def build_plan(exercises, cases: dict, settings: Settings, workdir: str, pid_ns: bool) -> dict:
    entries = []
    for ex in exercises:
        n = len(cases[ex.id]) if ex.kind == "function" else 1
        entries.append({
            "id": ex.id, "kind": ex.kind, "name": ex.name, "n_cases": n,
            "n_calls": int(ex.n_calls), "seed_argument": ex.seed_argument,
            "forbidden": list(ex.forbidden) if ex.kind == "function" else [],
        })
    s = {"cell_timeout": settings.cell_timeout, "call_timeout": settings.cell_timeout,
         "startup_timeout": settings.startup_timeout,
         "max_output_bytes": settings.max_output_bytes, "workdir": workdir,
         "pid_namespace": pid_ns}
    return {"settings": s, "exercises": entries}


def run_notebook(nb_path: Path, exercises, cases: dict, sandbox: Sandbox, settings: Settings) -> RawRun:
    """Execute one (valid) submission in the sandbox and collect its authenticated report.

    ``exercises``: the specs to grade (derivations excluded); ``cases``: exercise id -> tuple of
    hidden input dicts (function exercises).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="emlib-run-"))
    try:
        shutil.copyfile(nb_path, run_dir / "submission.ipynb")
        plan = build_plan(exercises, cases, settings, sandbox.workdir(run_dir), sandbox.use_bwrap)
        (run_dir / "plan.json").write_text(json.dumps(plan))
        inputs = {ex.id: [dict(c) for c in cases[ex.id]] for ex in exercises if ex.kind == "function"}
        sandbox.prepare(run_dir)
        key = secrets.token_bytes(32)
        out = sandbox.run(run_dir, key, plain.dumps(inputs))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return parse_report(out.stdout, key, out.timed_out, out.stderr, out.seconds)


def parse_report(stdout: bytes, key: bytes, timed_out: bool, stderr: str, seconds: float) -> RawRun:
    frames, problem = channel.read_frames(stdout, key)
    run = RawRun(timed_out=timed_out, channel_problem=problem, stderr=stderr[-4000:], seconds=seconds)
    for frame in frames:
        value = frame.value if isinstance(frame.value, dict) else {}
        if frame.kind == "notebook":
            if not value.get("valid", False):
                run.invalid = str(value.get("error", "the harness could not read the notebook"))
            run.cells = [c for c in value.get("cells", []) if isinstance(c, dict)]
            run.restarts = int(value.get("restarts", 0) or 0)
        elif frame.kind == "result" and isinstance(value.get("id"), str):
            run.results[value["id"]] = [c if isinstance(c, dict) else {} for c in value.get("cases", [])]
        elif frame.kind == "failure":
            run.failure = str(value.get("error", "unknown"))
        elif frame.kind == "done":
            run.complete = True
            run.kernel_log = str(value.get("kernel_log", ""))
            run.peak_vm = int(value.get("peak_vm", 0) or 0)
    return run
