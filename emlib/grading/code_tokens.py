"""Code as a sequence of tokens that ignores names, comments, docstrings and layout, and the
similarity score of two such sequences (used by :mod:`.similarity`).

Normalisation (:func:`normalise`)
    ``ast.parse`` (IPython magics blanked, as the grader reads cells: :func:`.integrity.parse_cell`),
    then: docstrings and other bare strings dropped (comments are gone with the parse), the stub
    ``raise NotImplementedError(...)`` dropped, every name the code binds (variables, arguments,
    functions and classes it defines) renamed ``v0, v1, ...`` in order of first appearance;
    attribute names, builtins and imported names (``np.log``) kept. The tree is written back with
    ``ast.unparse`` and cut into Python tokens, so layout, comments and the choice of names no
    longer count. Code that does not parse has only its text sequence: comments dropped, cut into
    words and symbols.

The score (:func:`score`)
    ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()``: 2M / (len(a) + len(b)), M the
    tokens in common in order, so 1.0 is the same code up to names and layout and a copied
    solution with a few lines added or changed stays high, while two solutions that only share the
    library calls score low. It reads as "the share of the two codes that is the same", which an
    instructor can check by eye beside the two cells; a class of a few hundred is compared in
    seconds, because the cheap upper bounds ``real_quick_ratio`` and ``quick_ratio`` rule out most
    pairs first. (Winnowing fingerprints would survive reordered blocks better, but their Jaccard
    index is harder to read and needs a k-gram size tuned to code this short.)
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from difflib import SequenceMatcher

from .integrity import parse_cell

_MIN_RUN = 2  # template tokens are taken out in runs of at least this many
_TEXT_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")
_SKIP = {tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER, tokenize.ENCODING}
_LAYOUT = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>"}


@dataclass(frozen=True)
class Tokens:
    """One piece of code as token sequences: by its syntax tree (None if it does not parse), and
    by its text."""

    tree: tuple[str, ...] | None
    text: tuple[str, ...]


def _is_stub(stmt: ast.stmt) -> bool:
    exc = stmt.exc if isinstance(stmt, ast.Raise) else None
    exc = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _is_bare_string(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _strip(tree: ast.Module) -> None:
    """Drop docstrings, other bare strings and stub raises from every block (``pass`` if empty)."""
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not isinstance(block, list) or not block:
                continue
            kept = [s for s in block if not (_is_bare_string(s) or _is_stub(s))]
            setattr(node, name, kept or ([] if isinstance(node, ast.Module) else [ast.Pass()]))


def _bound(tree: ast.Module) -> set[str]:
    """The names the code binds itself (imports excepted: they name libraries)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class _Rename(ast.NodeVisitor):
    """Bound names become ``v0, v1, ...`` in the order the walk meets them."""

    def __init__(self, bound: set[str]):
        self.bound, self.new = bound, {}

    def _name(self, name: str) -> str:
        return self.new.setdefault(name, f"v{len(self.new)}") if name in self.bound else name

    def visit_Name(self, node):
        node.id = self._name(node.id)

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self._name(node.name)
        self.generic_visit(node)

    def visit_Global(self, node):
        node.names = [self._name(n) for n in node.names]

    visit_Nonlocal = visit_Global


def _tree_tokens(source: str) -> tuple[str, ...] | None:
    tree = parse_cell(source)
    if tree is None:
        return None
    try:
        _strip(tree)
        _Rename(_bound(tree)).visit(tree)
        text = ast.unparse(tree)
        return tuple(_LAYOUT.get(t.type, t.string) for t in
                     tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _SKIP)
    except (RecursionError, SyntaxError, ValueError, tokenize.TokenError):
        return None  # too deep to walk, or unparse wrote what tokenize refuses: read as text


def _text_tokens(source: str) -> tuple[str, ...]:
    """Words and symbols, comments dropped (a ``#`` inside a string is rare enough to ignore)."""
    return tuple(t for line in source.splitlines() for t in _TEXT_TOKEN.findall(line.split("#")[0]))


def normalise(source: str) -> Tokens:
    """The code's token sequences (see the module): by syntax tree, and by text."""
    return Tokens(_tree_tokens(source), _text_tokens(source))


def without_template(tokens: tuple[str, ...], template: tuple[str, ...]) -> tuple[str, ...]:
    """``tokens`` less the runs (of at least two) they share with the template, in order."""
    if not template:
        return tokens
    keep = [True] * len(tokens)
    for block in SequenceMatcher(None, template, tokens, autojunk=False).get_matching_blocks():
        if block.size >= _MIN_RUN:
            keep[block.b:block.b + block.size] = [False] * block.size
    return tuple(t for t, k in zip(tokens, keep, strict=True) if k)


def score(a: tuple[str, ...], b: tuple[str, ...], at_least: float = 0.0) -> float:
    """SequenceMatcher's ratio of two token sequences (0.0 when a cheap bound says < at_least)."""
    m = SequenceMatcher(None, a, b, autojunk=False)
    if m.real_quick_ratio() < at_least or m.quick_ratio() < at_least:
        return 0.0
    return m.ratio()
