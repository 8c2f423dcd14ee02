"""``check(exercise_id, answer)``: instant feedback in the student's notebook.

API stable. ``check`` runs the exercise's public cases in the student's own kernel, shows one line
per case and a one-line summary with the points those cases are worth, and returns a
:class:`CheckResult`. It never raises: an unknown id, a stub that raises ``NotImplementedError``,
a ``...`` placeholder, any exception of the student's code (shown with the line that raised it),
a wrong type or shape, NaN, a function that runs for more than ``TIME_LIMIT`` seconds — each reads
as a verdict. Only a keyboard interrupt goes through. (One loop escapes the time limit on Python
3.10: a ``while True:`` whose body is a ``try`` statement, which CPython 3.10 runs without ever
looking for a signal, so that not even the kernel's interrupt button stops it; 3.11 fixed it.)

A function that uses one of the exercise's forbidden implementations (named in its code, or
called during the cases: :mod:`.forbidden`, the grader's own detection) is told so on the first
line and earns 0 points, as it would at grading.

Display: in IPython / JupyterLab the result is displayed once, where ``check`` is called (HTML with
a plain-text twin, so it renders in JupyterLab and on the static website alike), even when the call
is not the last line of its cell; in a script it is printed. ``repr(result)`` is the same text.
"""

from __future__ import annotations

import html
import signal
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..grading.protocol import ERROR, NOT_ATTEMPTED, OK, PARTIAL, WRONG, is_unattempted
from . import forbidden, formula
from .hints import HINTS
from .registry import get
from .spec import Exercise, Verdict, choice_labels

