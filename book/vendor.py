"""Copy the website's JavaScript from ``book/node_modules`` into ``book/_vendor``.

The course website must work in a lecture hall with no network, so it serves MathJax 3,
RequireJS and the Jupyter widgets HTML manager itself. axe-core, the accessibility checker that
the browser tests inject into every page, is vendored the same way (tests run offline too) but
is not copied into the site (``TEST_ONLY``). ``npm ci`` (run by ``make book``)
fetches the versions pinned in ``book/package-lock.json``; this script copies the files the
browser loads into ``book/_vendor/`` (generated, not committed). The folder lives outside
``_static/`` because every script under ``_static/`` would be injected into every page; the
Sphinx extension ``book/_ext/emlib_book.py`` copies it into the built site as ``_vendor/``.

Usage: ``python book/vendor.py`` (idempotent: a second run with the same lock file copies
nothing).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent
NODE_MODULES = BOOK / "node_modules"
VENDOR = BOOK / "_vendor"
LOCK = BOOK / "package-lock.json"
STAMP = VENDOR / "vendor.json"

# What the browser loads, relative to each package; the widget manager's CSS refers to its
# Font Awesome files by bare name, so they sit beside embed-amd.js.
FILES = {
    "mathjax": ("mathjax", ["es5", "LICENSE"]),
    "requirejs": ("requirejs", ["require.js"]),
    "widgets": (
        "@jupyter-widgets/html-manager",
        [
            "dist/embed-amd.js",
            "dist/*.woff2",
            "dist/*.woff",
            "dist/*.ttf",
            "dist/*.eot",
            "dist/*.svg",
            "dist/embed.js.LICENSE.txt",
        ],
    ),
    "axe": ("axe-core", ["axe.min.js", "LICENSE"]),
}

# Vendored for the tests only: the Sphinx extension leaves these folders out of the site.
TEST_ONLY = ("axe",)

# The files the website references; the Sphinx extension checks that they exist.
ENTRY_POINTS = (
    "mathjax/tex-mml-chtml.js",
    "requirejs/require.js",
    "widgets/embed-amd.js",
)
# The checker the browser tests inject (tests/book/test_book_accessibility.py).
AXE = VENDOR / "axe" / "axe.min.js"


def lock_digest() -> str:
    """SHA-256 of the lock file and of this script: the vendored files are current when it matches."""
    return hashlib.sha256(LOCK.read_bytes() + Path(__file__).read_bytes()).hexdigest()


def is_current() -> bool:
    """Whether ``book/_vendor`` holds every entry point, copied from the current lock file."""
    if not STAMP.is_file():
        return False
    stamp = json.loads(STAMP.read_text())
    return (
        stamp.get("lock_sha256") == lock_digest()
        and AXE.is_file()
        and all((VENDOR / name).is_file() for name in ENTRY_POINTS)
    )


def _package_version(package: str) -> str:
    meta = json.loads((NODE_MODULES / package / "package.json").read_text())
    return f"{meta['version']} ({meta.get('license', 'see the package')})"


def vendor() -> Path:
    """Copy the browser files from ``book/node_modules`` into a fresh ``book/_vendor``.

    Returns
    -------
    pathlib.Path
        The vendor folder.

    Raises
    ------
    FileNotFoundError
        If ``npm ci`` has not been run in ``book/`` (``node_modules`` or a package is missing).
    """
    versions = {}
    for package, _patterns in FILES.values():
        source = NODE_MODULES / package
        if not (source / "package.json").is_file():
            raise FileNotFoundError(
                f"npm package {package!r} is not installed in {NODE_MODULES}; expected the "
                f"packages pinned in {LOCK}. Fix: run `npm ci --prefix book` (or `make book`)."
            )
        versions[package] = _package_version(package)
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for target, (package, patterns) in FILES.items():
        source = NODE_MODULES / package
        for pattern in patterns:
            matches = sorted(source.glob(pattern))
            if not matches:
                raise FileNotFoundError(
                    f"{package}@{versions[package]} has no file matching {pattern!r}; "
                    f"book/vendor.py expects the layout of the version pinned in {LOCK}."
                )
            for path in matches:
                if path.is_dir():  # MathJax's es5/ folder becomes _vendor/mathjax/
                    shutil.copytree(path, VENDOR / target, dirs_exist_ok=True)
                else:
                    (VENDOR / target).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, VENDOR / target / path.name)
    STAMP.write_text(json.dumps({"lock_sha256": lock_digest(), "versions": versions}, indent=2))
    return VENDOR


def main() -> int:
    if is_current():
        print(f"{VENDOR} is current")
        return 0
    vendor()
    print(f"vendored MathJax, RequireJS, the widget manager and axe-core into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
