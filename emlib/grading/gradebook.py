"""The outputs: ``gradebook.csv``, ``statuses.csv``, ``feedback/<name>.md`` and ``.html``,
``summary.md`` and its histogram.

``gradebook.csv`` has one row per student: ``id``, one column per exercise (the points, or the
status word for ``timeout``, ``memory``, ``crashed``, ``invalid-notebook`` and ``manual``, which are
never a plain zero), ``total``, ``maximum`` (automatic points, and the points of the derivations
once marked by hand: :mod:`.marks`), ``percent``, ``statuses`` (e.g. ``ok:3 wrong:1``) and ``flags``. ``statuses.csv`` has the same rows
and exercise columns, each holding the exercise's status, so that every 0 can be told apart
after export. Every file is written atomically (a temporary file in the same folder, then
``os.replace``), so a crash or a reader never sees half a gradebook; the same results always
give the same bytes.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .late import describe, penalty_fraction
from .protocol import EXERCISE_STATUSES as STATUSES
from .protocol import NOT_A_ZERO
from .score import ExerciseResult


@dataclass
class StudentRow:
    student: str
    files: list[str]
    exercises: dict[str, ExerciseResult]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)  # in the student's folder, not graded
    days_late: float = 0.0
    late_percent: float = 0.0  # penalty per day late (see .late)

    @property
    def points(self) -> float:
        """The points scored, before any late penalty."""
        return round(sum(r.points for r in self.exercises.values()), 2)

    @property
    def late_deduction(self) -> float:
        return round(self.points * penalty_fraction(self.days_late, self.late_percent), 2)

    @property
    def total(self) -> float:
        return round(self.points - self.late_deduction, 2)

    @property
    def maximum(self) -> float:
        return round(sum(r.max_points for r in self.exercises.values()), 2)

    @property
    def percent(self) -> float:
        return round(100.0 * self.total / self.maximum, 1) if self.maximum else 0.0

    def status_summary(self) -> str:
        counts = Counter(r.status for r in self.exercises.values())
        return " ".join(f"{s}:{counts[s]}" for s in STATUSES if counts[s])


def atomic_write(path: Path, data) -> None:
    """Write ``data`` (str or bytes) to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(results, exercises) -> list[StudentRow]:
    """One row per student, from the results of that student's files.

    The layout rules (:mod:`.layout`) leave at most one file per course notebook per student,
    so each exercise's result comes from the one file that answers its notebook.
    """
    by_student: dict[str, list] = {}
    for res in results:
        by_student.setdefault(res.student, []).append(res)
    rows = []
    for student in sorted(by_student):
        subs = [s for s in by_student[student] if s.kind == "notebook"]
        chosen: dict[str, ExerciseResult] = {}
        for ex in exercises:
            candidates = [s.exercises[ex.id] for s in subs if ex.id in s.exercises]
            invalid = [s.invalid for s in subs if s.invalid and not s.notebooks]
            if candidates:
                chosen[ex.id] = candidates[0]
            elif invalid:  # a file that could be any notebook: not a plain "missing"
                chosen[ex.id] = ExerciseResult(ex.id, ex.title, 0.0, ex.auto_points,
                                               "invalid-notebook", invalid[:1])
            else:
                chosen[ex.id] = ExerciseResult(
                    ex.id, ex.title, 0.0, ex.auto_points, "missing",
                    [f"no submitted notebook contains notebook {ex.notebook}"])
        notes = [f"{Path(s.path).name}: {n}" for s in subs for n in s.notes]
        notes += [f"{Path(s.path).name}: not a valid notebook ({s.invalid})" for s in subs if s.invalid]
        notes += [n for s in by_student[student] if s.kind != "notebook" for n in s.notes]
        others = sorted({f for s in by_student[student] for f in s.other_files})
        flags = sorted({f for s in by_student[student] for f in s.flags})
        rows.append(StudentRow(student, [s.path for s in subs], chosen, notes, flags, others))
    return rows


def _cell(r: ExerciseResult) -> str:
    return r.status if r.status in NOT_A_ZERO else f"{r.points:g}"


