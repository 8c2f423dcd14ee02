"""The website against WCAG 2.1 AA, in headless Chromium (see book/accessibility.md).

axe-core audits every page of the student edition, in the light and the dark colour mode, once
the equations and widgets have rendered; any violation fails, listed with page, rule and node.
Of the instructor edition, the pages that differ from the student one are audited here (the
notebooks, with their solutions, and a page with the edition's banner); `make audit
EDITION=instructor` audits all of it. The other tests check what axe-core cannot: that each
image has a real description, that the EM animation and the widgets work from the keyboard with
a visible focus ring and never play by themselves, and that MathJax's assistive MathML is there
for screen readers.
"""

from __future__ import annotations

import re

import pytest
from _book_helpers import open_page, toc_documents, toc_path
from axe_audit import WCAG_21_AA, site_pages

# The pages that are not in the table of contents: search, the general index and
# sphinx-proof's list of theorems (index.html only redirects to the first page).
EXTRA_PAGES = ["genindex.html", "prf-prf.html", "search.html"]
PAGES = sorted([toc_path(doc) for doc in toc_documents()] + EXTRA_PAGES)

# An alt text that names a file or is a content hash says nothing to a screen-reader user.
# A path or a URL, not a slash in a formula such as "ln p(X | θ) / n".
FILE_NAME = re.compile(
    r"\.(?:png|jpe?g|gif|svg|webp)\b|\S[/\\]\S*[/\\]|_images\b|^(?:blob|data|file|https?):",
    re.IGNORECASE,
)
HASH = re.compile(r"\b[0-9a-f]{12,}\b", re.IGNORECASE)
MIN_ALT_WORDS = 8

NOTEBOOK_PAGES = [toc_path(d) for d in toc_documents() if d.startswith("notebooks/")]
# Where the instructor edition differs: the notebooks and the banner on every page.
INSTRUCTOR_PAGES = [*NOTEBOOK_PAGES, "book/intro.html"]


def test_the_audit_covers_every_page(student_site, instructor_site):
    assert site_pages(student_site) == PAGES
    assert site_pages(instructor_site) == PAGES


def _violations(violations) -> str:
    return f"{len(violations)} WCAG 2.1 AA violations ({', '.join(WCAG_21_AA)}):\n" + "\n".join(
        map(str, violations)
    )


@pytest.mark.parametrize("page_name", PAGES)
def test_student_page_meets_wcag_21_aa(student_site, visit, page_name):
    violations = visit(student_site, page_name).violations
    assert not violations, _violations(violations)


@pytest.mark.parametrize("page_name", INSTRUCTOR_PAGES)
def test_instructor_page_meets_wcag_21_aa(instructor_site, visit, page_name):
    violations = visit(instructor_site, page_name).violations
    assert not violations, _violations(violations)


def undescribed(images: list[dict]) -> list[dict]:
    """The images whose alt text is missing, too short, a file name or a hash."""
    return [
        image
        for image in images
        if image["alt"] is None
        or len(image["alt"].split()) < MIN_ALT_WORDS
        or FILE_NAME.search(image["alt"])
        or HASH.search(image["alt"])
    ]


def test_the_alt_text_check_catches_what_sphinx_writes_by_default():
    sphinx_default = {"alt": "../_images/ec1acc1d73ff8a3b9d2e1f0c4b5a6978.png", "src": ""}
    described = {"alt": "EM from a poor start: by iteration 20 each ellipse sits on one cluster"}
    with_a_formula = {"alt": "ln p(X | θ_t) / n over 80 iterations: it rises, then stays flat"}
    a_path = {"alt": "the figure saved at build/html/figure of the fitted mixture model here"}
    assert undescribed(
        [sphinx_default, {"alt": ""}, {"alt": None}, described, with_a_formula, a_path]
    ) == [
        sphinx_default,
        {"alt": ""},
        {"alt": None},
        a_path,
    ]


@pytest.mark.parametrize("page_name", NOTEBOOK_PAGES)
def test_every_figure_on_a_notebook_page_is_described(student_site, visit, page_name):
    images = visit(student_site, page_name).images
    assert images, f"{page_name}: no figure found"
    missing = undescribed(images)
    assert not missing, f"{page_name}: images without a real alt text: {missing}"


@pytest.fixture(scope="module")
def em_page(student_site, browser):
    """Notebook 03, with the EM animation and the EM iteration explorer."""
    page, errors = open_page(browser, (student_site / "notebooks" / "03_gmm_em.html").as_uri())
    assert not errors, errors
    yield page
    page.close()


FRAME = "() => [document.querySelector('.animation img').src, document.querySelector('.animation input[type=range]').value]"
FOCUS_RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return { tag: el.tagName, visible: el.matches(':focus-visible'),
           style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
}"""


def _assert_focus_ring(page, what):
    ring = page.evaluate(FOCUS_RING)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, (what, ring)


def test_the_em_animation_waits_for_the_reader(em_page):
    before = em_page.evaluate(FRAME)
    em_page.wait_for_timeout(2_000)  # more than three frames at the animation's 600 ms
    assert em_page.evaluate(FRAME) == before, "the animation played by itself"
    assert before[1] == "0"


def test_the_em_animation_works_from_the_keyboard(em_page):
    controls = em_page.evaluate(
        "() => [...document.querySelectorAll('.animation button, .animation input')]"
        ".map((c) => ({ name: c.getAttribute('aria-label') || (c.labels[0] || {}).textContent,"
        " tabIndex: c.tabIndex }))"
    )
    assert len(controls) == 13  # 9 buttons, the frame slider, 3 repetition modes
    assert all(c["name"] and c["tabIndex"] >= 0 for c in controls), controls
    start = em_page.evaluate(FRAME)
    em_page.focus(".animation button[aria-label='Next frame']")
    em_page.keyboard.press("Enter")
    after_button = em_page.evaluate(FRAME)
    assert after_button[1] == "1" and after_button[0] != start[0], "Next frame did nothing"
    em_page.keyboard.press("Tab")  # on to "Last frame", by keyboard
    _assert_focus_ring(em_page, "animation button")
    em_page.focus(".animation input[type=range]")
    em_page.keyboard.press("ArrowRight")
    assert em_page.evaluate(FRAME)[1] == "2", "the frame slider does not follow the arrow keys"
    _assert_focus_ring(em_page, "animation frame slider")


def test_the_widget_sliders_are_named_and_work_from_the_keyboard(em_page):
    handle = ".widget-subarea [role=slider]"
    name = em_page.get_attribute(handle, "aria-label")
    label = em_page.evaluate(
        "() => document.querySelector('.widget-subarea .widget-slider .widget-label')"
        ".textContent.trim()"
    )
    assert name == label == "iteration t"
    before = em_page.get_attribute(handle, "aria-valuenow")
    em_page.focus(handle)
    em_page.keyboard.press("ArrowRight")
    assert float(em_page.get_attribute(handle, "aria-valuenow")) == float(before) + 1
    _assert_focus_ring(em_page, "widget slider")


def test_equations_carry_assistive_mathml(student_site, visit):
    counts = visit(student_site, "notebooks/02_elbo_kl.html").math
    assert counts["equations"] > 50, counts
    assert counts["mathml"] == counts["hidden"] == counts["equations"], counts
