"""Similar code between submissions: ``OUT/similarity.html`` and ``OUT/similarity.csv``.

A flag for an instructor to look at, never a penalty: nothing here changes a mark.

For every exercise whose answer is code (kinds ``function`` and ``value``; a choice, an
expression or a derivation is too short or too constrained to tell anything), each student's code
is the last code cell that defines the exercise's name at its top level, as the grader finds it
(:func:`.integrity.defining_cells`). The notebooks are read as JSON, never run.

How code is compared: :mod:`.code_tokens` (names, comments, docstrings and layout set aside;
code that does not parse is compared by its text, a pair this way when either side does not parse).

What is not the student's own (:class:`Baseline`)
    The student edition of the exercise's cell (made from the source notebook by
    :func:`emlib.student_edition.make_student_notebook`) is the template: the tokens that match it
    in runs of at least two are taken out, and what is left is the student's own code. Code with
    fewer than :data:`MIN_TOKENS` own tokens is not compared: an untouched stub has none, and two
    students who independently write the same short NumPy line are common. The source notebook's
    solution is the reference: a submission whose own code is as similar to the reference's as
    the threshold is not paired, since being correct the usual way explains the likeness.

The score
    :func:`.code_tokens.score` of the two own token sequences, in [0, 1]: SequenceMatcher's ratio,
    "the share of the two codes that is the same" (its docstring says why this measure).
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises import all_exercises
from .code_tokens import Tokens, normalise, score, without_template
from .command import add_selection_arguments, exercise_selection
from .gradebook import atomic_write
from .integrity import defining_cells, parse_cell
from .layout import GradingError, answered_notebooks, check_one_per_notebook, find_submissions
from .protocol import NOTEBOOK_PREFIX
from .submission import read_notebook

DEFAULT_THRESHOLD = 0.9
MIN_TOKENS = 40  # own tokens; a one-line NumPy answer has about 30
CODE_KINDS = ("function", "value")
SOURCE = Path(__file__).resolve().parents[2] / "notebooks"  # the course's source notebooks
THRESHOLD_EXPECTED = "expected a number T with 0 < T <= 1 (the share of two codes that is the same)"


def check_threshold(value) -> float:
    """The threshold as a float in (0, 1], or a :class:`GradingError` saying what is expected."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if not 0 < t <= 1:
        raise GradingError(f"--threshold: {THRESHOLD_EXPECTED}; got {value!r}. "
                           f"Fix: e.g. --threshold {DEFAULT_THRESHOLD}.")
    return t


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
    tree = None if got.tree is None else without_template(got.tree, template.tree or ())
    return Code(student, source, tree, without_template(got.text, template.text))


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
    them) whose code for one of ``exercises`` scores at least ``threshold``; see the module. The
    report has a section for each code exercise of the course notebooks handed in."""
    threshold = check_threshold(threshold)
    chosen = [ex for ex in exercises if ex.kind in CODE_KINDS]
    bases = baselines(chosen, source)
    report = Report(threshold, [ExerciseSummary(ex) for ex in chosen])
    codes: dict[str, list[Code]] = {ex.id: [] for ex in chosen}
    seen: set[str] = set()  # the course notebooks some submission answers
    for path, student in notebooks:
        nb, why = read_notebook(Path(path))
        if nb is None:
            report.unread.append((student, Path(path).name, why))
            continue
        answered = set(answered_notebooks(Path(path), all_exercises(), nb))  # as grade_one does
        seen |= answered
        for ex in chosen:
            text = exercise_code(nb, ex) if ex.notebook in answered else None
            if text is not None:
                codes[ex.id].append(own_code(bases[ex.id].template, student, text))
    report.exercises = [s for s in report.exercises if s.exercise.notebook in seen]
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
            if a.student == b.student:  # two files of one student (for different notebooks)
                continue
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


def _section(s: ExerciseSummary, threshold: float) -> list[str]:
    e, ex = html.escape, s.exercise
    parts = [f'<h2 id="{e(ex.id)}">{e(ex.id)}: {e(ex.title)}</h2>',
             f"<p>{len(s.compared)} submission(s) compared. Not compared: fewer than "
             f"{MIN_TOKENS} tokens of their own code (an untouched stub, a short answer): "
             f"{len(s.short)}; as close to the course's own solution as the threshold: "
             f"{len(s.near_reference)}.</p>"]
    if s.unparsed:
        names = e(", ".join(s.unparsed))
        parts.append(f"<p>Compared by text, as the code does not parse: {names}.</p>")
    if not s.pairs:
        return [*parts, f"<p>No pair scores {threshold:g} or more.</p>"]
    parts += [f"<table><caption>{e(ex.id)}: pairs scoring {threshold:g} or more, most similar "
              f"first. {e(CAPTION)}</caption>",
              '<thead><tr><th scope="col">Score</th><th scope="col">First submission</th>'
              '<th scope="col">Second submission</th></tr></thead><tbody>']
    for p in s.pairs:
        cells = "".join(f"<td><p><strong>{e(c.student)}</strong></p><pre>{e(c.source)}</pre></td>"
                        for c in (p.a, p.b))
        parts.append(f'<tr><th scope="row">{p.score:.3f}</th>{cells}</tr>')
    return [*parts, "</tbody></table>"]


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
        f"<p>Each pair below handed in code for one exercise that scores at least {t:g} (1 is the "
        "same code) once comments, docstrings, layout and the names of variables, arguments and "
        "functions are set aside (library calls such as <code>np.log</code> count). The score is "
        "the share of the two codes that is the same. The student edition's template "
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
        write_report(out, compare(notebooks, exercises, threshold, SOURCE))
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
    add_selection_arguments(p)
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
        exercises = select_exercises(exercise_selection(args.exercises))
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
