"""Scores and statuses: the sandbox's plain-data report judged against the exercise specs.

Runs in the grader's process only: the references (``Exercise.expected``) and the comparison
(``Exercise.judge``, which also names diagnosed mistakes) never enter the sandbox. A
:class:`Scorer` holds one batch's hidden cases and their expected values; its
:meth:`Scorer.score_exercise` turns the sandbox's case reports for one exercise into an
:class:`ExerciseResult`.

Statuses of one exercise (:data:`.protocol.EXERCISE_STATUSES`):

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
plain zero in the gradebook (:data:`.protocol.NOT_A_ZERO`). Numpy warnings never cost points: they are
silenced while the student's code is called and while judging.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from ..exercises.spec import Verdict
from . import protocol as P
from .integrity import defining_cells, forbidden_references
from .submission import SandboxRun


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


class Scorer:
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

    def judge(self, ex, index: int, output):
        """The verdict on one hidden case's output, as the kernel helper reports it: for a
        distribution, the ``n_calls`` outputs then the first seeds' outputs called again."""
        case = self.cases[ex.id][index]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if ex.n_calls > 1 and isinstance(output, list):
                again = output[ex.n_calls:]  # past them, the first outputs stand for repeats
                output = output[:ex.n_calls]
                repeats = iter(again + output[len(again):])
                # the spec's own check, with the outputs the kernel gave when called again
                problem = ex.seeding_problem(lambda *args: next(repeats), case, output)
                if problem:
                    return Verdict.wrong(problem)
            return ex.judge(output, case, self.expected(ex, index))

    # -- one exercise ----------------------------------------------------------------------
    def score_exercise(self, ex, nb, raw: SandboxRun) -> ExerciseResult:
        """Score exercise ``ex`` of the notebook ``nb`` from the sandbox's report ``raw``."""
        res = ExerciseResult(ex.id, ex.title, 0.0, ex.auto_points, P.MISSING)
        if raw.invalid:  # a damaged file, derivation or not
            res.status, res.messages = P.INVALID_NOTEBOOK, [raw.invalid]
            return res
        if ex.kind == "derivation":
            res.status, res.messages = P.MANUAL, ["marked by hand from your written answer"]
            return res
        reports = raw.results.get(ex.id)
        if reports is None:
            res.status, res.messages = _not_reached(raw)
            return res
        hits = forbidden_references(nb, ex.name, ex.forbidden) if ex.kind == "function" else []
        runtime = sorted({n for r in reports for n in r.forbidden})
        tampered = any(r.tracer_removed for r in reports)
        if hits or runtime or tampered:
            res.status = P.FLAGGED
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
        self._score_cases(ex, nb, raw, reports, res)
        return res

    def _score_cases(self, ex, nb, raw: SandboxRun, reports: list[P.CaseReport],
                     res: ExerciseResult) -> None:
        n = len(self.cases[ex.id])
        fractions, statuses, lines = [], [], []
        for i in range(n):
            r = reports[i] if i < len(reports) else P.CaseReport(P.CRASHED, evalue="no report")
            status, fraction, message = r.status, 0.0, None
            if status == P.OK:
                if not r.has_output:
                    status, message = P.ERROR, "the grader received no answer"
                elif ex.kind != "function" and P.is_unattempted(r.output):
                    status = P.NOT_ATTEMPTED
                else:
                    v = self.judge(ex, i, r.output)
                    fraction, message = v.fraction, v.message
                    status = P.ERROR if v.status == P.ERROR else P.OK
                    if v.status == P.ERROR:
                        res.flags.append(f"checker-error:{ex.id}")
                    if v.mistake:
                        res.mistakes.append(v.mistake)
            elif status == P.ERROR:
                where = f" ({r.where})" if r.where else ""
                message = f"raised {r.ename or 'an error'}: {r.evalue}{where}"
            elif status in P.ABORTS:
                message = {P.TIMEOUT: "did not finish within the time limit",
                           P.MEMORY: "ran out of memory", P.CRASHED: "made the kernel die"}[status]
            fractions.append(fraction)
            statuses.append(status)
            if message and (fraction < 1.0 or status != "ok"):
                lines.append(message)
        res.points = round(ex.auto_points * float(np.mean(fractions)), 2) if fractions else 0.0
        res.status = _combine(statuses, fractions)
        res.mistakes = sorted(set(res.mistakes))
        if res.status == P.MISSING:
            res.status, why = _why_missing(ex, nb, raw)
            res.messages = [why]
        elif res.status == P.NOT_ATTEMPTED:
            res.messages = ["not attempted yet (the stub or `...` is still there)"]
        else:
            label = "hidden case" if ex.kind == "function" else "answer"
            res.messages = _group(lines, n, label) if lines else [
                f"correct on all {n} hidden cases" if ex.kind == "function" else "correct"]


