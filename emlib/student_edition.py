"""The student edition: the course notebooks with the solutions taken out.

Markers in the source notebooks (code cells):

``# BEGIN SOLUTION`` ... ``# END SOLUTION``
    Inside a function body, the lines from BEGIN to END (markers included) become
    ``raise NotImplementedError("<id>: your code here")`` at the indentation of the BEGIN marker,
    after a comment that offers ``hint("<id>")`` when the exercise has hints
    (:mod:`emlib.exercises.hints`); the signature and the docstring above stay. Outside any function (a value computed over
    several lines at the top level of the cell), the block becomes ``<name> = ...`` where
    ``<name>`` is the exercise's variable (a top-level ``raise`` would stop "Run all"); a function
    exercise must put its markers inside the function.
``<target> = <value>  # SOLUTION``
    The value of this assignment becomes ``...`` (all of it, also when it spans several lines).
    On a later line of a multi-line dict, ``"key": <value>,  # SOLUTION`` blanks only that entry
    (``"key": ...,``), so that students see the keys the answer needs.

The exercise a marked cell belongs to is, in order: the cell tag ``exercise:<id>``, a comment line
``# exercise: <id>`` in the cell, the id of a ``check("<id>", ...)`` call in the cell itself, or in
the next code cell. Two different ids for one cell are an error, as is an id that the registry
(``emlib exercises``) does not know.

Cells: markdown cells tagged ``solution`` (worked answers, derivations) are removed; a code cell
tagged ``solution`` is an error (use the markers). The outputs and execution counts of exercise
cells and of cells that call ``check(`` are cleared; every other cell, and its outputs, is kept.
Unbalanced or nested markers, a ``# SOLUTION`` that is not on an assignment, a marker in a cell
that belongs to no exercise: each stops with :class:`StudentEditionError` naming the notebook, the
cell index (0-based, as ``nb.cells[i]``) and the line in the cell (1-based).

Used by ``emlib student``, ``make student`` / ``make lab``, the website build and the grader's
tests. The ways a cell names its exercise, and the stub's message, are the grading protocol's
(:mod:`emlib.grading.protocol`), so the grader recognises what this module writes.
"""

from __future__ import annotations

import ast
import copy
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .exercises import Exercise, all_exercises
from .exercises.hints import HINTS
from .grading.protocol import CHECK_CALL, EXERCISE_COMMENT, stub_message, tagged_ids

_MARKER = re.compile(r"#+\s*(BEGIN SOLUTION|END SOLUTION|SOLUTION)\s*$")
_CHECK_CALL = re.compile(r"(?<![\w.])check\(")
_MAGIC = re.compile(r"^\s*[%!]")


class StudentEditionError(ValueError):
    """A source notebook whose markers cannot be turned into a student edition."""

    def __init__(self, notebook: str, cell: int, line: int | None, problem: str):
        where = f"{notebook}: cell {cell}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}")
        self.notebook, self.cell, self.line, self.problem = notebook, cell, line, problem


@dataclass(frozen=True)
class _Edit:
    start: int  # 0-based first line replaced
    stop: int  # 0-based line after the last one replaced
    lines: tuple[str, ...]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _exercise_id(cells, index: int, fail) -> str:
    """The id of the exercise that the marked cell ``cells[index]`` belongs to."""
    cell = cells[index]
    found: list[tuple[str, str]] = []
    found += [("the cell tag", i) for i in tagged_ids(_tags(cell))]
    found += [("an '# exercise:' comment", i) for i in EXERCISE_COMMENT.findall(cell.source)]
    found += [("the check(...) call in the cell", i) for i in CHECK_CALL.findall(cell.source)]
    if not found:
        nxt = next((c for c in cells[index + 1 :] if c.cell_type == "code"), None)
        if nxt is not None:
            found += [
                ("the check(...) in the next code cell", i) for i in CHECK_CALL.findall(nxt.source)
            ]
    ids = {i for _, i in found}
    if not ids:
        fail(
            None,
            "solution marker outside any exercise: no exercise id found. Fix: follow the cell "
            "with a check(\"NN.slug\", ...) cell, or add a '# exercise: NN.slug' comment or the "
            "cell tag 'exercise:NN.slug'.",
        )
    if len(ids) > 1:
        listed = "; ".join(f"{i!r} from {how}" for how, i in found)
        fail(None, f"conflicting exercise ids for one cell: {listed}. Fix: keep one id.")
    return ids.pop()


