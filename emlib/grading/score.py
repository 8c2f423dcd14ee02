"""Scores and statuses: the sandbox's plain-data report judged against the exercise specs.

Runs in the grader's process only: the references (``Exercise.expected``) and the comparison
(``Exercise.judge``, which also names diagnosed mistakes) never enter the sandbox.

Statuses of one exercise (:data:`STATUSES`):

``ok`` / ``partial`` / ``wrong``
    judged on every hidden case: the points are the exercise's points times the mean fraction.
``not-attempted``
    the stub still raises ``NotImplementedError``, or the value is still ``...``.
``missing``
    the graded name is not defined (deleted, renamed), or no submitted notebook has the exercise.
``error``
    the student's code raised on every case it was called on (the exception and its line are
    shown), or the cell defining the name raised.
``timeout`` / ``memory`` / ``crashed``
    a hidden call (or the cell defining the name) ran out of time, out of memory (``MemoryError``
    or a kernel killed at its address-space limit), or killed the kernel; also when the whole
    submission hit the wall clock, or the harness stopped, before the exercise was reached.
``invalid-notebook``
    the file is not JSON, or not a Jupyter notebook.
``flagged``
    the graded function calls (or names, in its code) a forbidden implementation: 0 points and
    a flag; also when it removed the grader's call tracer.
``manual``
    a derivation, marked by hand: no automatic points.

``timeout``, ``memory``, ``crashed``, ``invalid-notebook`` and ``manual`` are never written as a
plain zero in the gradebook (:data:`NOT_A_ZERO`). Numpy warnings never cost points: they are
silenced while the student's code is called and while judging.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from .integrity import defining_cells, forbidden_references

STATUSES = ("ok", "partial", "wrong", "not-attempted", "missing", "error", "timeout", "memory",
            "crashed", "invalid-notebook", "flagged", "manual")
NOT_A_ZERO = frozenset({"timeout", "memory", "crashed", "invalid-notebook", "manual"})
_CASE_STATUSES = {"ok", "missing", "not-attempted", "error", "timeout", "memory", "crashed"}
_ABORTS = ("crashed", "memory", "timeout")  # precedence when cases disagree


@dataclass
class ExerciseResult:
    id: str
    title: str
    points: float
    max_points: float
    status: str
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping) -> ExerciseResult:
        return cls(**dict(d))

    def to_dict(self) -> dict:
        return asdict(self)


def unattempted(answer) -> bool:
    """``...``, or a container whose every leaf is ``...`` (the student edition's blanks)."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, Mapping):
        return bool(answer) and all(unattempted(v) for v in answer.values())
    if isinstance(answer, (list, tuple, set, frozenset)):
        return bool(answer) and all(unattempted(v) for v in answer)
    return False


class Judge:
    """Hidden cases and their expected values for one batch (computed once, shared by threads)."""

    def __init__(self, exercises, seed: int):
        self.exercises = {ex.id: ex for ex in exercises}
        self.cases = {}
        for ex in exercises:
            if ex.kind == "function":
                self.cases[ex.id] = ex.hidden_cases(seed) or tuple(dict(c) for c in ex.public_cases)
            else:
                self.cases[ex.id] = ({},)
        self._expected: dict = {}
        self._lock = threading.Lock()

    def expected(self, ex, index: int):
        key = (ex.id, index)
        with self._lock:
            if key not in self._expected:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    self._expected[key] = ex.expected(self.cases[ex.id][index])
            return self._expected[key]

    # -- one exercise ----------------------------------------------------------------------
    def score(self, ex, nb, raw) -> ExerciseResult:
        """Judge exercise ``ex`` of the notebook ``nb`` from the sandbox's report ``raw``."""
        res = ExerciseResult(ex.id, ex.title, 0.0, ex.auto_points, "missing")
        if ex.kind == "derivation":
            res.status, res.messages = "manual", ["marked by hand from your written answer"]
            return res
        if raw.invalid:
            res.status, res.messages = "invalid-notebook", [raw.invalid]
            return res
        reports = raw.results.get(ex.id)
        if reports is None:
            res.status, res.messages = _not_reached(raw)
            return res
        hits = forbidden_references(nb, ex.name, ex.forbidden) if ex.kind == "function" else []
        runtime = sorted({n for r in reports for n in r.get("forbidden", []) if isinstance(n, str)})
        tampered = any(r.get("tracer") == "removed" for r in reports)
        if hits or runtime or tampered:
            res.status = "flagged"
            for h in hits:
                res.messages.append(f"`{ex.name}` uses {h.written} (cell {h.cell + 1}, line {h.line}),"
                                    f" the library's implementation of what it should compute.")
            for name in runtime:
                res.messages.append(f"`{ex.name}` called {name} during the hidden cases.")
            if tampered:
                res.messages.append(f"`{ex.name}` removed the grader's call tracer (sys.setprofile).")
            res.messages.append("The exercise asks you to implement it yourself: 0 points.")
            res.flags.append(f"forbidden:{ex.id}")
            return res
        self._judge_cases(ex, nb, raw, reports, res)
        return res

    def _judge_cases(self, ex, nb, raw, reports, res: ExerciseResult) -> None:
        n = len(self.cases[ex.id])
        fractions, statuses, lines = [], [], []
        for i in range(n):
            r = reports[i] if i < len(reports) else {"status": "crashed", "evalue": "no report"}
            status = r.get("status") if r.get("status") in _CASE_STATUSES else "error"
            fraction, message = 0.0, None
            if status == "ok":
                if "output" not in r:
                    status, message = "error", "the grader received no answer"
                elif ex.kind != "function" and unattempted(r["output"]):
                    status = "not-attempted"
                else:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        v = ex.judge(r["output"], self.cases[ex.id][i], self.expected(ex, i))
                    fraction, message = v.fraction, v.message
                    status = "ok" if v.status != "error" else "error"
                    if v.status == "error":
                        res.flags.append(f"checker-error:{ex.id}")
                    if v.mistake:
                        res.mistakes.append(v.mistake)
            elif status == "error":
                where = f" ({r['where']})" if r.get("where") else ""
                message = f"raised {r.get('ename', 'an error')}: {r.get('evalue', '')}{where}"
            elif status in _ABORTS:
                message = {"timeout": "did not finish within the time limit",
                           "memory": "ran out of memory", "crashed": "made the kernel die"}[status]
            fractions.append(fraction)
            statuses.append(status)
            if message and (fraction < 1.0 or status != "ok"):
                lines.append(message)
        res.points = round(ex.auto_points * float(np.mean(fractions)), 2) if fractions else 0.0
        res.status = _combine(statuses, fractions)
        res.mistakes = sorted(set(res.mistakes))
        if res.status == "missing":
            res.status, why = _why_missing(ex, nb, raw)
            res.messages = [why]
        elif res.status == "not-attempted":
            res.messages = ["not attempted yet (the stub or `...` is still there)"]
        else:
            label = "hidden case" if ex.kind == "function" else "answer"
            res.messages = _group(lines, n, label) if lines else [
                f"correct on all {n} hidden cases" if ex.kind == "function" else "correct"]


def _combine(statuses: list[str], fractions: list[float]) -> str:
    for abort in _ABORTS:
        if abort in statuses:
            return abort
    for only in ("not-attempted", "missing"):
        if statuses and all(s == only for s in statuses):
            return only
    mean = float(np.mean(fractions)) if fractions else 0.0
    if mean >= 1.0:
        return "ok"
    if mean <= 0.0:
        return "error" if "error" in statuses else "wrong"
    return "partial"


def _group(lines: list[str], n: int, label: str) -> list[str]:
    """Identical messages once, with the cases they came from when there are several cases."""
    order: dict[str, int] = {}
    for line in lines:
        order[line] = order.get(line, 0) + 1
    if n == 1:
        return list(order)
    return [f"{count} of {n} {label}s: {line}" for line, count in order.items()]


def _why_missing(ex, nb, raw) -> tuple[str, str]:
    cells = defining_cells(nb, ex.name)
    if not cells:
        return "missing", f"`{ex.name}` is not defined in the notebook (renamed or deleted?)"
    report = {c.get("cell"): c for c in raw.cells}.get(cells[-1], {})
    where = f"the cell that defines `{ex.name}` (cell {cells[-1] + 1})"
    status = report.get("status")
    if status == "error":
        if report.get("ename") == "MemoryError":
            return "memory", f"{where} ran out of memory"
        return "error", f"{where} raised {report.get('ename')}: {report.get('evalue', '')}"
    if status == "timeout":
        return "timeout", f"{where} did not finish within the time limit"
    if status == "died":
        return report.get("cause", "crashed"), f"{where} made the kernel die; it was skipped"
    if status == "not-run":
        return "crashed", f"{where} was not run: the kernel kept dying in an earlier cell"
    return "missing", f"`{ex.name}` is not defined after running the notebook"


def _not_reached(raw) -> tuple[str, list[str]]:
    """Status of an exercise the harness never reported on, and why."""
    if raw.timed_out:
        return "timeout", ["the notebook did not finish grading within the wall-clock limit"]
    if raw.channel_problem:
        return "crashed", [f"the grading report was cut short ({raw.channel_problem})"]
    if raw.failure:
        return "crashed", [f"the grader could not run the notebook ({raw.failure})"]
    return "crashed", ["the grading harness stopped before reaching this exercise"]


def notebook_notes(nb, raw) -> list[str]:
    """What happened while the notebook ran, for the feedback's first section."""
    notes = []
    for c in raw.cells:
        i = c.get("cell")
        if not isinstance(i, int) or not 0 <= i < len(nb.cells):
            continue
        first = next((s for s in nb.cells[i].source.splitlines() if s.strip()), "")[:60]
        cell = f"cell {i + 1} (`{first}`)"
        status = c.get("status")
        if status == "error" and not c.get("skipped"):
            notes.append(f"{cell} raised {c.get('ename')}: {c.get('evalue', '')}")
        elif status == "timeout":
            notes.append(f"{cell} did not finish within the time limit and was interrupted")
        elif status == "died":
            notes.append(f"{cell} made the kernel die ({c.get('cause', 'crashed')}); the notebook "
                         f"was run again without it")
        elif status == "not-run":
            notes.append(f"{cell} was not run")
        if c.get("truncated"):
            notes.append(f"{cell} printed {c.get('output_bytes', 0) / 2**20:.1f} MB of output; "
                         f"it was dropped (grading went on)")
    return notes
