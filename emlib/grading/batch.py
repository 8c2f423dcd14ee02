"""A batch: find the submissions, grade each in its sandbox (in parallel), cache, merge per student.

Student ids. A notebook given on the command line, or lying directly in a folder given on the
command line, belongs to the student named by its file name without ``.ipynb``
(``alice.ipynb`` -> ``alice``). A notebook in a sub-folder belongs to the student named by that
sub-folder, the first one under the folder given (``subs/alice/03_gmm.ipynb`` -> ``alice``), so
one student may hand in several notebooks. ``--ids map.csv`` (columns ``file,id``; ``file`` is a
path as found, relative to the current directory, or a bare file name) overrides both.

Re-runs. Each submission's result is cached in ``OUT/.cache/`` under a key made of the
submission's bytes, the emlib sources (the exercise specs and the library their references call),
the seed, the limits and the exercises graded. A re-run grades only what changed, unless
``--force``. The seed, when not given, is drawn once and kept in ``OUT/.seed`` (keep it secret:
it determines the hidden cases).
"""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exercises import all_exercises
from . import gradebook
from . import protocol as P
from .integrity import tamper_signs
from .sandbox import Sandbox, SandboxLimits, resolve_mode
from .score import ExerciseResult, Scorer, notebook_notes
from .submission import SandboxRun, notebook_numbers, read_notebook, run_in_sandbox


@dataclass
class GradeOptions:
    """The options of one ``emlib grade`` run (see :mod:`.command` for their meaning)."""

    out: Path
    jobs: int = 1
    timeout: float = 120.0  # per cell and per hidden call
    wall_seconds: float | None = None  # per submission; default 10 x timeout, at least 600
    memory_mb: int = 4096
    sandbox: str = "auto"
    seed: int | None = None
    force: bool = False
    ids: Path | None = None
    exercises: tuple[str, ...] = ()  # ids or notebook numbers; empty: every exercise
    quiet: bool = False

    @property
    def wall(self) -> float:
        return self.wall_seconds or max(600.0, 10 * self.timeout)


