"""Similar code between submissions: ``OUT/similarity.html`` and ``OUT/similarity.csv``.

A flag for an instructor to look at, never a penalty: nothing here changes a mark.

For every exercise whose answer is code (kinds ``function`` and ``value``; a choice, an
expression or a derivation is too short or too constrained to tell anything), each student's code
is the last code cell that defines the exercise's name at its top level, as the grader finds it
(:func:`.integrity.defining_cells`). The notebooks are read as JSON, never run.

Normalisation (:func:`normalise`)
    ``ast.parse``, then: docstrings and other bare strings dropped (comments are gone with the
    parse), the stub ``raise NotImplementedError(...)`` dropped, every name the code binds
    (variables, arguments, functions and classes it defines) renamed ``v0, v1, ...`` in order of
    first appearance; attribute names, builtins and imported names (``np.log``) kept. The tree is
    written back with ``ast.unparse`` and cut into Python tokens, so layout, comments and the
    choice of names no longer count. Code that does not parse is compared by its text instead:
    comments dropped, cut into words and symbols (a pair is compared this way when either side
    does not parse).

What is not the student's own (:class:`Baseline`)
    The student edition of the exercise's cell (made from the source notebook by
    :func:`emlib.student_edition.make_student_notebook`) is the template: the tokens that match it
    in runs of at least two are taken out, and what is left is the student's own code. Code with
    fewer than :data:`MIN_TOKENS` own tokens is not compared: an untouched stub has none, and two
    students who independently write the same short NumPy line are common. The source notebook's
    solution is the reference: a submission whose own code is as similar to the reference's as
    the threshold is not paired, since being correct the usual way explains the likeness.

The score
    ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()`` on the own token sequences:
    2M / (len(a) + len(b)), M the tokens in common in order, so 1.0 is the same code up to names
    and layout and a copied solution with a few lines added or changed stays high, while two
    solutions that only share the library calls score low. It reads as "the share of the two
    codes that is the same", which an instructor can check by eye beside the two cells; a class
    of a few hundred is compared in seconds, because the cheap upper bounds ``real_quick_ratio``
    and ``quick_ratio`` rule out most pairs first. (Winnowing fingerprints would survive
    reordered blocks better, but their Jaccard index is harder to read and needs a k-gram size
    tuned to code this short.)
"""

from __future__ import annotations

import argparse
import ast
import csv
import html
import io
import re
import sys
import tokenize
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from .gradebook import atomic_write
from .integrity import defining_cells, parse_cell
from .layout import GradingError, answered_notebooks, check_one_per_notebook, find_submissions
from .protocol import NOTEBOOK_PREFIX
from .submission import read_notebook

DEFAULT_THRESHOLD = 0.9
MIN_TOKENS = 40  # own tokens; a one-line NumPy answer has about 30
CODE_KINDS = ("function", "value")
SOURCE = Path(__file__).resolve().parents[2] / "notebooks"  # the course's source notebooks
_MIN_RUN = 2  # template tokens are taken out in runs of at least this many
_TEXT_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")
_SKIP = {tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER, tokenize.ENCODING}
_LAYOUT = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>"}


THRESHOLD_EXPECTED = "expected a number T with 0 < T <= 1 (the share of two codes that is the same)"


def check_threshold(value, option: str = "--threshold") -> float:
    """The threshold as a float in (0, 1], or a :class:`GradingError` saying what is expected."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if not 0 < t <= 1:
        raise GradingError(f"{option}: {THRESHOLD_EXPECTED}; got {value!r}. "
                           f"Fix: e.g. {option} {DEFAULT_THRESHOLD}.")
    return t


# -- normalising one piece of code -----------------------------------------------------------------
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


def _own(tokens: tuple[str, ...], template: tuple[str, ...]) -> tuple[str, ...]:
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


# -- the template and the reference ----------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    """One student's code for one exercise: as written, and its own tokens both ways."""

    student: str
    source: str
    tree: tuple[str, ...] | None  # None: the code does not parse
    text: tuple[str, ...]

    def tokens(self, other: Code) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The two sequences to compare: by tree when both parse, else by text."""
        if self.tree is not None and other.tree is not None:
            return self.tree, other.tree
        return self.text, other.text

    @property
    def size(self) -> int:
        return len(self.tree if self.tree is not None else self.text)


@dataclass(frozen=True)
class Baseline:
    """An exercise's template (student edition) and reference (source notebook) tokens."""

    template: Tokens
    reference: Code


