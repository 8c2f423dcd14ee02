"""Audit a built edition of the website with axe-core in headless Chromium (WCAG 2.1 A and AA).

axe-core is vendored from npm by ``book/vendor.py`` (``book/_vendor/axe/axe.min.js``, pinned in
``book/package.json``) and injected into each page after it has settled (MathJax typeset,
widgets rendered), so the audit sees what a reader sees, with no network. The browser tests
call :func:`audit_page`; run this file to audit a whole site on demand and print the table of
violations (rule, impact, nodes, where)::

    python tests/book/axe_audit.py _build/instructor/html
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _book_helpers import CHROMIUM_ARGS, ROOT, chromium, open_page

AXE = ROOT / "book" / "_vendor" / "axe" / "axe.min.js"
# What WCAG 2.1 AA asks of a page, as axe-core tags its rules.
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# preload: false, because axe-core would fetch every stylesheet again with XMLHttpRequest (for
# css-orientation-lock, which reads the CSSOM), and a page opened from file:// may not do that.
# The rule is then left incomplete, not failed: orientation is not locked anywhere in the theme.
RUN_AXE = """([type, values]) => axe.run(document, {
  runOnly: { type: type, values: values },
  preload: false,
  resultTypes: ["violations"],
}).then((result) => result.violations.map((v) => ({
  rule: v.id,
  impact: v.impact,
  help: v.help,
  nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160) })),
})))"""


REDIRECT = re.compile(r'<meta\s+http-equiv="refresh"', re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    """One node that breaks one axe-core rule on one page."""

    page: str
    rule: str
    impact: str
    help: str
    target: str
    html: str

    def in_mode(self, mode: str) -> Violation:
        """The same violation, its page marked with the colour mode it was found in."""
        return replace(self, page=f"{self.page} ({mode} mode)")

    def __str__(self) -> str:
        return f"{self.page}: {self.rule} ({self.impact}, {self.help}) at {self.target}: {self.html}"


def site_pages(site: Path) -> list[str]:
    """Every HTML page of a built site that a reader can open, relative to the site.

    The pages of the table of contents, the search page and the general indexes. Sphinx's
    copies of the sources and the vendored files are not pages, and neither is a page that
    only redirects to another (``index.html``, which opens the first page of the book).
    """
    skip = {"_static", "_sources", "_vendor", "_images", "jupyter_execute"}
    return sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if not skip & set(path.relative_to(site).parts)
        and not REDIRECT.search(path.read_text(errors="replace")[:2000])
    )


# The theme's dark colour mode, as its own button sets it; contrast is audited in both modes.
# The reader asks for reduced motion first, so that the theme's colour transitions are off
# (book/_ext/static/emlib-a11y.css) and axe-core sees the final colours, not a transition.
DARK_MODE = """() => new Promise((done) => {
  document.documentElement.dataset.mode = "dark";
  document.documentElement.dataset.theme = "dark";
  requestAnimationFrame(() => requestAnimationFrame(done));
})"""
CONTRAST_RULES = ["color-contrast"]


def audit_page(
    browser, site: Path, page_name: str, *, dark: bool = True, before=None
) -> tuple[list[Violation], list[str], object]:
    """Open one page, let it settle, run axe-core on it.

    All the rules of :data:`WCAG_21_AA` run in the light colour mode; with ``dark`` the
    contrast rules run again in the dark mode (their pages are marked "(dark mode)").
    ``before(page)``, if given, looks at the settled page before axe-core is injected, so that
    other tests can share the page load (opening a notebook page costs seconds).
    Returns the violations, the page's console errors and what ``before`` returned.
    """
    if not AXE.is_file():
        raise AssertionError(
            f"axe-core is not vendored ({AXE} is missing); the accessibility audit injects it "
            "into each page. Fix: `make book` (runs `npm ci --prefix book` and "
            "`python book/vendor.py`)."
        )
    page, errors = open_page(browser, (site / page_name).as_uri())
    try:
        seen = before(page) if before else None
        errors = list(errors)  # the page's own, not those of the audit
        page.add_script_tag(path=str(AXE))
        runs = [("", page.evaluate(RUN_AXE, ["tag", list(WCAG_21_AA)]))]
        if dark:
            page.emulate_media(reduced_motion="reduce")
            page.evaluate(DARK_MODE)
            runs.append(("dark", page.evaluate(RUN_AXE, ["rule", CONTRAST_RULES])))
    finally:
        page.close()
    violations = []
    for mode, found in runs:
        for v in found:
            for n in v["nodes"]:
                violation = Violation(
                    page_name, v["rule"], v["impact"] or "", v["help"], n["target"], n["html"]
                )
                violations.append(violation.in_mode(mode) if mode else violation)
    return violations, errors, seen


def table(violations: list[Violation]) -> str:
    """The violations as a markdown table: rule (impact), nodes, and the pages they are on."""
    by_rule: dict[tuple[str, str], list[Violation]] = defaultdict(list)
    for violation in violations:
        by_rule[(violation.rule, violation.impact)].append(violation)
    lines = ["| rule (impact) | nodes | where (page: nodes) |", "|---|---|---|"]
    for (rule, impact), found in sorted(by_rule.items(), key=lambda item: -len(item[1])):
        pages: dict[str, int] = defaultdict(int)
        for violation in found:
            pages[violation.page] += 1
        where = ", ".join(f"{page} ({count})" for page, count in sorted(pages.items()))
        lines.append(f"| {rule} ({impact}) | {len(found)} | {where} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    site = Path(argv[0]).resolve()
    from playwright.sync_api import sync_playwright

    violations = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        for name in site_pages(site):
            found, _errors, _ = audit_page(browser, site, name)
            violations += found
            print(f"{name}: {len(found)} violating nodes", file=sys.stderr)
        browser.close()
    pages = len({v.page for v in violations})
    print(f"{len(violations)} violating nodes on {pages} of {len(site_pages(site))} pages\n")
    print(table(violations))
    for violation in violations:
        print(f"- {violation}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
