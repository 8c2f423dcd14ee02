"""Fixtures of the website tests: each edition is built once per test session.

The student edition is built exactly as ``make book`` builds it (every notebook executed, with
a fresh jupyter-cache in the session's temporary folder, ``-W``). The instructor edition is
built from the outputs stored in the source notebooks (``--no-execute``): its tests look at
where the solutions sit, and the source notebooks are executed by their own nbval tests.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from _book_helpers import CHROMIUM_ARGS, IMAGES, MATH, REPORT, build_site, chromium
from axe_audit import audit_page


@pytest.fixture(scope="session")
def student_site(tmp_path_factory):
    """The student edition's ``html`` folder."""
    return build_site("student", tmp_path_factory.mktemp("student-edition"))


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory):
    """The instructor edition's ``html`` folder (stored outputs, not executed)."""
    return build_site("instructor", tmp_path_factory.mktemp("instructor-edition"), execute=False)


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium driven by playwright (which never downloads a browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield chrome
        chrome.close()


@pytest.fixture(scope="session")
def visit(browser):
    """``visit(site, page)``: open a page once per session and remember what it showed.

    Opening a notebook page (MathJax, widgets) takes seconds, so the rendering, figure and
    accessibility tests share one visit: the page settles, ``REPORT``, ``IMAGES`` and ``MATH``
    look at it (a screenshot is taken, if asked), then axe-core audits it in light and dark
    mode.
    The result has ``violations``, ``errors`` (console), ``report``, ``images`` and ``math``.
    """
    seen = {}

    def visit_page(site, page_name, screenshot=None):
        key = (str(site), page_name)
        if key not in seen:

            def look(page):
                if screenshot is not None:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
                return {
                    "report": page.evaluate(REPORT),
                    "images": page.evaluate(IMAGES),
                    "math": page.evaluate(MATH),
                }

            violations, errors, found = audit_page(browser, site, page_name, before=look)
            seen[key] = SimpleNamespace(violations=violations, errors=errors, **found)
        return seen[key]

    return visit_page
