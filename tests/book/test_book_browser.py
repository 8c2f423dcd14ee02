"""The student edition in a real browser: headless system Chromium, pages opened from file://.

Screenshots of every page are written to ``_build/screenshots/`` for a person to look at. Each
page is opened once for these tests and the accessibility audit (the ``visit`` fixture).
"""

from __future__ import annotations

import pytest
from _book_helpers import SCREENSHOTS, open_page, toc_documents, toc_path


@pytest.mark.parametrize("document", toc_documents())
def test_page_renders_offline(student_site, visit, document):
    screenshot = SCREENSHOTS / f"{document.replace('/', '__')}.png"
    seen = visit(student_site, toc_path(document), screenshot)
    report, errors = seen.report, seen.errors
    assert not errors, f"{document}: {errors}"
    assert not report["untypeset"], (
        f"{document}: display math left to MathJax: {report['untypeset']}"
    )
    assert report["inline_untypeset"] == 0, f"{document}: inline math not typeset"
    assert not report["math_errors"], f"{document}: MathJax errors: {report['math_errors']}"
    assert not report["raw"], f"{document}: raw TeX in the text: {report['raw']}"
    assert not report["broken_images"], (
        f"{document}: images without size: {report['broken_images']}"
    )
    assert report["widgets_rendered"] >= (1 if report["widget_views"] else 0)


def test_a_widget_renders_from_its_saved_state(student_site, browser):
    pages = [
        doc
        for doc in toc_documents()
        if "application/vnd.jupyter.widget-state+json" in (student_site / toc_path(doc)).read_text()
    ]
    assert pages, "no page of the site has saved widget state"
    page, errors = open_page(browser, (student_site / toc_path(pages[0])).as_uri())
    widget = page.query_selector(".widget-subarea .jupyter-widgets")
    box = widget.bounding_box()
    image_width = page.evaluate(
        "() => Math.max(0, ...[...document.querySelectorAll('.widget-subarea img')]"
        ".map((i) => i.naturalWidth))"
    )
    controls = page.evaluate(
        "() => document.querySelectorAll('.widget-subarea .widget-slider, "
        ".widget-subarea .widget-dropdown, .widget-subarea .widget-button').length"
    )
    page.close()
    assert not errors, errors
    assert box and box["width"] > 100 and box["height"] > 20, box
    assert controls > 0, f"{pages[0]}: the widget shows no control"
    assert image_width > 0, f"{pages[0]}: the widget's figure did not render"


def test_search_finds_responsibilities(student_site, browser):
    url = (student_site / "search.html").as_uri() + "?q=responsibilities"
    page, errors = open_page(browser, url, SCREENSHOTS / "search.png")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results ul.search li').length > 0"
    )
    links = page.evaluate(
        "() => [...document.querySelectorAll('#search-results ul.search li a')]"
        ".map((a) => a.getAttribute('href'))"
    )
    page.close()
    assert not errors, errors
    assert any("03_gmm_em" in link for link in links), links
