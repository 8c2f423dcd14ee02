"""Expression exercises: the result of a derivation, typed as a formula, read safely and judged by
its meaning.

The student states the result of a derivation as a string in ordinary maths-like syntax,
``"(N_k + alpha - 1) / (n + K*(alpha - 1))"``, or as a SymPy expression built from the symbols
that :func:`symbols` hands out. :func:`read` turns the text into a SymPy expression **without
evaluating any Python**: it walks the syntax tree of :func:`ast.parse` and accepts only numbers,
the exercise's declared symbols, ``+ - * / **`` (``^`` is read as a power), parentheses and the
functions ``log`` (also ``ln``), ``exp`` and ``sqrt``. Everything else (a name it does not know,
an attribute, a call of anything else, a lambda, a subscript, a string) is refused with a message
that says what was found; so are a text longer than :data:`MAX_LENGTH` characters, a nesting
deeper than :data:`MAX_DEPTH`, and a power whose constant exponent exceeds :data:`MAX_EXPONENT`
or whose constant base exceeds :data:`MAX_CONSTANT` (``10**10**10`` would take SymPy hours).
The grader reads a submission's answer the same way, in its own process: only a string crosses
the sandbox (a SymPy answer is turned into its text inside the student's process by
:func:`emlib.grading.protocol.formula_text`), and reading it never runs it.

Equivalence (:func:`same`): the difference of the two expressions is first simplified
(``cancel``, exact for the rational expressions most of these exercises produce; skipped when
``exp`` or ``log`` appear, where it could run for ever); when that does not give zero, both are
evaluated in floating point at :data:`N_POINTS` random admissible points of the declared symbols
(each :class:`Variable` has a range, and an integer flag), so that a form SymPy cannot simplify
is still judged, and a wrong form is wrong on the points whatever simplify could decide.
Expanded, factored, reordered and rescaled forms all pass. The points are drawn with a fixed seed:
the verdict on one answer is the same on every machine.

An expression exercise is declared with :func:`expression_exercise`, which builds the
:class:`~emlib.exercises.spec.Exercise` (``kind="expression"``): its reference is the formula
text, each :class:`~emlib.exercises.spec.Mistake` variant a wrong formula, and its comparator
:func:`comparator`. The symbols' SymPy assumptions (positive, integer) follow the ranges.
"""

from __future__ import annotations

import ast
import cmath
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..grading.protocol import formula_text
from .spec import Exercise, Mistake, Verdict

MAX_LENGTH = 300  # characters of a formula
MAX_DEPTH = 40  # nested operations
MAX_EXPONENT = 64  # |constant exponent|
MAX_CONSTANT = 1e15  # |constant base| of a power, and |number| written
N_POINTS = 12
RTOL = 1e-9
_FUNCTIONS = ("log", "ln", "exp", "sqrt")
_TYPOGRAPHY = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/"})
_NODE_NAMES = {
    ast.Attribute: "an attribute (a.b)",
    ast.Subscript: "a subscript (a[i])",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and / or",
    ast.IfExp: "an if-expression",
    ast.Tuple: "a tuple (a comma)",
    ast.List: "a list",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment (:=)",
}


class FormulaError(ValueError):
    """A formula that cannot be read: the message is for the student."""


@dataclass(frozen=True)
class Variable:
    """A symbol an expression answer may use.

    name : as the student types it, e.g. "N_k" (a Python identifier)
    meaning : what it stands for, e.g. "the soft count of component k"
    low, high : the admissible range the numeric test draws from
    integer : a whole number (a dimension, a count of components)
    """

    name: str
    meaning: str
    low: float
    high: float
    integer: bool = False

    def __post_init__(self):
        if not self.name.isidentifier() or self.name in _FUNCTIONS:
            raise ValueError(f"Variable name {self.name!r} must be an identifier, not a function.")
        if not self.low < self.high:
            raise ValueError(f"Variable {self.name!r}: need low < high; got {self.low}, {self.high}.")

    def assumptions(self) -> dict[str, bool]:
        """SymPy's assumptions for the symbol: real, positive when the range is, integer."""
        found = {"real": True}
        if self.low > 0:
            found["positive"] = True
        if self.integer:
            found["integer"] = True
        return found

    def symbol(self):
        import sympy

        return sympy.Symbol(self.name, **self.assumptions())


def symbols(exercise_id: str):
    """The SymPy symbols of an expression exercise, in the order of its declaration.

    ``N_k, n, K, alpha = symbols("03.pi-map")``; build the answer with them, e.g.
    ``(N_k + alpha - 1) / (n + K * (alpha - 1))``. A single symbol is returned as it is.
    """
    from .registry import get

    ex = get(exercise_id)
    if ex.kind != "expression":
        raise ValueError(f"{exercise_id} is a {ex.kind} exercise; symbols() is for expression "
                         f"exercises (see `emlib exercises`).")
    found = tuple(v.symbol() for v in ex.variables)
    return found[0] if len(found) == 1 else found