def _combine(statuses: list[str], fractions: list[float]) -> str:
    for abort in P.ABORTS:
        if abort in statuses:
            return abort
    for only in (P.NOT_ATTEMPTED, P.MISSING):
        if statuses and all(s == only for s in statuses):
            return only
    mean = float(np.mean(fractions)) if fractions else 0.0
    if mean >= 1.0:
        return P.OK
    if mean <= 0.0:
        return P.ERROR if P.ERROR in statuses else P.WRONG
    return P.PARTIAL


def _group(lines: list[str], n: int, label: str) -> list[str]:
    """Identical messages once, with the cases they came from when there are several cases."""
    order: dict[str, int] = {}
    for line in lines:
        order[line] = order.get(line, 0) + 1
    if n == 1:
        return list(order)
    return [f"{count} of {n} {label}s: {line}" for line, count in order.items()]


def _why_missing(ex, nb, raw: SandboxRun) -> tuple[str, str]:
    cells = defining_cells(nb, ex.name)
    if not cells:
        return P.MISSING, f"`{ex.name}` is not defined in the notebook (renamed or deleted?)"
    report = next((c for c in raw.cells if c.cell == cells[-1]), None)
    where = f"the cell that defines `{ex.name}` (cell {cells[-1] + 1})"
    status = report.status if report is not None else None
    if status == P.ERROR:
        if report.ename == "MemoryError":
            return P.MEMORY, f"{where} ran out of memory"
        return P.ERROR, f"{where} raised {report.ename}: {report.evalue}"
    if status == P.TIMEOUT:
        return P.TIMEOUT, f"{where} did not finish within the time limit"
    if status == P.DIED:
        return report.cause or P.CRASHED, f"{where} made the kernel die; it was skipped"
    if status == P.NOT_RUN:
        return P.CRASHED, f"{where} was not run: the kernel kept dying in an earlier cell"
    return P.MISSING, f"`{ex.name}` is not defined after running the notebook"


def _not_reached(raw: SandboxRun) -> tuple[str, list[str]]:
    """Status of an exercise the harness never reported on, and why."""
    if raw.timed_out:
        return P.TIMEOUT, ["the notebook did not finish grading within the wall-clock limit"]
    if raw.channel_problem:
        return P.CRASHED, [f"the grading report was cut short ({raw.channel_problem})"]
    if raw.failure:
        return P.CRASHED, [f"the grader could not run the notebook ({raw.failure})"]
    return P.CRASHED, ["the grading harness stopped before reaching this exercise"]


def notebook_notes(nb, raw: SandboxRun) -> list[str]:
    """What happened while the notebook ran, for the feedback's first section."""
    notes = []
    for c in raw.cells:
        if not 0 <= c.cell < len(nb.cells):
            continue
        first = next((s for s in nb.cells[c.cell].source.splitlines() if s.strip()), "")[:60]
        cell = f"cell {c.cell + 1} (`{first}`)"
        if c.status == P.ERROR and not c.skipped:
            notes.append(f"{cell} raised {c.ename}: {c.evalue}")
        elif c.status == P.TIMEOUT:
            notes.append(f"{cell} did not finish within the time limit and was interrupted")
        elif c.status == P.DIED:
            notes.append(f"{cell} made the kernel die ({c.cause or P.CRASHED}); the notebook "
                         f"was run again without it")
        elif c.status == P.NOT_RUN:
            notes.append(f"{cell} was not run")
        if c.truncated:
            notes.append(f"{cell} printed {c.output_bytes / 2**20:.1f} MB of output; "
                         f"it was dropped (grading went on)")
    return notes