def gradebook_csv(rows: list[StudentRow], exercises) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    late = any(row.days_late for row in rows)  # the late columns only when someone is late
    w.writerow(["id", *[ex.id for ex in exercises], *(["days_late", "late_penalty"] * late),
                "total", "maximum", "percent", "statuses", "flags"])
    for row in rows:
        w.writerow([row.student, *[_cell(row.exercises[ex.id]) for ex in exercises],
                    *([f"{row.days_late:g}", f"{row.late_deduction:g}"] * late),
                    f"{row.total:g}", f"{row.maximum:g}", f"{row.percent:g}", row.status_summary(),
                    ";".join(row.flags)])
    return buf.getvalue()


def statuses_csv(rows: list[StudentRow], exercises) -> str:
    """``statuses.csv``: the gradebook's shape, with the status word of every exercise, so that
    a 0 that is ``missing``, ``not-attempted``, ``error`` or ``flagged`` is told from a 0 scored."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", *[ex.id for ex in exercises]])
    for row in rows:
        w.writerow([row.student, *[row.exercises[ex.id].status for ex in exercises]])
    return buf.getvalue()


def _submitted(row: StudentRow, code) -> list[str]:
    lines = ["Submitted: " + (", ".join(code(Path(f).name) for f in row.files) or "no notebook")]
    if row.other_files:
        lines.append("Other files in your folder, not graded: "
                     + ", ".join(code(f) for f in row.other_files))
    return lines


def _late_lines(row: StudentRow) -> list[str]:
    if not row.days_late:
        return []
    return [describe(row.days_late, row.late_percent, row.points, row.late_deduction), ""]


def _score(r: ExerciseResult) -> str:
    return "marked by hand" if r.status == "manual" else f"{r.points:g} / {r.max_points:g}"


def running_md(row: StudentRow) -> list[str]:
    """The files handed in and what happened while they ran, as Markdown lines."""
    return [*_submitted(row, lambda f: f"`{f}`"), "", "## Running your notebook", "",
            *([f"- {n}" for n in row.notes] or ["- every cell ran without an error"])]


def exercise_md(r: ExerciseResult) -> list[str]:
    """One exercise's score and status, then its messages, as Markdown lines."""
    return [f"**{_score(r)}, {r.status}**", "", *[f"- {m}" for m in r.messages]]


def feedback_md(row: StudentRow, exercises) -> str:
    lines = [f"# Feedback for {row.student}", "",
             f"**Total: {row.total:g} / {row.maximum:g} ({row.percent:g}%)**", "",
             *_late_lines(row), *running_md(row)]
    for ex in exercises:
        lines += ["", f"## {ex.id}: {ex.title}", "", *exercise_md(row.exercises[ex.id])]
    return "\n".join(lines) + "\n"