def _where(text: str, offset: int | None) -> str:
    if not offset or offset <= 1:
        return ""
    column = min(max(offset, 1), len(text) + 1)
    return f" at character {column}: `{text[:column - 1]}` ⟨here⟩ `{text[column - 1:]}`"


def read(answer, variables: Sequence[Variable]):
    """The SymPy expression of a formula answer (a string, a number or a SymPy expression).

    Raises :class:`FormulaError` naming what could not be read, and where.
    """
    import sympy

    answer = formula_text(answer)
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
        raise FormulaError(
            f"expected the formula as a string, e.g. \"{_example(variables)}\", or a SymPy "
            f"expression; got {type(answer).__name__}"
        )
    text = str(answer).strip()
    if not text:
        raise FormulaError("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_LENGTH} "
                           f"are read. Simplify it before you type it.")
    source = text.translate(_TYPOGRAPHY).replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        hint = ""
        if exc.msg and ("decimal literal" in exc.msg or "invalid syntax" in exc.msg):
            hint = "; write every product with *, e.g. 2*d, not 2d"
        elif exc.msg and "never closed" in exc.msg:
            hint = "; this bracket is never closed: add its )"
        elif exc.msg and "unmatched" in exc.msg:
            hint = "; this ) closes no bracket: remove it, or add the ( it closes"
        raise FormulaError(f"could not read the formula{_where(source, exc.offset)}{hint}") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("could not read the formula: it is nested too deeply") from None
    known = {v.name: v.symbol() for v in variables}
    return _Builder(known, source, sympy).build(tree.body, 0)


def _example(variables: Sequence[Variable]) -> str:
    names = [v.name for v in variables]
    return f"{names[0]} / (2*{names[-1]})" if names else "1/2"