def own_code(template: Tokens, student: str, source: str) -> Code:
    """``source`` normalised, less what it shares with the template."""
    got = normalise(source)
    tree = None if got.tree is None else _own(got.tree, template.tree or ())
    return Code(student, source, tree, _own(got.text, template.text))


def exercise_code(nb, ex) -> str | None:
    """The source of the last code cell that defines the exercise's name, or None. A cell that
    does not parse counts when a line of it starts ``def <name>`` or ``<name> =``."""
    binds = re.compile(rf"^(?:def\s+{ex.name}\b|{ex.name}\s*(?::[^=\n]*)?=(?!=))", re.M)
    broken = [i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
              and binds.search(c.source) and parse_cell(c.source) is None]
    cells = sorted({*defining_cells(nb, ex.name), *broken})
    return nb.cells[cells[-1]].source if cells else None


def _source_notebooks(folder: Path, number: str):
    """The source notebook ``NN_*.ipynb`` and its student edition, or None if there is none."""
    from ..student_edition import make_student_notebook

    paths = sorted(p for p in folder.glob("*.ipynb")
                   if (m := NOTEBOOK_PREFIX.match(p.name)) and m.group(1) == number)
    if not paths:
        return None
    nb, why = read_notebook(paths[0])
    if nb is None:
        raise GradingError(f"--source: {paths[0]} cannot be read: {why}.")
    return nb, make_student_notebook(nb, name=paths[0].name)


def baselines(exercises, source: Path) -> dict[str, Baseline]:
    """id -> Baseline for the code exercises, from the source notebooks in ``source``."""
    source = Path(source)
    if not source.is_dir():
        raise GradingError(f"--source {source} is not a folder. Fix: pass the folder of the "
                           f"course's source notebooks, e.g. --source notebooks.")
    found, sources = {}, {}
    for ex in exercises:
        if ex.notebook not in sources:
            sources[ex.notebook] = _source_notebooks(source, ex.notebook)
        pair = sources[ex.notebook]
        if pair is None:
            raise GradingError(f"--source {source} has no notebook {ex.notebook}_*.ipynb, the "
                               f"source of {ex.id}. Fix: pass the folder of the course's source "
                               f"notebooks, or leave {ex.notebook} out with --exercises.")
        solution, student = pair
        template = normalise(exercise_code(student, ex) or "")
        reference = own_code(template, "reference", exercise_code(solution, ex) or "")
        found[ex.id] = Baseline(template, reference)
    return found


# -- the comparison --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    exercise: str
    a: Code
    b: Code
    score: float


@dataclass
class ExerciseSummary:
    """What happened to one exercise's submissions."""

    exercise: object  # the Exercise
    compared: list[str] = field(default_factory=list)  # students whose code was compared
    short: list[str] = field(default_factory=list)  # fewer than MIN_TOKENS own tokens
    near_reference: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)  # compared by text
    pairs: list[Pair] = field(default_factory=list)


@dataclass
class Report:
    threshold: float
    exercises: list[ExerciseSummary]
    unread: list[tuple[str, str, str]] = field(default_factory=list)  # (student, file, why)


def compare(notebooks, exercises, threshold: float = DEFAULT_THRESHOLD,
            source: Path = SOURCE) -> Report:
    """Every pair of ``notebooks`` (``(path, student)``, as :func:`.layout.find_submissions` gives
    them) whose code for one of ``exercises`` scores at least ``threshold``; see the module."""
    threshold = check_threshold(threshold)
    chosen = [ex for ex in exercises if ex.kind in CODE_KINDS]
    bases = baselines(chosen, source)
    report = Report(threshold, [ExerciseSummary(ex) for ex in chosen])
    codes: dict[str, list[Code]] = {ex.id: [] for ex in chosen}
    for path, student in notebooks:
        nb, why = read_notebook(Path(path))
        if nb is None:
            report.unread.append((student, Path(path).name, why))
            continue
        answered = set(answered_notebooks(Path(path), chosen, nb))
        for ex in chosen:
            text = exercise_code(nb, ex) if ex.notebook in answered else None
            if text is not None:
                codes[ex.id].append(own_code(bases[ex.id].template, student, text))
    for summary in report.exercises:
        _pairs(summary, codes[summary.exercise.id], bases[summary.exercise.id].reference, threshold)
    return report


