"""``emlib review OUT``: a page per exercise marked by hand, and ``OUT/marks.csv`` to type the marks.

For every exercise of the gradebook that is marked by hand (kind ``derivation``), one HTML page
``OUT/review/<exercise-id>.html``: the question and the model solution, then every student's
answer as :mod:`.answers` found it (their markdown rendered, their code), in roster order (the
roster kept in ``OUT`` by ``emlib grade --roster``, then any student not on it), else in
gradebook order. A submission is hostile: its markdown is rendered with raw HTML turned into
text, images left out and unsafe links refused (markdown-it-py), and its code is escaped.

The maths is typeset offline by MathJax, vendored for the course website (``make book`` puts it
in ``book/_vendor/mathjax/``; ``--mathjax FILE`` names another copy of ``tex-svg.js``): the file
is copied into ``OUT/review/mathjax/`` and the pages load it from there, so the folder can be
opened on any machine. Without it the pages show the TeX source, and the command says so.

``OUT/marks.csv`` gets a row ``id,exercise,,`` for every student and hand-marked exercise it
lacks; the rows already there, and whatever was typed in them, are kept byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import secrets
import sys
from pathlib import Path

from .answers import read_answers
from .gradebook import atomic_write
from .layout import GradingError, read_csv_rows
from .marks import MARKS, hand_marked, prefilled
from .roster import read_roster

REVIEW = "review"
VENDORED = Path(__file__).resolve().parents[2] / "book" / "_vendor" / "mathjax" / "tex-svg.js"
MATHJAX = "mathjax/tex-svg.js"
# Display maths first; a single $ opens inline maths only before a non-space, as in Jupyter.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$])\$(?=\S)(?:\\\$|[^$])+?(?<!\s)\$",
                   re.S)
# MathJax reads the students' TeX too: \href, \class, \style, \cssId and \data (links and
# attributes in the page) only typeset their last argument.
MATHJAX_CONFIG = (
    "window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, "
    "macros: {href: ['{#2}', 2], class: ['{#2}', 2], style: ['{#2}', 2], cssId: ['{#2}', 2], "
    "data: ['{#2}', 2]}}, "
    "options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code']}};"
)
STYLE = ("body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.45}"
         "section.student{border-top:2px solid #888;margin-top:2em}"
         ".course{background:#f6f8fa;padding:.2em 1em}.meta{color:#555}"
         "pre{background:#f6f8fa;padding:.5em;overflow-x:auto}")


def register_review(subparsers) -> None:
    p = subparsers.add_parser(
        "review", help="pages of the answers to mark by hand, and OUT/marks.csv to type the marks",
        description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("out", type=Path, metavar="OUT", help="the --out folder of emlib grade")
    p.add_argument("--mathjax", type=Path, default=None, metavar="FILE",
                   help=f"MathJax's tex-svg.js to copy beside the pages (default: {VENDORED})")
    p.set_defaults(func=run_review)


def run_review(args: argparse.Namespace) -> int:
    try:
        pages, added, warning = review(args.out, args.mathjax)
    except GradingError as exc:
        print(f"emlib review: error: {exc}", file=sys.stderr)
        return 2
    if warning:
        print(f"emlib review: warning: {warning}", file=sys.stderr)
    if not pages:
        print(f"no exercise of {args.out / 'gradebook.csv'} is marked by hand: nothing to review")
        return 0
    print(f"wrote {len(pages)} page(s) in {args.out / REVIEW}/; {args.out / MARKS}: {added} "
          f"row(s) added. Type the points there, then: emlib grade --out {args.out}")
    return 0


def render_markdown(text: str) -> str:
    """Markdown as safe HTML, with the TeX of its maths kept as written (escaped) for MathJax."""
    from markdown_it import MarkdownIt

    nonce = secrets.token_hex(8)
    maths: list[str] = []

    def hold(m: re.Match) -> str:
        maths.append(m.group(0))
        return f"EMLIBMATH{nonce}X{len(maths) - 1}X"

    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    rendered = md.render(_MATH.sub(hold, text))
    return re.sub(rf"EMLIBMATH{nonce}X(\d+)X", lambda m: html.escape(maths[int(m.group(1))]),
                  rendered)


def student_order(out: Path, ids: list[str]) -> list[str]:
    """``ids`` in the order of the roster kept in ``out`` (the others after it), else as given."""
    path = out / "roster.csv"
    if not path.is_file():
        return ids
    listed = [sid for sid in read_roster(path, "roster").ids() if sid in ids]
    return listed + [sid for sid in ids if sid not in listed]


def copy_mathjax(out: Path, source: Path | None) -> str:
    """Copy MathJax beside the pages; the reason it could not be, or ""."""
    source = VENDORED if source is None else source
    if not source.is_file():
        return (f"MathJax ({source}) is not there: the pages show the TeX source of the maths. "
                f"Fix: run make book (it vendors MathJax into book/_vendor/), or give --mathjax "
                f"with the path of a copy of MathJax 3's tex-svg.js.")
    target = out / REVIEW / MATHJAX
    data = source.read_bytes()
    if not target.is_file() or target.read_bytes() != data:
        atomic_write(target, data)
    licence = source.parent / "LICENSE"
    if licence.is_file():
        atomic_write(target.parent / "LICENSE", licence.read_bytes())
    return ""


def _marks_rows(text: str) -> dict[tuple[str, str], tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return {((r.get("id") or "").strip(), (r.get("exercise") or "").strip()): (reader.line_num, r)
            for r in reader}


def _code(sources: list[str]) -> str:
    return "".join(f"<pre><code>{html.escape(s)}</code></pre>" for s in sources)


def page(data: dict, order: list[str], names: dict[str, str], rows: dict, mathjax: bool) -> str:
    """The review page of one exercise (``data``: its ``OUT/answers/<id>.json``)."""
    e = html.escape
    by_id = {s["id"]: s for s in data["students"]}
    head = [f"<script>{MATHJAX_CONFIG}</script>",
            f'<script src="{MATHJAX}" defer></script>'] if mathjax else []
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Review {e(data['exercise'])}: {e(data['title'])}</title>",
             f"<style>{STYLE}</style>", *head, "</head><body>",
             f"<h1>{e(data['exercise'])}: {e(data['title'])}</h1>",
             f"<p class=\"meta\">{data['points']:g} points, marked by hand. Type each student's "
             f"points (0 to {data['points']:g}) and a comment in <code>marks.csv</code> beside "
             f"this folder, on the line given below, then run <code>emlib grade --out OUT</code>."
             f"</p>"]
    if not mathjax:
        parts.append('<p class="meta">MathJax was not found: the maths shows as TeX.</p>')
    parts += ["<nav><p>Students: " + ", ".join(
        f'<a href="#s{i}">{e(sid)}</a>' for i, sid in enumerate(order)) + "</p></nav>",
        '<h2>Question</h2><div class="course">', render_markdown(data["prompt"]) or
        "<p>(the course notebook was not found)</p>", "</div>",
        '<h2>Model solution</h2><div class="course">', render_markdown(data["solution"]) or
        "<p>(the course notebook was not found)</p>", "</div>", "<h2>Answers</h2>"]
    for i, sid in enumerate(order):
        student = by_id[sid]
        answer = student["answer"]
        line, mark = rows.get((sid, data["exercise"]), (None, {}))
        name = f" ({e(names[sid])})" if names.get(sid) else ""
        meta = [f"status {e(student['status'])}", *([f"file {e(answer['file'])}"]
                                                    if answer.get("file") else [])]
        if line is not None:
            meta.append(f"marks.csv line {line}")
        if (mark.get("points") or "").strip():
            meta.append(f"marked {e(mark['points'])}: {e(mark.get('comment') or '')}")
        parts += [f'<section class="student" id="s{i}"><h3>{e(sid)}{name}</h3>',
                  f'<p class="meta">{"; ".join(meta)}</p>']
        if not answer["found"]:
            parts.append(f"<p><em>No answer found ({e(student['status'])}): no notebook handed "
                         f"in has a cell naming this exercise.</em></p>")
        elif not answer["markdown"].strip() and not answer["code"]:
            parts.append("<p><em>Nothing written: the answer cells are as handed out.</em></p>")
        parts += [render_markdown(answer["markdown"]), _code(answer["code"]), "</section>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def review(out: Path, mathjax: Path | None = None) -> tuple[list[Path], int, str]:
    """Write the review pages and pre-fill ``OUT/marks.csv``; the pages, the rows added and a
    warning ("" if none). Every input is read before anything is written."""
    book = read_csv_rows(out / "gradebook.csv", "OUT", ("id",),
                         "give the --out folder of a finished emlib grade run")
    marked_by_hand = hand_marked()
    exercises = [c for c in book[0] if c in marked_by_hand]
    if not exercises:
        return [], 0, ""
    ids = [r["id"] for r in book]
    order = student_order(out, ids)
    names = {}
    if (out / "roster.csv").is_file():
        names = {s.id: s.name for s in read_roster(out / "roster.csv", "roster").students}
    datas = []
    for ex_id in exercises:
        data = read_answers(out, ex_id)
        if data is None or {s["id"] for s in data["students"]} != set(ids):
            raise GradingError(f"{out}/answers/{ex_id}.json is missing or is not the gradebook's. "
                               f"Fix: run emlib grade again with the submissions into {out}.")
        datas.append(data)
    marks_path = out / MARKS
    existing = None
    if marks_path.is_file():
        read_csv_rows(marks_path, "OUT/marks.csv", ("id", "exercise"),
                      "keep the header 'id,exercise,points,comment'")
        existing = marks_path.read_text(encoding="utf-8")
    text, added = prefilled(existing, [(sid, ex_id) for ex_id in exercises for sid in order])
    warning = copy_mathjax(out, mathjax)
    rows = _marks_rows(text)
    pages = []
    for data in datas:
        target = out / REVIEW / f"{data['exercise']}.html"
        atomic_write(target, page(data, order, names, rows, not warning))
        pages.append(target)
    if added or existing is None:
        atomic_write(marks_path, text)
    return pages, added, warning