class _Builder:
    """Turns an ``ast`` expression into SymPy, one whitelisted node at a time."""

    def __init__(self, known: Mapping, source: str, sympy):
        self.known, self.source, self.sp = known, source, sympy

    def refuse(self, node, what: str):
        where = _where(self.source, getattr(node, "col_offset", -1) + 1)
        allowed = ", ".join(self.known) or "no symbols"
        raise FormulaError(
            f"{what} is not part of a formula{where}. A formula uses numbers, the symbols "
            f"{allowed}, + - * / ** (or ^), parentheses and log, exp, sqrt"
        )

    def build(self, node, depth: int):
        sp = self.sp
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula nests more than {MAX_DEPTH} operations deep")
        d = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.refuse(node, f"the constant {value!r}")
            if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
                raise FormulaError(f"the number {value!r} is larger than a formula here needs")
            return sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(value))
        if isinstance(node, ast.Name):
            if node.id in self.known:
                return self.known[node.id]
            if node.id in _FUNCTIONS:
                raise FormulaError(f"{node.id} is a function: write {node.id}(...)")
            if node.id == "pi":
                return sp.pi
            allowed = ", ".join(self.known)
            raise FormulaError(f"unknown symbol `{node.id}`: this answer may use {allowed}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, d)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return self.binary(node, d)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        self.refuse(node, _NODE_NAMES.get(type(node), f"`{ast.unparse(node)[:40]}`"))

    def binary(self, node: ast.BinOp, d: int):
        left, right = self.build(node.left, d), self.build(node.right, d)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            return left / right
        if op is ast.Pow:
            if not right.free_symbols and not abs(_constant(right)) <= MAX_EXPONENT:
                raise FormulaError(f"the exponent of `{ast.unparse(node)[:60]}` is larger than "
                                   f"{MAX_EXPONENT}; no formula of the course needs that")
            if not left.free_symbols and not right.free_symbols and not (
                abs(_constant(left)) <= MAX_CONSTANT
            ):
                raise FormulaError(f"`{ast.unparse(node)[:60]}` is a power of a number too "
                                   f"large for a formula here")
            return left**right
        self.refuse(node, f"the operator in `{ast.unparse(node)[:40]}`")

    def call(self, node: ast.Call, d: int):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in _FUNCTIONS:
            self.refuse(node, f"the call `{ast.unparse(node.func)[:40]}(...)`")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise FormulaError(f"{name}(...) takes one argument")
        arg = self.build(node.args[0], d)
        sp = self.sp
        return {"log": sp.log, "ln": sp.log, "exp": sp.exp, "sqrt": sp.sqrt}[name](arg)


def _points(variables: Sequence[Variable]) -> list[dict[str, float]]:
    rng = np.random.default_rng(20261204)
    return [
        {v.name: float(rng.integers(int(v.low), int(v.high) + 1)) if v.integer
         else float(rng.uniform(v.low, v.high)) for v in variables}
        for _ in range(N_POINTS)
    ]


def _evaluate(expr, point: Mapping[str, float]) -> complex:
    """The value of a read expression at a point, in floating point (overflow gives inf).

    A walk over the few node types :func:`read` can build; SymPy's ``evalf`` would try to reach
    full precision on ``exp(exp(exp(x)))`` and take forever.
    """
    import sympy

    if expr.is_Symbol:
        return complex(point[expr.name])
    if expr.is_Number or expr in (sympy.pi, sympy.E):
        return complex(float(expr))
    args = [_evaluate(a, point) for a in expr.args]
    if expr.is_Add:
        return sum(args, 0j)
    if expr.is_Mul:
        out = 1 + 0j
        for a in args:
            out *= a
        return out
    if expr.is_Pow:
        base, power = args
        if base == 0:
            return complex("inf") if power.real < 0 else complex(power == 0)
        return base**power
    if isinstance(expr, sympy.exp):
        return cmath.exp(args[0])
    if isinstance(expr, sympy.log):
        return cmath.log(args[0]) if args[0] != 0 else complex("-inf")
    raise FormulaError(f"cannot evaluate {type(expr).__name__}")


def _constant(expr) -> complex:
    """The floating-point value of a constant expression (inf or nan when it has none)."""
    try:
        return _evaluate(expr, {})
    except (OverflowError, ZeroDivisionError, TypeError, FormulaError):
        return complex("inf")
    except ValueError:
        return complex("nan")


def _values(expr, variables: Sequence[Variable]) -> np.ndarray:
    out = []
    for point in _points(variables):
        try:
            value = _evaluate(expr, point)
        except (OverflowError, ZeroDivisionError, TypeError, FormulaError):
            value = complex("inf")
        except ValueError:
            value = complex("nan")
        out.append(value)
    return np.array(out)


def same(answer, reference, variables: Sequence[Variable]) -> bool:
    """Whether two read expressions are the same function of the symbols."""
    import sympy

    rational = not answer.has(sympy.Function) and not reference.has(sympy.Function)
    if rational:  # exact, and quick on the quotients of polynomials these answers are
        try:
            if sympy.cancel(sympy.together(answer - reference)) == 0:
                return True
        except Exception:  # simplification failed: the numbers decide
            pass
    a, b = _values(answer, variables), _values(reference, variables)
    finite = np.isfinite(b)
    if not finite.any():
        return False
    with np.errstate(all="ignore"):
        close = np.abs(a - b) <= RTOL * np.maximum(1.0, np.abs(b))
    return bool(np.all(close[finite]) and np.all(np.isfinite(a[finite])))


def _relation(answer, reference, variables: Sequence[Variable]) -> str:
    """A constant factor or offset between the answer and the reference, if there is one."""
    a, b = _values(answer, variables), _values(reference, variables)
    with np.errstate(all="ignore"):
        ratio, diff = a / b, a - b
    if np.all(np.isfinite(ratio)) and np.allclose(ratio, ratio[0], rtol=1e-9):
        if np.isclose(ratio[0], -1):
            return "has the wrong sign everywhere"
        return "is a constant multiple of the right formula (a factor is missing or extra)"
    if np.all(np.isfinite(diff)) and np.allclose(diff, diff[0], rtol=1e-9, atol=1e-12):
        return "differs from the right formula by a constant (a term is missing or extra)"
    return ""


@functools.lru_cache(maxsize=256)
def _reference(text: str, variables: tuple[Variable, ...]):
    return read(text, variables)


def comparator(variables: Sequence[Variable]):
    """The ``compare(answer, expected, inputs)`` of an expression exercise."""
    variables = tuple(variables)

    def compare(answer, expected, inputs) -> Verdict:
        try:
            mine = read(answer, variables)
        except FormulaError as exc:
            return Verdict.wrong(str(exc))
        ref = _reference(formula_text(expected), variables)
        if same(mine, ref, variables):
            return Verdict.ok("correct")
        relation = _relation(mine, ref, variables)
        said = f": it {relation}" if relation else ""
        return Verdict.wrong(f"not the same formula as the result of the derivation{said}")

    return compare


def shown(answer, variables: Sequence[Variable]) -> tuple[str, str] | None:
    """How a formula answer was read, as (plain text, LaTeX); None if it cannot be read."""
    import sympy

    try:
        expr = read(answer, variables)
    except FormulaError:
        return None
    return sympy.sstr(expr), sympy.latex(expr)


def expression_exercise(*, id: str, title: str, points: float, name: str, equation: str,
                        variables: Sequence[Variable], reference: str,
                        mistakes: Sequence[tuple[str, str, str, str]] = ()) -> Exercise:
    """An expression exercise: ``reference`` is the right formula, each mistake is
    ``(slug, description, equation, wrong formula)``."""
    variables = tuple(variables)
    read(reference, variables)  # a declaration error surfaces at import
    for _slug, _desc, _eq, wrong in mistakes:
        read(wrong, variables)
    return Exercise(
        id=id, title=title, points=points, kind="expression", name=name, equation=equation,
        reference=lambda: reference,
        compare=comparator(variables),
        mistakes=tuple(Mistake(slug, desc, eq, (lambda w=wrong: w))
                       for slug, desc, eq, wrong in mistakes),
        variables=variables,
    )
