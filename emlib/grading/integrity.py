"""The static half of the integrity check: does the exercise's code name a forbidden callable?

A function exercise lists in ``spec.forbidden`` the dotted names of the implementations it asks
the student to write (``"emlib.gmm.e_step"``, ``"sklearn.mixture.GaussianMixture"``). The run-time
half (:mod:`.sandboxed.kernel_helper`) records calls into them during the hidden cases; this half reads the code:
the notebook's imports give each local name its dotted origin (``from emlib import gmm`` makes
``gmm.e_step`` mean ``emlib.gmm.e_step``), and every name or attribute chain inside the student's
definition of the graded function is resolved through them. A reference whose dotted name equals
or lies under a forbidden one, or resolves to the same object (``emlib.e_step`` when emlib
re-exports ``emlib.gmm.e_step``, by :func:`.protocol.resolve`, as the trace resolves it), is
reported with its line.

Only the packages of the forbidden names are ever imported here (emlib, scikit-learn), to resolve
re-exports; the student's code is parsed, never run, in the grader's process.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .protocol import resolve

_MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Hit:
    name: str  # the forbidden dotted name
    written: str  # what the code wrote, resolved to a dotted name
    cell: int
    line: int


def parse_cell(source: str) -> ast.Module | None:
    """The cell's syntax tree with IPython magics blanked out, or None if it does not parse."""
    text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the last two: nested too deep
        return None


def _bound_names(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    targets = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    names = set()
    for t in targets:
        names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def defining_cells(nb, name: str) -> list[int]:
    """Indexes (into ``nb.cells``) of code cells that bind ``name`` at their top level."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        tree = parse_cell(cell.source)
        if tree is not None and any(name in _bound_names(s) for s in tree.body):
            found.append(i)
    return found


def _imports(nodes, aliases: dict[str, str]) -> None:
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"


def _dotted(node: ast.AST) -> tuple[str, ...] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return (node.id, *reversed(parts))
    return None


def _resolve(dotted: str, packages: set[str]):
    """The object of a dotted name inside one of ``packages``, or None (never imports others)."""
    return resolve(dotted) if dotted.split(".")[0] in packages else None


def forbidden_references(nb, name: str, forbidden: tuple[str, ...]) -> list[Hit]:
    """References to ``forbidden`` names in the last top-level definition of ``name``."""
    if not forbidden:
        return []
    cells = defining_cells(nb, name)
    if not cells:
        return []
    aliases: dict[str, str] = {}
    for cell in nb.cells[: cells[-1] + 1]:
        if cell.get("cell_type") == "code":
            tree = parse_cell(cell.source)
            if tree is not None:
                _imports([n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], aliases)
    tree = parse_cell(nb.cells[cells[-1]].source)
    defs = [s for s in tree.body if name in _bound_names(s)]
    target = defs[-1]
    # a local name (argument, assignment) shadows an import; an import inside the function counts
    local = {n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {a.arg for n in ast.walk(target) if isinstance(n, ast.arguments)
              for a in (*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg) if a is not None}
    for shadowed in local - {getattr(target, "name", None)}:
        aliases.pop(shadowed, None)
    _imports([n for n in ast.walk(target) if isinstance(n, (ast.Import, ast.ImportFrom))], aliases)
    packages = {f.split(".")[0] for f in forbidden}
    targets = {f: _resolve(f, packages) for f in forbidden}
    hits, seen = [], set()
    for node in ast.walk(target):
        if not isinstance(node, (ast.Name, ast.Attribute)):
            continue
        chain = _dotted(node)
        if chain is None or chain[0] not in aliases:
            continue
        written = ".".join((aliases[chain[0]], *chain[1:]))
        for f, obj in targets.items():
            same = written == f or written.startswith(f + ".")
            if not same and obj is not None:
                same = _resolve(written, packages) is obj
            if same and (f, node.lineno) not in seen:
                seen.add((f, node.lineno))
                hits.append(Hit(f, written, cells[-1], node.lineno))
    return hits


# Code a course notebook never needs, and that reaches for the grader's machinery in the kernel.
_TAMPER = re.compile(
    r"_emlib_grading|\bset(?:profile|trace)\b|input_transformers|ast_transformers|"
    r"EMLIB-FRAME|/proc/|\.calls\b"
)


def tamper_signs(nb) -> list[int]:
    """Indexes of code cells that touch the grader's machinery (reported, never scored)."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.get("cell_type") == "code" and _TAMPER.search(cell.source)]
