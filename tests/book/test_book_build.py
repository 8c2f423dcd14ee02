"""The built website: complete, free of solutions in the student edition, and offline."""

from __future__ import annotations

import re

import pytest
from _book_helpers import (
    build_book,
    emlib_book,
    normalise,
    notebook_text,
    page_text,
    search_terms,
    solution_text,
    toc_documents,
    toc_notebooks,
    toc_path,
)
from bs4 import BeautifulSoup

from emlib.exercises import all_exercises

# Every way a page makes the browser fetch something: tag attributes, and CSS url() / @import.
RESOURCE_ATTRIBUTES = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}
REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_REMOTE = re.compile(
    r"""url\(\s*["']?(?:https?:)?//|@import\s+(?:url\()?\s*["']?(?:https?:)?//"""
)


@pytest.fixture(scope="module")
def solutions():
    found = solution_text()
    assert found.code_lines, "the source notebooks should hold solution code to look for"
    return found


def _site_files(site, suffixes):
    return [path for path in site.rglob("*") if path.suffix in suffixes and path.is_file()]


def test_every_toc_page_is_built(student_site):
    missing = [doc for doc in toc_documents() if not (student_site / toc_path(doc)).is_file()]
    assert not missing, f"pages of _toc.yml missing from the site: {missing}"
    assert (student_site / "index.html").is_file()
    assert (student_site / "search.html").is_file()


def test_toc_lists_the_six_notebooks_and_the_pages():
    documents = toc_documents()
    assert toc_notebooks() == [
        "01_jensen",
        "02_elbo_kl",
        "03_gmm_em",
        "04_kmeans",
        "05_bernoulli_digits",
        "06_practical",
    ]
    for page in (
        "intro",
        "how-to-use",
        "notation",
        "instructor-guide",
        "references",
        "accessibility",
    ):
        assert f"book/{page}" in documents


def test_student_pages_and_notebooks_hold_no_solution(student_site, solutions):
    needles = solutions.needles()
    leaks = []
    for path in _site_files(student_site, {".html", ".js", ".txt", ".json"}):
        text = page_text(path) if path.suffix == ".html" else " ".join(path.read_text().split())
        leaks += [(path.name, needle) for needle in needles if needle in text]
    for path in _site_files(student_site, {".ipynb"}):
        text = notebook_text(path)
        leaks += [(path.name, needle) for needle in needles if needle in text]
    assert not leaks, f"solution text in the student edition: {leaks[:10]}"


def test_student_downloads_are_the_student_notebooks(student_site):
    downloads = sorted(p.name for p in (student_site / "_sources" / "notebooks").glob("*.ipynb"))
    assert downloads == sorted(f"{name}.ipynb" for name in toc_notebooks())
    for path in (student_site / "_sources" / "notebooks").glob("*.ipynb"):
        text = notebook_text(path)
        assert "BEGIN SOLUTION" not in text
        assert '"solution"' not in path.read_text(), f"{path.name} keeps a solution-tagged cell"


def test_student_search_index_holds_no_solution_word(student_site, instructor_site, solutions):
    leaked = solutions.stems & search_terms(student_site)
    assert not leaked, f"words only the solutions use are in the student search index: {leaked}"
    # The same check finds them in the instructor edition, so it can see a leak.
    assert not solutions.stems or solutions.stems & search_terms(instructor_site)


def test_no_page_loads_a_remote_resource(student_site):
    remote = []
    for path in _site_files(student_site, {".html"}):
        soup = BeautifulSoup(path.read_text(), "html.parser")
        for tag, attribute in RESOURCE_ATTRIBUTES.items():
            for element in soup.find_all(tag):
                value = element.get(attribute) or ""
                if REMOTE.match(value):
                    remote.append((path.name, str(element)[:160]))
        for style in soup.find_all("style"):
            if CSS_REMOTE.search(style.get_text()):
                remote.append((path.name, style.get_text()[:160]))
        for element in soup.find_all(style=True):
            if CSS_REMOTE.search(element["style"]):
                remote.append((path.name, element["style"][:160]))
    for path in _site_files(student_site, {".css"}):
        if CSS_REMOTE.search(path.read_text()):
            remote.append((path.name, CSS_REMOTE.search(path.read_text()).group(0)))
    assert not remote, f"remote resources in the built site: {remote[:10]}"


def test_math_and_widgets_load_from_the_vendored_folder(student_site):
    page = (student_site / "notebooks" / "03_gmm_em.html").read_text()
    sources = [s.get("src", "") for s in BeautifulSoup(page, "html.parser").find_all("script")]
    assert any("_vendor/mathjax/tex-mml-chtml.js" in src for src in sources)
    vendored = student_site / "_vendor"
    for name in (*emlib_book.VENDOR_ENTRY_POINTS, emlib_book.WIDGETS_SETUP.name):
        assert (vendored / name).is_file(), name
    # Outside _static/, so that pages without math or widgets do not load them.
    assert not list((student_site / "_static").rglob("embed-amd.js"))
    assert not list((student_site / "_static").rglob("tex-mml-chtml.js"))


def test_exercise_list_numbers_every_exercise(student_site):
    page = BeautifulSoup((student_site / "book" / "exercises.html").read_text(), "html.parser")
    text = " ".join(page.get_text().split())
    exercises = all_exercises()
    for exercise in exercises:
        assert exercise.id in text
    numbers = re.findall(r"Exercise (\d+) \(", text)
    assert [int(n) for n in numbers] == list(range(1, len(exercises) + 1))


def test_instructor_edition_hides_each_solution_in_a_collapsed_dropdown(instructor_site, solutions):
    seen = set()
    for path in (instructor_site / "notebooks").glob("*.html"):
        soup = BeautifulSoup(path.read_text(), "html.parser")
        for details in soup.find_all("details"):
            assert not details.has_attr("open"), f"{path.name}: a dropdown is open"
        inside = " ".join(
            normalise(d.get_text())
            for d in soup.find_all("details")
            if "Show solution" in d.get_text() or "emlib-solution" in d.get("class", [])
        )
        for details in soup.find_all("details"):
            details.decompose()
        outside_text = normalise(soup.get_text())
        for needle in solutions.needles():
            if needle in inside:
                seen.add(needle)
            assert needle not in outside_text, f"{path.name}: solution text outside a dropdown"
    missing = solutions.needles() - seen
    assert not missing, f"solution text not found in the instructor edition: {sorted(missing)[:5]}"


def test_the_footer_dates_the_site_by_its_latest_commit(student_site):
    year = build_book.copyright_year()
    for page in ("book/intro.html", "book/accessibility.html", "notebooks/03_gmm_em.html"):
        html = BeautifulSoup((student_site / page).read_text(), "html.parser")
        footer = html.find("footer", class_="bd-footer-content")
        assert footer is not None, f"{page}: no footer with the copyright line"
        text = " ".join(footer.get_text().split())
        assert f"© Copyright {year}." in text, text
        assert re.findall(r"\b20\d\d\b", text) == [year], text