def _pairs(summary: ExerciseSummary, codes: list[Code], reference: Code, threshold: float) -> None:
    ready = []
    for code in sorted(codes, key=lambda c: c.student):
        if code.size < MIN_TOKENS:
            summary.short.append(code.student)
        elif reference.size and score(*code.tokens(reference), threshold) >= threshold:
            summary.near_reference.append(code.student)
        else:
            ready.append(code)
            if code.tree is None:
                summary.unparsed.append(code.student)
    summary.compared = [c.student for c in ready]
    for i, a in enumerate(ready):
        for b in ready[i + 1:]:
            s = score(*a.tokens(b), threshold)
            if s >= threshold:
                summary.pairs.append(Pair(summary.exercise.id, a, b, s))
    summary.pairs.sort(key=lambda p: (-p.score, p.a.student, p.b.student))


# -- the files -------------------------------------------------------------------------------------
CAPTION = ("A flag for an instructor to look at, never a penalty: similar code has many innocent "
           "causes (working together as allowed, the same worked example, a common idiom).")


def report_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["exercise", "id_a", "id_b", "score"])
    for s in report.exercises:
        w.writerows([p.exercise, p.a.student, p.b.student, f"{p.score:.3f}"] for p in s.pairs)
    return buf.getvalue()


def _names(students: list[str]) -> str:
    return ", ".join(html.escape(s) for s in students) or "none"


def _section(s: ExerciseSummary, threshold: float) -> list[str]:
    e, ex = html.escape, s.exercise
    parts = [f'<h2 id="{e(ex.id)}">{e(ex.id)}: {e(ex.title)}</h2>',
             f"<p>{len(s.compared)} submission(s) compared. Not compared: fewer than "
             f"{MIN_TOKENS} tokens of their own code (an untouched stub, a short answer): "
             f"{len(s.short)}; as close to the course's own solution as the threshold: "
             f"{len(s.near_reference)}.</p>"]
    if s.unparsed:
        parts.append(f"<p>Compared by text, as the code does not parse: {_names(s.unparsed)}.</p>")
    if not s.pairs:
        return parts + [f"<p>No pair scores {threshold:g} or more.</p>"]
    parts += [f"<table><caption>{e(ex.id)}: pairs scoring {threshold:g} or more, most similar "
              f"first. {e(CAPTION)}</caption>",
              '<thead><tr><th scope="col">Score</th><th scope="col">First submission</th>'
              '<th scope="col">Second submission</th></tr></thead><tbody>']
    for p in s.pairs:
        cells = "".join(f"<td><p><strong>{e(c.student)}</strong></p><pre>{e(c.source)}</pre></td>"
                        for c in (p.a, p.b))
        parts.append(f'<tr><th scope="row">{p.score:.3f}</th>{cells}</tr>')
    return parts + ["</tbody></table>"]


