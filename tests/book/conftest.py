"""Fixtures of the website tests: each edition is built once per test session.

The student edition is built exactly as ``make book`` builds it (every notebook executed, with
a fresh jupyter-cache in the session's temporary folder, ``-W``). The instructor edition is
built from the outputs stored in the source notebooks (``--no-execute``): its tests look at
where the solutions sit, and the source notebooks are executed by their own nbval tests.
"""

from __future__ import annotations

import pytest
from _book_helpers import CHROMIUM_ARGS, build_site, chromium


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
