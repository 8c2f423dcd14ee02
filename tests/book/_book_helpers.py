"""Helpers of the website tests: building a site, reading it, and the text of the solutions."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import snowballstemmer
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "_build" / "screenshots"
sys.path[:0] = [str(ROOT / "book"), str(ROOT / "book" / "_ext")]

# book/ is not a package: the build script and the Sphinx extension live beside the pages.
import build_book  # noqa: E402
import emlib_book  # noqa: E402, F401  (re-exported for the tests)

# The flags that work for headless Chromium in this course's CI (no GPU, no sandbox in the
# container, nothing fetched in the background); playwright adds --headless and a fresh profile.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Solution lines shorter than this (``return mu``, ``pass``) say nothing on their own.
MIN_CODE_LINE = 16
# Runs of plain words of a markdown answer, between markup, at least this long.
MIN_PROSE = 30
MARKUP = re.compile(r"[$`*_\\{}\[\]|#<>^=]+")
WORD = re.compile(r"[A-Za-z]{4,}")
STEMMER = snowballstemmer.stemmer("porter")  # the stemmer of Sphinx's English search index


def chromium() -> str:
    """The system Chromium that the browser tests drive."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise AssertionError(
            "Chromium is not installed; the website's browser tests drive the system Chromium "
            "headless (playwright never downloads a browser here). Fix: `make browser` (runs "
            "`apt-get install -y chromium` as root) or `sudo apt-get install chromium`."
        )
    return path


def build_site(edition: str, out: Path, *, execute: bool = True) -> Path:
    """Build one edition into ``out`` with ``book/build_book.py``; return its ``html`` folder."""
    command = [
        sys.executable,
        str(ROOT / "book" / "build_book.py"),
        "--edition",
        edition,
        "--out",
        str(out / "build"),
        "--cache",
        str(out / "cache"),
        "--quiet",
    ]
    if not execute:
        command.append("--no-execute")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(
            f"the {edition} edition did not build (exit {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-6000:]}"
        )
    return out / "build" / "html"


def toc_documents() -> list[str]:
    """Every document of ``_toc.yml``, as ``book/intro``, ``notebooks/01_jensen``, ..."""
    return build_book.toc_files()


# Sphinx's smartquotes turn the straight quotes of the sources into curly ones on the page.
_STRAIGHT_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, curly quotes made straight."""
    return " ".join(text.translate(_STRAIGHT_QUOTES).split())


def page_text(path: Path) -> str:
    """The text of an HTML page, whitespace normalised (code keeps its characters)."""
    return normalise(html_lib.unescape(BeautifulSoup(path.read_text(), "html.parser").get_text()))


def notebook_text(path: Path) -> str:
    """The sources of every cell of a notebook, whitespace normalised."""
    nb = nbformat.read(path, as_version=4)
    return normalise("\n".join(cell.source for cell in nb.cells))


def search_terms(site: Path) -> set[str]:
    """The stemmed words of the site's search index (``searchindex.js``)."""
    text = (site / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return set(index["terms"]) | set(index["titleterms"])


def _stems(text: str) -> set[str]:
    return {STEMMER.stemWord(word.lower()) for word in WORD.findall(text)}


def _output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@dataclass
class SolutionText:
    """What of the source notebooks only the solutions say.

    Attributes
    ----------
    code_lines : lines of solution code (in code cells) that the student edition removes and
        that occur nowhere in the public text (not even quoted in a sentence), each at least
        ``MIN_CODE_LINE`` characters (whitespace normalised)
    prose : runs of plain words of the markdown answers (cells tagged ``solution``), at least
        ``MIN_PROSE`` characters, that appear in no public text
    stems : stemmed words that occur in solutions only (the search index stores such stems)
    """

    code_lines: set[str] = field(default_factory=set)
    prose: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)

    def needles(self) -> set[str]:
        return self.code_lines | self.prose