def report_html(report: Report) -> str:
    e, t = html.escape, report.threshold
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Similar code between submissions</title>",
        "<style>body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em;"
        "line-height:1.4;color:#1f2328;background:#fff}table{border-collapse:collapse;width:100%}"
        "caption{text-align:left;font-weight:bold;margin:.5em 0}th,td{border:1px solid #6e7781;"
        "padding:.4em;vertical-align:top;text-align:left}td{width:47%}pre{white-space:pre-wrap;"
        "overflow-wrap:anywhere;background:#f6f8fa;padding:.5em;margin:0}</style></head><body>",
        "<main><h1>Similar code between submissions</h1>",
        f"<p><strong>{e(CAPTION)}</strong></p>",
        f"<p>Each pair below wrote code for one exercise that is at least {t:g} the same once "
        "comments, docstrings, layout and the names of variables, arguments and functions are set "
        "aside (library calls such as <code>np.log</code> count). The student edition's template "
        "is not counted, and a submission as close as that to the course's own solution is not "
        "paired. The code is shown as written.</p>",
    ]
    if report.unread:
        parts.append("<h2>Notebooks not read</h2><ul>")
        parts += [f"<li>{e(s)} ({e(f)}): {e(why)}</li>" for s, f, why in report.unread]
        parts.append("</ul>")
    for s in report.exercises:
        parts += _section(s, t)
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def write_report(out: Path, report: Report) -> list[Path]:
    """``OUT/similarity.html`` and ``OUT/similarity.csv``, each written atomically."""
    paths = [Path(out) / "similarity.html", Path(out) / "similarity.csv"]
    atomic_write(paths[0], report_html(report))
    atomic_write(paths[1], report_csv(report))
    return paths


def after_grading(out: Path, results, exercises, threshold: float, warn) -> None:
    """The report of an ``emlib grade`` run, over every notebook of its gradebook (those kept from
    earlier runs into ``out`` too); a warning instead when the source notebooks are not there."""
    notebooks = [(Path(r.path), r.student) for r in results if r.kind == "notebook"]
    try:
        write_report(out, compare(notebooks, exercises, threshold))
    except GradingError as exc:
        warn(f"no similarity report: {exc} (emlib similarity writes one; see its --source)")


# -- the command -----------------------------------------------------------------------------------
def threshold_argument(text: str) -> float:
    """A threshold option's argparse type (argparse names the option in its message)."""
    try:
        return check_threshold(text)
    except GradingError:
        raise argparse.ArgumentTypeError(f"{THRESHOLD_EXPECTED}; got {text!r}. "
                                         f"Fix: e.g. {DEFAULT_THRESHOLD}.") from None


def register_similarity(subparsers) -> None:
    p = subparsers.add_parser(
        "similarity", help="flag similar code between submissions, for an instructor to look at",
        description="Compare every pair of submissions' code for each exercise whose answer is "
        "code, with names, comments and layout set aside, and write OUT/similarity.html and "
        "OUT/similarity.csv: a flag for a human, never a penalty. The notebooks are read, never "
        "run. Submissions and student ids are found as emlib grade finds them.")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help=".ipynb files, or folders of them")
    p.add_argument("--out", required=True, type=Path, help="folder for the two report files")
    p.add_argument("--threshold", type=threshold_argument, default=DEFAULT_THRESHOLD, metavar="T",
                   help=f"report pairs scoring at least T, 0 < T <= 1 (default {DEFAULT_THRESHOLD})")
    p.add_argument("--ids", type=Path, default=None, metavar="MAP.csv",
                   help="CSV with header 'file,id' mapping notebook files to student ids")
    p.add_argument("--exercises", default="",
                   help="comma-separated exercise ids or notebook numbers (default: all)")
    p.add_argument("--source", type=Path, default=SOURCE, metavar="DIR",
                   help="the course's source notebooks, for the template and the reference "
                   "solution (default: the notebooks/ folder beside emlib)")
    p.set_defaults(func=run_similarity)


def run_similarity(args: argparse.Namespace) -> int:
    from .batch import select_exercises

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    try:
        found = find_submissions(args.submissions, args.ids, warn)
        exercises = select_exercises(tuple(s.strip() for s in args.exercises.split(",") if s.strip()))
        check_one_per_notebook(found.notebooks, exercises, args.ids)
        report = compare(found.notebooks, exercises, args.threshold, args.source)
    except GradingError as exc:
        print(f"emlib similarity: error: {exc}", file=sys.stderr)
        return 2
    html_path, _ = write_report(args.out, report)
    pairs = sum(len(s.pairs) for s in report.exercises)
    print(f"{pairs} pair(s) at or above {report.threshold:g} to look at: {html_path}, "
          f"{args.out / 'similarity.csv'}")
    return 0