def _parse(source: str, fail) -> ast.Module:
    # Magics are not Python; blank them line for line so that line numbers stay right.
    text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        fail(exc.lineno, f"the cell does not parse as Python ({exc.msg}).")
        raise  # unreachable: fail raises


def _enclosing_function(tree: ast.Module, lineno: int) -> ast.AST | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.lineno < lineno <= node.end_lineno:
                return node
    return None


def _assignment_at(tree: ast.Module, lineno: int) -> ast.stmt | None:
    """The innermost assignment statement spanning line ``lineno`` (1-based)."""
    best = None
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and node.lineno <= lineno <= node.end_lineno
        ):
            if best is None or node.lineno >= best.lineno:
                best = node
    return best


def _solution_edits(lines: list[str], tree: ast.Module, ex: Exercise | None, ex_id: str, fail):
    """The edits that take the solutions out of one cell's lines."""
    edits: list[_Edit] = []
    begin: int | None = None
    for i, line in enumerate(lines):
        m = _MARKER.search(line)
        if not m:
            continue
        kind, lineno = m.group(1), i + 1
        if kind == "BEGIN SOLUTION":
            if begin is not None:
                fail(
                    lineno,
                    f"nested '# BEGIN SOLUTION': the block opened at line {begin + 1} "
                    f"is not closed. Fix: add '# END SOLUTION' before opening another block.",
                )
            begin = i
        elif kind == "END SOLUTION":
            if begin is None:
                fail(
                    lineno,
                    "'# END SOLUTION' without a '# BEGIN SOLUTION' above it in this "
                    "cell. Fix: add the BEGIN marker or remove this line.",
                )
            edits.append(_block_edit(lines, begin, i, tree, ex, ex_id, fail))
            begin = None
        else:
            if begin is not None:
                fail(
                    lineno,
                    f"'# SOLUTION' inside the '# BEGIN SOLUTION' block opened at line "
                    f"{begin + 1}. Fix: the block is removed whole; drop this marker.",
                )
            edits.append(_value_edit(lines, i, tree, fail))
    if begin is not None:
        fail(
            begin + 1,
            "'# BEGIN SOLUTION' is never closed in this cell. Fix: add "
            "'# END SOLUTION' after the last line of the solution.",
        )
    return edits


def _block_edit(lines, begin, end, tree, ex, ex_id, fail) -> _Edit:
    indent = re.match(r"\s*", lines[begin]).group(0)
    if _enclosing_function(tree, begin + 1) is not None:
        stub = f'{indent}raise NotImplementedError("{stub_message(ex_id)}")'
        if ex_id in HINTS:
            offer = f'{indent}# Stuck before a first output? hint("{ex_id}") shows a first hint.'
            return _Edit(begin, end + 1, (offer, stub))
        return _Edit(begin, end + 1, (stub,))
    if ex is None or ex.kind == "function":
        fail(
            begin + 1,
            "a '# BEGIN SOLUTION' block of a function exercise outside the function "
            "body. Fix: put the markers inside the function, below its docstring, so that the "
            "signature and docstring stay.",
        )
    if indent:
        fail(
            begin + 1,
            "a '# BEGIN SOLUTION' block that is indented but not inside a function. "
            "Fix: move it to the top level of the cell, or inside a function.",
        )
    return _Edit(begin, end + 1, (f"{ex.name} = ...  # your answer",))


def _value_edit(lines, i, tree, fail) -> _Edit:
    node = _assignment_at(tree, i + 1)
    if node is None:
        fail(
            i + 1,
            "'# SOLUTION' marks a value but this line is not an assignment. Fix: write "
            "'name = value  # SOLUTION', or use '# BEGIN SOLUTION' / '# END SOLUTION'.",
        )
    if node.lineno != i + 1:
        return _entry_edit(lines, i, node, fail)
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    first, last = node.lineno - 1, node.end_lineno - 1
    head = lines[first][: node.col_offset]
    target = " = ".join(ast.unparse(t) for t in targets)
    annotation = f": {ast.unparse(node.annotation)}" if isinstance(node, ast.AnnAssign) else ""
    return _Edit(first, last + 1, (f"{head}{target}{annotation} = ...",))


