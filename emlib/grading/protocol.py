"""The grading protocol: the words and the shapes every part of the grader agrees on.

Standard library only. The grader imports it, and so do ``check()`` and the student edition; it
is also copied into the sandbox beside the harness, so the code that runs there speaks the same
words without importing anything else of emlib.

Exercise ids
    ``NN.slug`` (:data:`EXERCISE_ID`): ``NN`` the notebook (01 to 99), the slug lowercase words
    joined by hyphens, e.g. ``03.e-step``. A notebook names the exercise a cell belongs to with
    ``check("03.e-step", ...)``, the student edition's stub ``NotImplementedError("03.e-step:
    ...")``, a comment line ``# exercise: 03.e-step`` or the cell tag ``exercise:03.e-step``
    (:func:`ids_in_cell`).

Statuses
    :data:`VERDICT_STATUSES` for one judged case (``check`` and the grader), :data:`CASE_STATUSES`
    for what one hidden call reports from the sandbox, :data:`CELL_STATUSES` for one notebook
    cell run there, :data:`EXERCISE_STATUSES` for an exercise in the gradebook.

Not attempted
    :func:`is_unattempted`: the stub still raises ``NotImplementedError`` (reported as
    ``not-attempted`` by the call itself), or the answer is ``...`` or a container whose every
    leaf is ``...`` (the student edition's blanks).

The plan and the reports
    :class:`Plan` goes from the grader to the harness (``plan.json``); the harness answers with
    authenticated frames whose values are the ``to_wire()`` dicts of :class:`NotebookReport`,
    :class:`ExerciseReport`, :class:`FailureReport` and :class:`DoneReport`
    (:data:`FRAME_KINDS`). Everything the kernel writes is the student's to shape, so
    ``from_wire`` reads any value: a field of the wrong type takes its default, an unknown
    status becomes ``error``, text is cut short.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# -- exercise ids ----------------------------------------------------------------------------------
_NOTEBOOK = r"(?:0[1-9]|[1-9]\d)"
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
EXERCISE_ID = re.compile(rf"(?P<notebook>{_NOTEBOOK})\.{_SLUG}")
NOTEBOOK_PREFIX = re.compile(rf"^({_NOTEBOOK})(?!\d)")  # a file name such as 03_gmm_em.ipynb
_ID = rf"{_NOTEBOOK}\.{_SLUG}"
CHECK_CALL = re.compile(rf"(?<![\w.])check\(\s*[\"']({_ID})(?![\w-])")
STUB_RAISE = re.compile(rf"NotImplementedError\(\s*[\"']({_ID})(?![\w-])")
EXERCISE_COMMENT = re.compile(rf"^\s*#\s*exercise(?::\s*|\s+)({_ID})\s*$", re.IGNORECASE | re.M)
EXERCISE_TAG = "exercise:"


def is_exercise_id(text: object) -> bool:
    """Whether ``text`` is an exercise id, e.g. ``"03.e-step"``."""
    return isinstance(text, str) and EXERCISE_ID.fullmatch(text) is not None


def stub_message(exercise_id: str) -> str:
    """The message of the student edition's stub, which names the exercise it stands for."""
    return f"{exercise_id}: your code here"


def tagged_ids(tags: Iterable[str]) -> list[str]:
    """The ids of the cell tags ``exercise:<id>`` (as written: the caller checks them)."""
    return [t[len(EXERCISE_TAG):].strip() for t in tags if t.startswith(EXERCISE_TAG)]


def ids_in_cell(source: str, tags: Iterable[str] = ()) -> list[str]:
    """Every exercise id a code cell names, once each: its tags, then ``# exercise:`` comments,
    then ``check(...)`` calls, then stubs."""
    found = tagged_ids(tags)
    found += EXERCISE_COMMENT.findall(source)
    found += CHECK_CALL.findall(source)
    found += STUB_RAISE.findall(source)
    return list(dict.fromkeys(i for i in found if is_exercise_id(i)))


# -- statuses --------------------------------------------------------------------------------------
OK, PARTIAL, WRONG, ERROR = "ok", "partial", "wrong", "error"
NOT_ATTEMPTED, MISSING = "not-attempted", "missing"
TIMEOUT, MEMORY, CRASHED = "timeout", "memory", "crashed"
INVALID_NOTEBOOK, FLAGGED, MANUAL = "invalid-notebook", "flagged", "manual"
DIED, NOT_RUN = "died", "not-run"  # a cell that killed the kernel; one never reached

