"""Forbidden calls, found by ``check`` as the grader finds them, before grading does.

A function exercise lists in ``Exercise.forbidden`` the library implementations of what the
student is asked to write. The grader looks for them twice (:mod:`emlib.grading.score`): in the
code of the graded function (:func:`emlib.grading.integrity.forbidden_references`) and during the
hidden cases (the call tracer of :mod:`emlib.grading.sandboxed.kernel_helper`). ``check`` runs the
same two halves in the student's kernel: :func:`written` reads the function's source, with its
global names standing for the notebook's imports, and :func:`traced` records forbidden calls while
the public cases run.
"""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
from collections.abc import Iterator
from contextlib import contextmanager

from ..grading.integrity import forbidden_references
from ..grading.protocol import resolve
from ..grading.sandboxed.kernel_helper import _Tracer


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _import_line(name: str, value) -> str | None:
    """An import statement that binds ``name`` to ``value``, as the notebook's imports did."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__} as {name}"
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
    if isinstance(module, str) and qualname.isidentifier():
        return f"from {module} import {qualname} as {name}"
    return None


def written(answer, forbidden: tuple[str, ...]) -> list[str]:
    """"uses emlib.gmm.e_step (line 3 of `e_step`)" for each forbidden name in the source."""
    if not forbidden or not inspect.isfunction(answer) or course_answer(answer):
        return []
    try:
        source = textwrap.dedent(inspect.getsource(answer))
    except (OSError, TypeError):  # defined where its source cannot be read: the trace still runs
        return []
    scope = dict(answer.__globals__)
    cells = zip(answer.__code__.co_freevars, answer.__closure__ or (), strict=False)
    scope.update((name, cell.cell_contents) for name, cell in cells if _filled(cell))
    used = _names(answer.__code__) | set(answer.__code__.co_freevars)
    imports = [_import_line(n, scope[n]) for n in sorted(used) if n in scope]
    cells = [{"cell_type": "code", "source": "\n".join(i for i in imports if i)},
             {"cell_type": "code", "source": source}]
    nb = types.SimpleNamespace(cells=[_Cell(c) for c in cells])
    hits = forbidden_references(nb, answer.__name__, tuple(forbidden))
    return [f"uses {h.written} (line {h.line} of `{answer.__name__}`)" for h in hits]


def _filled(cell) -> bool:
    try:
        return cell.cell_contents is not cell  # always true once the variable is assigned
    except ValueError:  # a closure variable not assigned yet
        return False


def course_answer(answer) -> bool:
    """The course's own model answers (defined in this package) call the reference by design."""
    return getattr(answer, "__module__", "").startswith(__package__ + ".")


class _Cell(dict):
    @property
    def source(self) -> str:
        return self["source"]


@contextmanager
def traced(forbidden: tuple[str, ...]) -> Iterator[set[str]]:
    """Record the forbidden callables called inside the block, in the yielded set (live)."""
    if not forbidden:
        yield set()
        return
    tracer = _Tracer({name: resolve(name) for name in forbidden})
    previous = sys.getprofile()
    sys.setprofile(tracer)
    try:
        yield tracer.hits
    finally:
        sys.setprofile(previous)


def message(name: str, found: list[str]) -> str:
    """The line ``check`` shows, in the grader's words."""
    return (
        f"`{name}` {'; '.join(found)}: that is the library's implementation of what the "
        f"exercise asks you to write. The grader gives 0 points to an answer that uses it; "
        f"write it yourself."
    )