def solution_text(notebooks: Path = NOTEBOOKS) -> SolutionText:
    """Collect the solution text of every source notebook (see :class:`SolutionText`).

    "Public" is everything a student may see: the cells without solutions, the student
    edition of the solution cells (signatures, docstrings, stubs), the stored outputs, the
    book's own pages and the exercise declarations (the exercise list shows their titles).
    """
    from emlib.exercises import all_exercises

    public, secret_code, secret_prose = [], [], []
    for path in sorted(notebooks.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        solutions = set(build_book.solution_cells(nb, path.name))
        student = build_book.student_notebook(nb, path.name)
        student_code = iter(c.source for c in student.cells if c.cell_type == "code")
        for index, cell in enumerate(nb.cells):
            stub = next(student_code) if cell.cell_type == "code" else None
            if index not in solutions:
                public += [cell.source, _output_text(cell)]
            elif cell.cell_type == "code":
                kept = {normalise(line) for line in stub.splitlines()}
                public.append(stub)
                secret_code += [
                    line for line in cell.source.splitlines() if normalise(line) not in kept
                ]
            else:
                secret_prose.append(cell.source)
    public += [page.read_text() for page in (ROOT / "book").glob("*.md")]
    public.append((ROOT / "book" / "references.bib").read_text())
    for exercise in all_exercises():
        public += [exercise.title, exercise.name, exercise.signature, *exercise.choices.values()]
    public_text = normalise("\n".join(public))

    found = SolutionText()
    for line in map(normalise, secret_code):
        if len(line) >= MIN_CODE_LINE and line not in public_text:
            found.code_lines.add(line)
    for line in map(normalise, "\n".join(secret_prose).splitlines()):
        for run in map(normalise, MARKUP.split(line)):
            if len(run) >= MIN_PROSE and run not in public_text:
                found.prose.add(run)
    found.stems = _stems("\n".join(secret_code + secret_prose)) - _stems("\n".join(public))
    return found


def toc_notebooks() -> list[str]:
    """The notebooks of ``_toc.yml``, by name (``01_jensen``, ...)."""
    return [doc.split("/", 1)[1] for doc in toc_documents() if doc.startswith("notebooks/")]


def toc_path(document: str) -> str:
    """The HTML page of a toc document, relative to the site."""
    return f"{document}.html"


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'

# Everything a reader would see as broken, measured once the page has settled.
REPORT = r"""() => {
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "MJX-ASSISTIVE-MML"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  const raw = [];
  for (let node; (node = walker.nextNode()); ) {
    const m = node.textContent.match(/\$\$|\\\[|\\begin\{/);
    if (m) raw.push(node.textContent.slice(Math.max(0, m.index - 60), m.index + 60));
  }
  const display = [...document.querySelectorAll("div.math")];
  return {
    display: display.length,
    untypeset: display.filter((d) => !d.querySelector("mjx-container")).map((d) => d.textContent.slice(0, 80)),
    inline_untypeset: [...document.querySelectorAll("span.math")].filter((s) => !s.querySelector("mjx-container")).length,
    math_errors: [...document.querySelectorAll("mjx-merror")].map((e) => e.getAttribute("data-mjx-error")),
    raw,
    images: document.images.length,
    broken_images: [...document.images].filter((i) => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).map((i) => i.src.slice(0, 100)),
    widget_views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgets_rendered: document.querySelectorAll(".widget-subarea .jupyter-widgets").length,
  };
}"""

# The equations of a page, and how many carry MathJax's assistive MathML for screen readers.
MATH = """() => ({
  equations: document.querySelectorAll("mjx-container").length,
  mathml: document.querySelectorAll("mjx-container > mjx-assistive-mml > math").length,
  hidden: document.querySelectorAll("mjx-container > mjx-math[aria-hidden=true]").length,
})"""

# Every image of a page, with its alt text (None when it has none).
IMAGES = """() => [...document.images].map((i) => ({ alt: i.getAttribute("alt"), src: i.src.slice(0, 80) }))"""

IMAGES_SETTLED = """() => Promise.all([...document.images].map((img) => img.complete ? null :
  new Promise((done) => { img.addEventListener("load", done); img.addEventListener("error", done); })))"""


def open_page(browser, url: str, screenshot=None):
    """Open ``url``, wait for MathJax, the widgets and the images; return (page, errors)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(90_000)  # generous: CI shares two cores with the rest of the suite
    errors = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"failed request: {r.url} ({r.failure})"))
    page.goto(url, wait_until="load")
    if page.evaluate("() => document.querySelectorAll('.math').length > 0"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    views = page.evaluate(f"() => document.querySelectorAll('{WIDGET_VIEW}').length")
    if views:
        page.wait_for_function(
            f"() => document.querySelectorAll('.widget-subarea .jupyter-widgets').length > 0 && "
            f"document.querySelectorAll('.widget-subarea').length >= {views}",
        )
    page.evaluate(IMAGES_SETTLED)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    return page, errors