def _inline(text: str) -> str:
    """Escaped HTML, with the Markdown code spans of the messages (`name`) as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def feedback_html(row: StudentRow, exercises) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback for {e(row.student)}</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}"
        ".ok{color:#1a7f37}.partial{color:#9a6700}.bad{color:#cf222e}</style></head><body>",
        f"<h1>Feedback for {e(row.student)}</h1>",
        f"<p><strong>Total: {row.total:g} / {row.maximum:g} ({row.percent:g}%)</strong></p>",
        *(f"<p>{e(line)}</p>" for line in _late_lines(row) if line),
        *(f"<p>{line}</p>" for line in _submitted(row, lambda f: f"<code>{e(f)}</code>")),
        "<h2>Running your notebook</h2><ul>",
    ]
    parts += [f"<li>{_inline(n)}</li>" for n in row.notes] or [
        "<li>every cell ran without an error</li>"]
    parts.append("</ul>")
    for ex in exercises:
        r = row.exercises[ex.id]
        cls = {"ok": "ok", "partial": "partial", "manual": "partial"}.get(r.status, "bad")
        parts += [f"<h2>{e(ex.id)}: {e(ex.title)}</h2>",
                  f'<p class="{cls}"><strong>{_score(r)}, {e(r.status)}</strong></p><ul>']
        parts += [f"<li>{_inline(m)}</li>" for m in r.messages]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def histogram_png(totals: list[float], maximum: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 3.5), dpi=100)
    ax = fig.add_subplot()
    bins = min(20, max(5, int(maximum) if maximum else 5))
    ax.hist(totals, bins=bins, range=(0, maximum or 1), color="#4c72b0", edgecolor="white")
    ax.set_title("Distribution of totals")
    ax.set_xlabel(f"total points (maximum {maximum:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def unmarked(rows: list[StudentRow]) -> int:
    """How many exercises of ``rows`` remain to be marked by hand (status ``manual``)."""
    return sum(r.status == "manual" for row in rows for r in row.exercises.values())


def _marked(r: ExerciseResult) -> bool:
    """A derivation's result marked by hand (:mod:`.marks`): points out of the exercise's."""
    return r.status != "manual" and r.max_points > 0


def summary_md(rows: list[StudentRow], exercises) -> str:
    totals = sorted(r.total for r in rows)
    maximum = max((r.maximum for r in rows), default=0.0)
    n = len(totals)
    median = (totals[(n - 1) // 2] + totals[n // 2]) / 2 if n else 0.0
    mean = sum(totals) / n if n else 0.0
    to_mark = unmarked(rows)
    by_hand = any(_marked(row.exercises[ex.id]) for row in rows for ex in exercises
                  if ex.kind == "derivation")
    points = "points (automatic and marked by hand)" if by_hand else "automatic points"
    lines = ["# Grading summary", "", f"{n} students; maximum {maximum:g} {points}.", "",
             *([f"{to_mark} answer(s) remain to be marked by hand: `emlib review OUT`, then the "
                f"points in `OUT/marks.csv` and `emlib grade --out OUT` again.", ""] * bool(to_mark)),
             f"- mean total: {mean:.2f}", f"- median total: {median:.2f}",
             f"- lowest / highest: {totals[0] if n else 0:g} / {totals[-1] if n else 0:g}", "",
             "![Distribution of totals](summary-histogram.png)", "", "## Per exercise", "",
             "| exercise | points | mean | ok | failure modes | diagnosed mistakes |",
             "|---|---|---|---|---|---|"]
    for ex in exercises:
        res = [r.exercises[ex.id] for r in rows]
        counts = Counter(r.status for r in res)
        modes = ", ".join(f"{s} {counts[s]}" for s in STATUSES
                          if counts[s] and s not in ("ok", "manual")) or "-"
        mistakes = Counter(m for r in res for m in r.mistakes)
        diag = ", ".join(f"{m} {c}" for m, c in mistakes.most_common()) or "-"
        mean_pts = f"{sum(r.points for r in res) / len(res):.2f}" if res else "-"
        if ex.kind == "derivation":  # the mean of the answers marked by hand so far
            marked = [r.points for r in res if _marked(r)]
            pts, mean_pts = "manual", f"{sum(marked) / len(marked):.2f}" if marked else "-"
        else:
            pts = f"{ex.auto_points:g}"
        lines.append(f"| {ex.id} | {pts} | {mean_pts} | {counts['ok']} | {modes} | {diag} |")
    flagged = [r.student for r in rows if r.flags]
    if flagged:
        lines += ["", "## Flags", ""]
        lines += [f"- {r.student}: {', '.join(r.flags)}" for r in rows if r.flags]
    return "\n".join(lines) + "\n"


def feedback_name(student: str) -> str:
    """A file name for a student id (ids from an --ids map may hold any character)."""
    name = re.sub(r"[^\w.@+-]", "_", student).lstrip(".")
    return name or "_"


def feedback_names(students) -> dict[str, str]:
    """Each student's feedback file name; when two ids give one name (``José García`` and
    ``José_García``), the later id in sorted order gets ``-2`` (then ``-3``, ...) appended."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for student in sorted(students):
        base = name = feedback_name(student)
        n = 1
        while name.casefold() in taken:  # case-insensitive file systems
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        names[student] = name
    return names


def write_all(out: Path, rows: list[StudentRow], exercises) -> None:
    """Write the gradebook, the feedback of every student and the summary into ``out``."""
    names = feedback_names(row.student for row in rows)
    for row in rows:
        name = names[row.student]
        atomic_write(out / "feedback" / f"{name}.md", feedback_md(row, exercises))
        atomic_write(out / "feedback" / f"{name}.html", feedback_html(row, exercises))
    atomic_write(out / "summary-histogram.png",
                 histogram_png([r.total for r in rows], max((r.maximum for r in rows), default=0)))
    atomic_write(out / "summary.md", summary_md(rows, exercises))
    atomic_write(out / "statuses.csv", statuses_csv(rows, exercises))
    atomic_write(out / "gradebook.csv", gradebook_csv(rows, exercises))