VERDICT_STATUSES = (OK, PARTIAL, WRONG, NOT_ATTEMPTED, ERROR)
CASE_STATUSES = (OK, MISSING, NOT_ATTEMPTED, ERROR, TIMEOUT, MEMORY, CRASHED)
CELL_STATUSES = (OK, ERROR, TIMEOUT, DIED, NOT_RUN)
EXERCISE_STATUSES = (OK, PARTIAL, WRONG, NOT_ATTEMPTED, MISSING, ERROR, TIMEOUT, MEMORY, CRASHED,
                     INVALID_NOTEBOOK, FLAGGED, MANUAL)
ABORTS = (CRASHED, MEMORY, TIMEOUT)  # a run cut short, in order of precedence
NOT_A_ZERO = frozenset({TIMEOUT, MEMORY, CRASHED, INVALID_NOTEBOOK, MANUAL})


def is_unattempted(answer) -> bool:
    """``...``, or a non-empty container whose every leaf is ``...``."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, Mapping):
        return bool(answer) and all(is_unattempted(v) for v in answer.values())
    if isinstance(answer, (list, tuple, set, frozenset)):
        return bool(answer) and all(is_unattempted(v) for v in answer)
    return False


def formula_text(answer):
    """An expression exercise's answer as it crosses to the grader: a SymPy expression becomes its
    text (in the student's process), anything else is returned as it is.

    The grader reads the text with a whitelist parser (:func:`emlib.exercises.formula.read`), so
    what crosses is data, never an object whose methods would run in the grader's process.
    """
    if type(answer).__module__.split(".")[0] == "sympy":
        return str(answer)
    return answer


# -- what a forbidden name denotes -----------------------------------------------------------------
def resolve(dotted: str):
    """The object a dotted name refers to (importing the longest module prefix), or None.

    The kernel's call tracer and the grader's reading of the code both use it, so a forbidden
    name means the same object on both sides of the wall.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


# -- reading what came over the wall ---------------------------------------------------------------
TEXT_LIMIT = 300


def _text(value, limit: int = TEXT_LIMIT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _number(value, default: float = 0.0) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else default


def _flag(value) -> bool:
    return value is True


def _record(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _items(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


class _Wire:
    """``to_wire``: the dataclass as a dict of its fields (reports inside it as dicts too)."""

    def to_wire(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            nested = isinstance(v, tuple) and v and all(isinstance(x, _Wire) for x in v)
            out[f.name] = [x.to_wire() for x in v] if nested else v
        return out


# -- the plan: grader -> harness -------------------------------------------------------------------
@dataclass(frozen=True)
class KernelLimits(_Wire):
    """Limits of the student's kernel inside the sandbox (the sandbox's own are elsewhere)."""

    cell_timeout: float = 120.0  # seconds per notebook cell
    call_timeout: float = 120.0  # seconds per hidden call
    startup_timeout: float = 120.0  # seconds for the kernel to start
    max_output_bytes: int = 1 << 20  # output of one cell past which it is dropped and noted


SEED_REPEATS = 20  # a distribution's first seeds, called again to see that a seed reproduces


@dataclass(frozen=True)
class ExercisePlan(_Wire):
    """One exercise to call in the kernel: ``n_cases`` hidden cases of the name ``name``."""

    id: str
    kind: str
    name: str
    n_cases: int
    n_calls: int = 1
    seed_argument: str | None = None
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What the harness does with one submission; ``plan.json`` in the run directory."""

    limits: KernelLimits
    workdir: str
    pid_namespace: bool
    exercises: tuple[ExercisePlan, ...]

    def to_wire(self) -> dict:
        return {"limits": self.limits.to_wire(), "workdir": self.workdir,
                "pid_namespace": self.pid_namespace,
                "exercises": [e.to_wire() for e in self.exercises]}

    @classmethod
    def from_wire(cls, value: Mapping) -> Plan:  # written by the grader: trusted
        exercises = tuple(ExercisePlan(**{**e, "forbidden": tuple(e["forbidden"])})
                          for e in value["exercises"])
        return cls(KernelLimits(**value["limits"]), value["workdir"], value["pid_namespace"],
                   exercises)


# -- the reports: harness -> grader ----------------------------------------------------------------
@dataclass(frozen=True)
class CaseReport(_Wire):
    """One hidden call: the student's output, or what went wrong, and what the trace saw."""

    status: str  # one of CASE_STATUSES
    output: object = None
    has_output: bool = False  # an output of None is an answer too
    ename: str = ""
    evalue: str = ""
    where: str = ""  # the line of the student's code that raised
    forbidden: tuple[str, ...] = ()  # forbidden callables called during the case
    tracer_removed: bool = False
    seconds: float = 0.0

    @classmethod
    def from_wire(cls, value) -> CaseReport:
        v = _record(value)
        status = v.get("status")
        return cls(
            status=status if status in CASE_STATUSES else ERROR,
            output=v.get("output"), has_output=_flag(v.get("has_output")) and "output" in v,
            ename=_text(v.get("ename"), 100), evalue=_text(v.get("evalue")),
            where=_text(v.get("where"), 200),
            forbidden=tuple(sorted({n for n in _items(v.get("forbidden")) if isinstance(n, str)})),
            tracer_removed=_flag(v.get("tracer_removed")), seconds=_number(v.get("seconds")),
        )


@dataclass(frozen=True)
class CellReport(_Wire):
    """One code cell of the notebook as the harness ran it (``cell`` indexes ``nb.cells``)."""

    cell: int
    status: str  # one of CELL_STATUSES
    ename: str = ""
    evalue: str = ""
    cause: str = ""  # for "died": "memory" or "crashed"
    skipped: bool = False  # it killed or hung the kernel, and the notebook ran again without it
    stuck: bool = False  # it timed out and the kernel no longer answered
    output_bytes: int = 0
    truncated: bool = False  # it printed more than max_output_bytes

    @classmethod
    def from_wire(cls, value) -> CellReport:
        v = _record(value)
        status, cause = v.get("status"), v.get("cause")
        return cls(
            cell=_int(v.get("cell"), -1), status=status if status in CELL_STATUSES else ERROR,
            ename=_text(v.get("ename"), 100), evalue=_text(v.get("evalue")),
            cause=cause if cause in (MEMORY, CRASHED) else "", skipped=_flag(v.get("skipped")),
            stuck=_flag(v.get("stuck")), output_bytes=_int(v.get("output_bytes")),
            truncated=_flag(v.get("truncated")),
        )


@dataclass(frozen=True)
class NotebookReport(_Wire):
    """The notebook's run: every code cell, and how often the kernel was restarted."""

    valid: bool
    error: str = ""  # why the harness could not read the notebook
    cells: tuple[CellReport, ...] = ()
    restarts: int = 0

    @classmethod
    def from_wire(cls, value) -> NotebookReport:
        v = _record(value)
        return cls(_flag(v.get("valid")), _text(v.get("error")),
                   tuple(CellReport.from_wire(c) for c in _items(v.get("cells"))),
                   _int(v.get("restarts")))


@dataclass(frozen=True)
class ExerciseReport(_Wire):
    """The hidden calls of one exercise, in the order of its cases."""

    id: str
    cases: tuple[CaseReport, ...] = ()

    @classmethod
    def from_wire(cls, value) -> ExerciseReport:
        v = _record(value)
        return cls(_text(v.get("id"), 100),
                   tuple(CaseReport.from_wire(c) for c in _items(v.get("cases"))))


@dataclass(frozen=True)
class FailureReport(_Wire):
    """The harness itself failed (not the student's code)."""

    error: str

    @classmethod
    def from_wire(cls, value) -> FailureReport:
        return cls(_text(_record(value).get("error"), 600) or "unknown")


@dataclass(frozen=True)
class DoneReport(_Wire):
    """The last frame: the report is complete."""

    kernel_log: str = ""
    peak_vm: int = 0

    @classmethod
    def from_wire(cls, value) -> DoneReport:
        v = _record(value)
        return cls(_text(v.get("kernel_log"), 8000), _int(v.get("peak_vm")))


FRAME_KINDS = {"notebook": NotebookReport, "result": ExerciseReport, "failure": FailureReport,
               "done": DoneReport}
