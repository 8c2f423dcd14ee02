"""What a batch keeps in ``OUT`` between runs: the result cache and the last gradebook's results.

The cache (``OUT/.cache/``). A submission's run is keyed by its bytes, the seed, the limits, the
sandbox mode and the grader's code (every emlib source except the exercise modules
``emlib/exercises/nbNN.py``). Each exercise's result is keyed by that and by the module of its
own notebook, so editing ``nb05.py`` grades notebook 05's exercises again and nothing else.

The results (``OUT/results.json``): every submission's results as last written into the
gradebook. A run with ``--exercises`` replaces only those exercises' results of the submissions
it grades, and keeps every other result and every student it was not given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .gradebook import atomic_write
from .score import ExerciseResult

EMLIB = Path(__file__).resolve().parents[1]
RESULTS = "results.json"


@dataclass
class SubmissionResult:
    """One file's results: a notebook, or (``kind="folder"``) a student folder's other files."""

    path: str
    student: str
    notebooks: list[str]
    invalid: str | None
    exercises: dict[str, ExerciseResult]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False
    kind: str = "notebook"
    other_files: list[str] = field(default_factory=list)
    answers: dict[str, dict] = field(default_factory=dict)  # hand-marked id -> written answer

    def to_dict(self) -> dict:
        d = asdict(self)
        d["exercises"] = {k: v.to_dict() for k, v in self.exercises.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SubmissionResult:
        d = dict(d)
        d["exercises"] = {k: ExerciseResult.from_dict(v) for k, v in d["exercises"].items()}
        return cls(**d)


@dataclass
class RunRecord:
    """What one sandbox run said about the notebook as a whole (not about one exercise)."""

    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _is_exercise_module(rel: Path) -> bool:
    return rel.parts[:1] == ("exercises",) and rel.name.startswith("nb") and rel.suffix == ".py"


@lru_cache(maxsize=1)
def grader_hash() -> str:
    """A hash of emlib's sources apart from the exercise modules: the library and the grader."""
    h = hashlib.sha256()
    for f in sorted(EMLIB.rglob("*.py")):
        rel = f.relative_to(EMLIB)
        if not _is_exercise_module(rel):
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def exercise_hash(ex) -> str:
    """A hash of the module declaring exercise ``ex`` (``emlib/exercises/nbNN.py``)."""
    return hashlib.sha256((EMLIB / "exercises" / f"nb{ex.notebook}.py").read_bytes()).hexdigest()


class Cache:
    """Run records and exercise results in ``OUT/.cache``, by submission and exercise."""

    def __init__(self, folder: Path, settings: list):
        self.folder = folder
        self.settings = json.dumps([*settings, grader_hash()])
        folder.mkdir(parents=True, exist_ok=True)

    def submission_key(self, data: bytes) -> str:
        return hashlib.sha256(data + b"\0" + self.settings.encode()).hexdigest()

    def _path(self, key: str, ex=None) -> Path:
        if ex is None:
            return self.folder / f"run-{key}.json"
        sub = hashlib.sha256(f"{key}\0{ex.id}\0{exercise_hash(ex)}".encode()).hexdigest()
        return self.folder / f"ex-{sub}.json"

    def _load(self, path: Path):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # absent or unreadable: graded again

    def run(self, key: str) -> RunRecord | None:
        d = self._load(self._path(key))
        try:
            return RunRecord(**d) if isinstance(d, dict) else None
        except TypeError:
            return None

    def result(self, key: str, ex) -> ExerciseResult | None:
        d = self._load(self._path(key, ex))
        try:
            return ExerciseResult.from_dict(d) if isinstance(d, dict) else None
        except TypeError:
            return None

    def save_run(self, key: str, record: RunRecord) -> None:
        atomic_write(self._path(key), json.dumps(asdict(record)))

    def save_result(self, key: str, ex, result: ExerciseResult) -> None:
        atomic_write(self._path(key, ex), json.dumps(result.to_dict()))


@dataclass
class Earlier:
    """What the last run into ``OUT`` wrote: its columns, results and late-work settings."""

    columns: list[str] = field(default_factory=list)
    submissions: list[SubmissionResult] = field(default_factory=list)
    late: dict[str, float] = field(default_factory=dict)
    late_percent: float | None = None
    marks: str | None = None  # the marks file last merged (see .marks)


def load_results(out: Path) -> Earlier:
    """The columns and results of the gradebook last written in ``out`` (none: nothing)."""
    try:
        d = json.loads((out / RESULTS).read_text())
        return Earlier(list(d["columns"]), [SubmissionResult.from_dict(s) for s in d["submissions"]],
                       dict(d.get("late", {})), d.get("late_percent"), d.get("marks"))
    except (OSError, ValueError, KeyError, TypeError):
        return Earlier()


def save_results(out: Path, earlier: Earlier) -> None:
    data = {"columns": earlier.columns, "submissions": [r.to_dict() for r in earlier.submissions],
            "late": earlier.late, "late_percent": earlier.late_percent, "marks": earlier.marks}
    atomic_write(out / RESULTS, json.dumps(data, indent=1, sort_keys=True))


def carry_over(earlier: list[SubmissionResult], now: list[SubmissionResult], graded: set[str],
               not_graded_note: str = "") -> tuple[list[SubmissionResult], list[SubmissionResult]]:
    """This run's results, completed from the earlier ones, and the earlier files kept.

    A file graded again keeps its earlier results of the exercises not ``graded`` now (a note
    ending in ``not_graded_note`` is then dropped). An earlier file not given now is kept when
    its student is not in this run, or when it answers course notebooks that none of that
    student's files in this run answers: a re-run replaces results notebook by notebook.
    """
    before = {r.path: r for r in earlier}
    for res in now:
        old = before.get(res.path)
        if old is None or old.student != res.student:
            continue
        for ex_id, r in old.exercises.items():
            if ex_id not in graded and ex_id not in res.exercises:
                res.exercises[ex_id] = r
                res.flags = sorted(set(res.flags) | set(r.flags))
                if ex_id in old.answers:
                    res.answers[ex_id] = old.answers[ex_id]
        res.notebooks = sorted(set(res.notebooks) | {i.split(".")[0] for i in old.exercises
                                                     if i not in graded})
        if not_graded_note and res.exercises:
            res.notes = [n for n in res.notes if not_graded_note not in n]
    answered: dict[str, set[str]] = {}
    for res in now:
        answered.setdefault(res.student, set()).update(res.notebooks)
    paths = {r.path for r in now}
    kept = [r for r in earlier if r.path not in paths and (
        r.student not in answered
        or (r.kind == "notebook" and r.notebooks and not set(r.notebooks) & answered[r.student]))]
    return now + kept, kept