@dataclass
class SubmissionResult:
    path: str
    student: str
    notebooks: list[str]
    invalid: str | None
    exercises: dict[str, ExerciseResult]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["exercises"] = {k: v.to_dict() for k, v in self.exercises.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SubmissionResult:
        d = dict(d)
        d["exercises"] = {k: ExerciseResult.from_dict(v) for k, v in d["exercises"].items()}
        return cls(**d)


class GradingError(ValueError):
    """A problem with the command's arguments (not with a student's submission)."""


def discover(paths, ids_csv: Path | None = None) -> list[tuple[Path, str]]:
    """``(notebook, student id)`` for every ``.ipynb`` given or under a folder given, sorted."""
    found: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            found.append((p, p.stem))
        elif p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                rel = nb.relative_to(p)
                if ".ipynb_checkpoints" in rel.parts:
                    continue
                found.append((nb, rel.parts[0] if len(rel.parts) > 1 else nb.stem))
        else:
            raise GradingError(f"submission {raw} does not exist. Fix: pass .ipynb files or "
                               f"folders of them.")
    if not found:
        raise GradingError(f"no .ipynb notebook in {', '.join(map(str, paths))}.")
    if ids_csv is not None:
        mapping = read_ids(ids_csv)
        found = [(nb, mapping.get(str(nb), mapping.get(nb.name, sid))) for nb, sid in found]
    return sorted(found, key=lambda t: (t[1], str(t[0])))


def read_ids(path: Path) -> dict[str, str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise GradingError(f"--ids {path}: {exc.strerror}.") from None
    if not rows or not {"file", "id"} <= set(rows[0]):
        raise GradingError(f"--ids {path} must be a CSV with the header 'file,id'; got "
                           f"{list(rows[0]) if rows else 'an empty file'}. Fix: one row per "
                           f"notebook, e.g. 'subs/3141.ipynb,alice'.")
    return {r["file"].strip(): r["id"].strip() for r in rows if r["file"] and r["id"]}


def select_exercises(selection) -> list:
    """The exercises to grade: all, or those whose id or notebook number is selected."""
    every = all_exercises()
    if not selection:
        return list(every)
    chosen = [ex for ex in every if ex.id in selection or ex.notebook in selection]
    unknown = [s for s in selection if not any(s in (ex.id, ex.notebook) for ex in every)]
    if unknown:
        raise GradingError(f"--exercises: unknown {', '.join(unknown)}; known ids: "
                           f"{', '.join(ex.id for ex in every)} (or a notebook number such as 03).")
    return chosen


def specs_hash() -> str:
    """A hash of emlib's sources: the exercise specs, the library and the grader."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def batch_seed(options: GradeOptions) -> int:
    if options.seed is not None:
        return int(options.seed)
    path = options.out / ".seed"
    if path.exists():
        return int(path.read_text().strip())
    seed = secrets.randbits(62)
    gradebook.atomic_write(path, f"{seed}\n")
    path.chmod(0o600)
    return seed


def grade_one(nb_path: Path, student: str, exercises, scorer: Scorer, sandbox: Sandbox,
              limits: P.KernelLimits) -> SubmissionResult:
    nb, invalid = read_notebook(nb_path)
    if nb is None:
        raw = SandboxRun(invalid=invalid)
        stem = P.NOTEBOOK_PREFIX.match(nb_path.stem)
        known = {ex.notebook for ex in exercises}
        numbers = [stem.group(1)] if stem and stem.group(1) in known else []  # see merge()
    else:
        numbers = notebook_numbers(nb, nb_path, exercises)
        mine = [ex for ex in exercises if ex.notebook in numbers and ex.kind != "derivation"]
        raw = run_in_sandbox(nb_path, mine, scorer.cases, sandbox, limits) if mine else SandboxRun()
    results = {ex.id: scorer.score_exercise(ex, nb, raw) for ex in exercises
               if ex.notebook in numbers}
    flags = sorted({f for r in results.values() for f in r.flags})
    notes = notebook_notes(nb, raw) if nb is not None else []
    if nb is not None and not numbers:
        notes.append("no exercise of the course was found in this notebook")
        flags.append("unknown-notebook")
    suspicious = tamper_signs(nb) if nb is not None else []
    if suspicious:
        cells = ", ".join(str(i + 1) for i in suspicious)
        notes.append(f"cells {cells} reach for the grader's machinery; an instructor will look")
        flags.append("tamper-suspected")
    if raw.timed_out:
        flags.append("wall-clock")
    if raw.channel_problem:
        flags.append("report-rejected")
    if any(c.status == P.DIED for c in raw.cells):
        flags.append("kernel-died")
    if any(c.truncated for c in raw.cells):
        flags.append("output-truncated")
    if not sandbox.use_bwrap:
        flags.append("unsandboxed")
    return SubmissionResult(str(nb_path), student, numbers, invalid, results, notes, sorted(set(flags)),
                            raw.seconds)


def cache_key(nb_path: Path, seed: int, options: GradeOptions, exercises, code_hash: str) -> str:
    h = hashlib.sha256()
    h.update(nb_path.read_bytes())
    settings = [seed, options.timeout, options.wall, options.memory_mb, options.sandbox,
                [ex.id for ex in exercises], code_hash]
    h.update(json.dumps(settings).encode())
    return h.hexdigest()


class Progress:
    """A one-line progress bar on a terminal; one line per submission otherwise."""

    def __init__(self, total: int, stream, quiet: bool = False):
        self.total, self.stream, self.quiet = total, stream, quiet
        self.done, self.started = 0, time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.lock = threading.Lock()

    def update(self, label: str) -> None:
        with self.lock:
            self.done += 1
            if self.quiet:
                return
            if self.tty:
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                bar = "#" * filled + "." * (width - filled)
                elapsed = time.monotonic() - self.started
                self.stream.write(f"\rgrading [{bar}] {self.done}/{self.total} "
                                  f"{elapsed:5.0f}s  {label[:40]:<40}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"graded {self.done}/{self.total}: {label}\n")
            self.stream.flush()


def grade(paths, options: GradeOptions, stream=None) -> list[gradebook.StudentRow]:
    """Grade every submission under ``paths`` into ``options.out``; returns the gradebook rows."""
    stream = sys.stderr if stream is None else stream
    if options.jobs < 1:
        raise GradingError(f"--jobs must be at least 1; got {options.jobs}.")
    subs = discover(paths, options.ids)
    exercises = select_exercises(options.exercises)
    use_bwrap = resolve_mode(options.sandbox)
    options.out.mkdir(parents=True, exist_ok=True)
    seed = batch_seed(options)
    scorer = Scorer(exercises, seed)
    code_hash = specs_hash()
    cache_dir = options.out / ".cache"
    cache_dir.mkdir(exist_ok=True)
    kernel_limits = P.KernelLimits(cell_timeout=options.timeout, call_timeout=options.timeout)
    sandbox = Sandbox(use_bwrap, SandboxLimits(wall_seconds=options.wall, memory_mb=options.memory_mb))
    progress = Progress(len(subs), stream, options.quiet)
    results: list[SubmissionResult] = []

    def work(nb_path: Path, student: str) -> SubmissionResult:
        key = cache_key(nb_path, seed, options, exercises, code_hash)
        cached = cache_dir / f"{key}.json"
        if cached.exists() and not options.force:
            try:
                res = SubmissionResult.from_dict(json.loads(cached.read_text()))
                res.path, res.student, res.cached = str(nb_path), student, True
                return res
            except (ValueError, TypeError, KeyError):
                pass  # an unreadable cache entry is graded again
        res = grade_one(nb_path, student, exercises, scorer, sandbox, kernel_limits)
        gradebook.atomic_write(cached, json.dumps(res.to_dict()))
        return res

    try:
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            futures = {pool.submit(work, p, s): (p, s) for p, s in subs}
            for fut in as_completed(futures):
                res = fut.result()
                results.append(res)
                got = sum(r.points for r in res.exercises.values())
                most = sum(r.max_points for r in res.exercises.values())
                tag = " (cached)" if res.cached else ""
                progress.update(f"{res.student} {Path(res.path).name} {got:g}/{most:g}{tag}")
    finally:
        sandbox.close()
    results.sort(key=lambda r: (r.student, r.path))
    if not options.exercises:  # the columns: the exercises of the notebooks handed in
        seen = {n for r in results for n in r.notebooks}
        exercises = [ex for ex in exercises if ex.notebook in seen]
    rows = gradebook.merge(results, exercises)
    gradebook.write_all(options.out, rows, exercises)
    return rows