TIME_LIMIT = 10.0  # seconds for all public cases of one check
INFO = "info"  # a line that judges nothing: how an expression answer was read
_SYMBOL = {OK: "✓", PARTIAL: "~", WRONG: "✗", ERROR: "✗", NOT_ATTEMPTED: "·", INFO: "→"}
_COLOUR = {
    OK: "#1a7f37",
    PARTIAL: "#9a6700",
    WRONG: "#cf222e",
    ERROR: "#cf222e",
    NOT_ATTEMPTED: "#57606a",
    INFO: "#57606a",
}
_LIBRARY_DIRS = tuple(
    str(Path(p).resolve())
    for p in {
        Path(__file__).resolve().parents[1],
        *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
)


class _Timeout(BaseException):
    """Raised in the student's code when the time limit passes (BaseException: a bare
    ``except Exception`` in the student's code must not swallow it)."""


@dataclass
class CheckResult:
    """What ``check`` found: one line per public case and a summary.

    Attributes
    ----------
    exercise_id : str
    header : str, "id · title · points"
    lines : list of (status, text), one per case (or a single line for the whole answer)
    n_passed, n_cases : public cases passed, and run
    earned, points : the points the public cases are worth for this answer, and the exercise's
    status : "ok" (every case passed), "partial", "wrong", "not-attempted" or "error"
    manual : True for a derivation, whose points are given by hand
    withheld : True for a well-formed, not yet right choice answer (see :func:`_withhold`)
    read_as : for an expression answer, how it was read, in LaTeX (typeset in the HTML view)
    """

    exercise_id: str
    header: str
    lines: list[tuple[str, str]]
    n_passed: int
    n_cases: int
    earned: float
    points: float
    status: str
    manual: bool = False
    withheld: bool = False
    read_as: str = ""
    _shown_at: int | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> str:
        if self.status == "error" and self.n_cases == 0:
            return "Nothing was checked."
        s = "" if self.n_cases == 1 else "s"
        passed = f"{self.n_passed}/{self.n_cases} public case{s} passed"
        if self.manual:
            return f"{passed}; the derivation itself is marked by hand."
        if self.withheld:
            return f"{passed}; the points, per statement, are counted at grading."
        return f"{passed}: {self.earned:g} of {self.points:g} points on these cases."

    def __repr__(self) -> str:
        body = [f"  {_SYMBOL[s]} {text}" for s, text in self.lines]
        return "\n".join([self.header, *body, f"  {self.summary}"])

    __str__ = __repr__

    def _repr_html_(self) -> str:
        def div(text: str, colour: str = "inherit", bold: bool = False) -> str:
            weight = "font-weight:bold;" if bold else ""
            return f'<div style="color:{colour};{weight}">{html.escape(text)}</div>'

        rows = [div(self.header, bold=True)]
        rows += [div(f"{_SYMBOL[s]} {text}", _COLOUR[s]) for s, text in self.lines]
        if self.read_as:  # the formula typeset, so that a typo is seen as the maths it makes
            rows.insert(2, f"<div>\\({html.escape(self.read_as)}\\)</div>")
        rows.append(div(self.summary))
        style = "font-family:monospace;white-space:pre-wrap;line-height:1.5"
        return f'<div class="emlib-check" style="{style}">{"".join(rows)}</div>'

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        ip = get_ipython()
        if self._shown_at is not None and ip is not None and ip.execution_count == self._shown_at:
            self._shown_at = None  # check() already showed it in this cell: once is enough
            return
        display({"text/plain": repr(self), "text/html": self._repr_html_()}, raw=True)


def _show(result: CheckResult) -> None:
    ip = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None:
        from IPython.display import display

        display({"text/plain": repr(result), "text/html": result._repr_html_()}, raw=True)
        result._shown_at = ip.execution_count
    elif not hasattr(sys, "ps1"):  # a script; the interactive prompt shows the repr itself
        print(result)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the student's code after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def handler(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


def _student_line(exc: BaseException) -> str:
    """' (line 7 of your code, in e_step: `resp = ...`)' for the deepest frame outside libraries."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not str(Path(f.filename).resolve()).startswith(_LIBRARY_DIRS)
    ]
    if not frames:
        return ""
    f = frames[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    where = f", in {f.name}" if f.name not in ("<module>", "<lambda>") else ""
    return (
        f" (line {f.lineno} of your code{where}:{code})" if code else f" (line {f.lineno}{where})"
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run_case(ex: Exercise, answer, inputs, deadline: float, called: set[str]) -> Verdict:
    """One public case; the forbidden callables the student's code calls are added to ``called``
    (the trace covers the student's call only, never the reference)."""
    banned = ex.forbidden if ex.kind == "function" and not forbidden.course_answer(answer) else ()
    try:
        with _time_limit(max(deadline - time.monotonic(), 1e-3)), forbidden.traced(banned) as hits:
            try:
                output = ex.run(answer, inputs)
                seeding = ex.seeding_problem(answer, inputs, output) if ex.n_calls > 1 else ""
            finally:
                called |= hits
    except NotImplementedError:
        return Verdict(0.0, NOT_ATTEMPTED, "not attempted yet")
    except _Timeout:
        return Verdict(0.0, "error", f"stopped after {TIME_LIMIT:g} s: is there an endless loop?")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: the student's code must not end the kernel
        return Verdict(0.0, "error", f"raised {_describe(exc)}{_student_line(exc)}")
    return Verdict.wrong(seeding) if seeding else ex.judge(output, inputs)


def _case_label(ex: Exercise, index: int) -> str:
    name = ex.case_name(index)
    return f"case {index + 1} ({name})" if name else f"case {index + 1}"


def _answer_problem(ex: Exercise, answer) -> Verdict | None:
    """A verdict for the whole answer when no case can run (placeholder, not a function)."""
    if is_unattempted(answer):
        return Verdict(0.0, NOT_ATTEMPTED, f"not attempted yet: `{ex.name}` is still `...`")
    if ex.kind == "function" and not callable(answer):
        try:
            shown = repr(answer)[:60]
        except Exception:
            shown = "(whose repr fails)"
        return Verdict.wrong(
            f"expected your function `{ex.signature}`; got {type(answer).__name__} {shown}"
        )
    return None


def _withhold(ex: Exercise, answer, verdict: Verdict) -> Verdict | None:
    """A choice answer that is well formed but not right: only "not yet", never which statement.

    Any answer-dependent detail (a statement named, a count of right ones, a partial score) can
    be turned into the graded answer by changing one statement at a time; "right or not yet"
    leaves 2^n - 1 answers to try. The grader's feedback, after grading, names the mistakes.
    """
    labels = choice_labels(answer)
    if ex.kind != "choice" or verdict.status == OK or labels is None or not labels <= set(ex.choices):
        return None
    return Verdict.wrong(
        f"not yet: at least one statement is classified the wrong way. Reread "
        f"{ex.equation_ref}. For true-or-false statements check says only right or not yet, "
        f"so that it cannot be used to find the answer one statement at a time; the grader "
        f"gives 1/{len(ex.choices)} of the points for each statement classified right."
    )


def _overall(statuses: set[str], total_fraction: float) -> str:
    for only in (OK, NOT_ATTEMPTED, ERROR):
        if statuses == {only}:
            return only
    return "partial" if total_fraction > 0 else "wrong"


def check(exercise_id: str | Exercise, answer) -> CheckResult:
    """Check an answer against the public cases of an exercise and show the verdict.

    Parameters
    ----------
    exercise_id : str, e.g. "03.posterior-1d" (as in the notebook's check cell), or an
        :class:`Exercise` not in the registry (tests, drafts)
    answer : the student's function (function exercises) or value (value / choice exercises)

    Returns
    -------
    CheckResult, already displayed (notebook) or printed (script)
    """
    try:
        ex = exercise_id if isinstance(exercise_id, Exercise) else get(exercise_id)
    except KeyError as exc:
        result = CheckResult(
            str(exercise_id),
            f"{exercise_id} · unknown exercise",
            [("error", exc.args[0])],
            0,
            0,
            0.0,
            0.0,
            "error",
        )
        _show(result)
        return result
    header = f"{ex.id} · {ex.title} · {ex.points:g} point{'s' if ex.points != 1 else ''}"
    if ex.kind == "derivation":
        header += " (marked by hand)"
    n = len(ex.public_cases)
    problem, found, withheld, read_as = _answer_problem(ex, answer), [], None, ""
    if problem is not None:
        verdicts = [problem] * n
        lines = [(problem.status, problem.message)]
    else:
        deadline = time.monotonic() + TIME_LIMIT
        called: set[str] = set()
        verdicts = [_run_case(ex, answer, case, deadline, called) for case in ex.public_cases]
        if all(v.status == NOT_ATTEMPTED for v in verdicts):
            raiser = f"`{ex.name}` still raises NotImplementedError"
            offer = f'; stuck? hint("{ex.id}") shows a first hint' if ex.id in HINTS else ""
            lines = [(NOT_ATTEMPTED, f"not attempted yet: {raiser}{offer}")]
        elif n == 1:
            withheld = _withhold(ex, answer, verdicts[0])
            verdicts = [withheld or verdicts[0]]
            lines = [(verdicts[0].status, verdicts[0].message)]
        else:
            lines = [(v.status, f"{_case_label(ex, i)}: {v.message}") for i, v in enumerate(verdicts)]
        if ex.kind == "expression" and (seen := formula.shown(answer, ex.variables)):
            lines.insert(0, (INFO, f"read your formula as {seen[0]}"))
            read_as = seen[1]
        found = forbidden.written(answer, ex.forbidden if ex.kind == "function" else ())
        found += [f"calls {name}" for name in sorted(called) if not any(name in f for f in found)]
        if found:  # the grader's rule, said now: 0 points however right the output
            lines.insert(0, (WRONG, forbidden.message(ex.name, found)))
    fractions = [0.0 if found else v.fraction for v in verdicts]
    n_passed = sum(v.status == "ok" for v in verdicts)
    status = WRONG if found else _overall({v.status for v in verdicts}, sum(fractions))
    earned = round(ex.auto_points * sum(fractions) / n, 2)
    result = CheckResult(
        ex.id,
        header,
        lines,
        n_passed,
        n,
        earned,
        float(ex.points),
        status,
        manual=ex.kind == "derivation",
        withheld=withheld is not None,
        read_as=read_as,
    )
    _show(result)
    return result