def _entry_edit(lines, i, node, fail) -> _Edit:
    """``"key": value,  # SOLUTION`` inside a multi-line dict: that one value becomes ``...``."""
    values = [
        v
        for d in ast.walk(node)
        if isinstance(d, ast.Dict)
        for v in d.values
        if v.lineno == v.end_lineno == i + 1
    ]
    if len(values) != 1:
        fail(
            i + 1,
            "'# SOLUTION' on a continuation line of an assignment that does not hold "
            "exactly one dict entry 'key: value,'. Fix: put the marker on the first line "
            "(the whole value becomes ...) or on lines of one dict entry each.",
        )
    v = values[0]
    code = lines[i][: _MARKER.search(lines[i]).start()].rstrip().encode()
    # ast column offsets count UTF-8 bytes
    new = code[: v.col_offset] + b"..." + code[v.end_col_offset :]
    return _Edit(i, i + 1, (new.decode(),))


def _apply(lines: list[str], edits: list[_Edit]) -> list[str]:
    out = list(lines)
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out[e.start : e.stop] = e.lines
    return out


def _clear(cell) -> None:
    cell.outputs = []
    cell.execution_count = None


def make_student_notebook(
    nb: nbformat.NotebookNode,
    *,
    name: str = "<notebook>",
    exercises: Mapping[str, Exercise] | None = None,
) -> nbformat.NotebookNode:
    """Return the student edition of one source notebook (the input is not modified).

    Parameters
    ----------
    nb : nbformat.NotebookNode, version 4
    name : the notebook's name in error messages
    exercises : id -> Exercise that marked cells may belong to (default: the registry)

    Raises
    ------
    StudentEditionError
        for unbalanced or nested markers, a marker outside any exercise, an unknown id.
    """
    exercises = {e.id: e for e in all_exercises()} if exercises is None else exercises
    nb = copy.deepcopy(nb)
    kept = []
    for index, cell in enumerate(nb.cells):

        def fail(line, problem, _index=index):
            raise StudentEditionError(name, _index, line, problem)

        if "solution" in _tags(cell):
            if cell.cell_type == "code":
                fail(
                    None,
                    "a code cell tagged 'solution'. Fix: mark the solution lines with "
                    "'# BEGIN SOLUTION' / '# END SOLUTION' (or '# SOLUTION') and drop the tag.",
                )
            continue  # a worked answer in markdown: not in the student edition
        if cell.cell_type != "code":
            kept.append(cell)
            continue
        lines = cell.source.splitlines()
        if any(_MARKER.search(line) for line in lines):
            ex_id = _exercise_id(nb.cells, index, fail)
            if ex_id not in exercises:
                fail(
                    None,
                    f"unknown exercise id {ex_id!r}. Fix: use an id that "
                    f"`emlib exercises` lists, or declare it in emlib/exercises/nb{ex_id[:2]}.py.",
                )
            tree = _parse(cell.source, fail)
            edits = _solution_edits(lines, tree, exercises[ex_id], ex_id, fail)
            cell.source = "\n".join(_apply(lines, edits))
            _clear(cell)
        elif _CHECK_CALL.search(cell.source):
            _clear(cell)
        kept.append(cell)
    nb.cells = kept
    nbformat.validate(nb)
    return nb


def _sources(src: Path, out: Path) -> list[Path]:
    if src.is_file():
        return [src]
    found = []
    for path in sorted(src.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or out in path.parents:
            continue
        found.append(path)
    return found


def write_student_edition(src, out) -> list[Path]:
    """Write the student edition of every notebook under ``src`` (a folder or one notebook).

    Every notebook is converted before any is written, so a marker error leaves ``out``
    untouched. Each output keeps its path relative to ``src`` and is written atomically. Only
    notebooks are written (no other file of ``src``: solutions must not leak through them).

    Returns
    -------
    list of Path, the notebooks written
    """
    src, out = Path(src).resolve(), Path(out).resolve()
    if not src.exists():
        raise FileNotFoundError(
            f"source {src} does not exist. Fix: pass the folder of the "
            f"course notebooks, e.g. notebooks/."
        )
    if out == src or (src.is_file() and out == src.parent):
        raise ValueError(
            f"--out {out} would overwrite the source notebooks. Fix: write the "
            f"student edition elsewhere, e.g. --out student."
        )
    paths = _sources(src, out)
    if not paths:
        raise FileNotFoundError(f"no .ipynb notebook under {src}.")
    root = src.parent if src.is_file() else src
    converted = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        rel = path.relative_to(root)
        converted.append((out / rel, make_student_notebook(nb, name=str(rel))))
    for target, nb in converted:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".ipynb.tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                nbformat.write(nb, fh)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return [t for t, _ in converted]
