"""Sphinx extension of the course website: the edition guard and the offline JavaScript.

- ``emlib_edition`` must be ``"student"`` or ``"instructor"``. ``book/build_book.py`` sets it
  in the staged copy of ``_config.yml``; a build of the repository root (where it is empty)
  stops, because the root holds the source notebooks with their solutions.
- Notebook outputs are HTML too: matplotlib's JS animations (``Animation.to_jshtml``) link
  Font Awesome 4 from a CDN for their buttons. That link is dropped (the theme's bundled Font
  Awesome draws the same icons), and any other remote script, stylesheet, font or image in an
  output is reported as a warning, which fails the ``-W`` build: the site must work offline.
- ``emlib_vendor_dir`` names the folder that ``book/vendor.py`` filled from npm (MathJax 3,
  RequireJS, the Jupyter widgets HTML manager). It is copied into the built site as
  ``_vendor/``, with ``emlib-widgets.js`` (which points RequireJS at the widget manager's
  folder and lets ipywidgets' labels use MathJax 3), outside ``_static/`` (every script under ``_static/`` would be loaded by every
  page); ``mathjax_path`` and ``nb_ipywidgets_js`` in ``_config.yml`` point at it.
- Accessibility (WCAG 2.1 AA, see ``book/accessibility.md``): every figure of a notebook is
  described where it is made, in its cell's metadata (``mystnb: image: alt``, and
  ``mystnb: figure: caption`` for long ones). MyST-NB puts the alt text on image outputs; this
  extension puts it on the figures MyST-NB does not see as images, matplotlib's JavaScript
  animations (the ``<img>``, and a name for the frame slider) and saved widgets (a
  ``data-emlib-alt`` attribute that ``emlib-widgets.js`` copies onto the widget's image). A
  figure without a description is a warning, so it fails the ``-W`` build. The bibliography's
  entries get the ``listitem`` role that their ``role="list"`` container requires, in place of
  docutils' deprecated ``doc-biblioentry``. ``templates/`` overrides two of the theme's header
  buttons (their accessible names must contain their visible text) and ``static/`` holds the
  site's own CSS and JavaScript (contrast, focus rings, the colour-mode button's name).
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

EDITIONS = ("student", "instructor")

# Configures RequireJS and MathJax for the widget manager (see the file's comments).
WIDGETS_SETUP = Path(__file__).with_name("emlib-widgets.js")

# The files the pages reference (see mathjax_path and nb_ipywidgets_js in _config.yml).
VENDOR_ENTRY_POINTS = (
    "mathjax/tex-mml-chtml.js",
    "requirejs/require.js",
    "widgets/embed-amd.js",
)
# The book's own templates (overriding the theme's) and its CSS and JavaScript.
TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
CSS_FILES = ("emlib-a11y.css",)
JS_FILES = ("emlib-a11y.js",)

# Vendored beside them for the browser tests only (book/vendor.py's TEST_ONLY): not published.
VENDOR_TEST_ONLY = ("axe",)


# matplotlib's animation template (matplotlib/_animation_data.py) starts with this link.
MPL_FONT_AWESOME = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https?://maxcdn\.bootstrapcdn\.com/font-awesome/'
    r'[^"]*"\s*/?>\s*'
)
# A tag that makes the browser fetch a remote resource, or a CSS url()/@import of one.
REMOTE_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
    r"\b(?:src|href|data)\s*=\s*[\"']?(?:https?:)?//[^\s\"'>]+"
    r"|url\(\s*[\"']?(?:https?:)?//[^)]+\)"
    r"|@import\s+[\"'](?:https?:)?//[^\"']+",
    re.IGNORECASE,
)


def make_outputs_offline(app: Sphinx, doctree: nodes.document) -> None:
    """Drop matplotlib's CDN link from HTML outputs and warn about any other remote resource."""
    for node in doctree.findall(nodes.raw):
        if "html" not in node.get("format", "").split():
            continue
        html = node.astext()
        offline = MPL_FONT_AWESOME.sub("", html)
        if offline != html:
            node.children = [nodes.Text(offline)]
            node.rawsource = offline
        for match in REMOTE_RESOURCE.finditer(offline):
            LOGGER.warning(
                "an HTML output loads a remote resource (%s); the website must work with no "
                "network. Fix: produce the output without it (for example embed the data), "
                "or vendor the file under book/ and reference it locally.",
                match.group(0)[:120],
                location=node,
                type="emlib",
                subtype="remote-resource",
            )


# matplotlib's animation template (Animation.to_jshtml): the frame and the frame slider.
ANIMATION_IMAGE = re.compile(r'<img id="(_anim_img\w+)"')
ANIMATION_SLIDER = re.compile(r'<input id="(_anim_slider\w+)" type="range"')
ANIMATION_SLIDER_NAME = "Animation frame"
WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json"'
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def figure_description(cell_metadata: dict) -> str:
    """The alt text of a code cell's figures: ``mystnb: image: alt`` of its metadata."""
    image = (cell_metadata.get("mystnb") or {}).get("image") or {}
    return str(image.get("alt", "")).strip()


def describe_html_figure(html: str, alt: str) -> tuple[str, bool]:
    """Put ``alt`` on the figure of an HTML output; return (html, whether it holds a figure).

    A matplotlib animation's ``<img>`` gets ``alt`` and its frame slider a name; a saved
    widget's view gets ``data-emlib-alt``, which ``emlib-widgets.js`` copies onto the image the
    widget manager draws. An output without a figure is returned unchanged.
    """
    value = html_lib.escape(alt, quote=True)
    found = False
    if ANIMATION_IMAGE.search(html):
        found = True
        html = ANIMATION_IMAGE.sub(lambda m: f'{m.group(0)} alt="{value}"', html, count=1)
        html = ANIMATION_SLIDER.sub(
            lambda m: f'{m.group(0)} aria-label="{ANIMATION_SLIDER_NAME}"', html, count=1
        )
    if WIDGET_VIEW in html:
        found = True
        html = html.replace(WIDGET_VIEW, f'{WIDGET_VIEW} data-emlib-alt="{value}"')
    return html, found


def describe_figures(app: Sphinx, doctree: nodes.document) -> None:
    """Give every figure of a notebook the alt text of its cell; warn about undescribed ones."""
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        alt = figure_description(cell.get("cell_metadata") or {})
        undescribed = []
        for node in cell.findall(nodes.raw):
            if "html" not in node.get("format", "").split():
                continue
            html, found = describe_html_figure(node.astext(), alt)
            if found and not alt:
                undescribed.append(node)
            elif found:
                node.children = [nodes.Text(html)]
                node.rawsource = html
        for node in cell.findall(nodes.image):
            if not node.get("alt") and node.parent.get("mime_type", "") in IMAGE_MIME_TYPES:
                undescribed.append(node)
        for node in undescribed[:1]:
            LOGGER.warning(
                "a figure of notebook cell %s has no description; a screen reader would read "
                "its file name. Fix: add `mystnb: image: alt: <what it shows and what to "
                "notice>` to the cell's metadata (and `mystnb: figure: caption` if it is long).",
                cell.get("cell_index", "?"),
                location=node,
                type="emlib",
                subtype="figure-alt",
            )


def fix_bibliography_roles(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Give bibliography entries the ``listitem`` role their ``role="list"`` container needs.

    docutils marks each citation ``role="doc-biblioentry"``, a role that DPUB-ARIA 1.1
    deprecated and that is not a list item, inside a ``<div role="list">``.
    """
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


TOGGLE_NAME = ' aria-label="Toggle hidden content"'


def name_toggles_by_their_text(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Let a hidden cell's toggle be named by the prompt it shows ("Show solution").

    MyST-NB labels every ``<summary>`` of a ``hide-input`` cell "Toggle hidden content", a name
    that does not contain its visible text (WCAG 2.5.3, label in name): a speech-input user who
    says "click Show solution" would reach nothing. Without the label the name is the prompt.
    """
    body = context.get("body")
    if body and TOGGLE_NAME in body:
        context["body"] = body.replace(f"<summary{TOGGLE_NAME}>", "<summary>")


def add_theme_overrides(app: Sphinx, config) -> None:
    """Let the book's templates override the theme's, and serve the book's static files."""
    config.templates_path.insert(0, str(TEMPLATES))
    config.html_static_path.append(str(STATIC))


def keep_tags_out_of_split(app: Sphinx, doctree: nodes.document) -> None:
    """Render tagged display math as MathJax reads it in JupyterLab.

    Sphinx wraps a display equation that contains ``\\\\`` (also inside ``cases``) in
    ``\\begin{split}``, where MathJax rejects ``\\tag``. The notebooks number their equations
    with ``\\tag{N.M}``, so such an equation is passed to MathJax unwrapped, in ``\\[ \\]``.
    """
    for node in doctree.findall(nodes.math_block):
        text = node.astext()
        if node.get("nowrap") or node.get("label") or "\\tag" not in text:
            continue
        if "\\\\" not in text or "\n\n" in text.strip():
            continue  # no split wrapping to avoid, or several equations that Sphinx numbers
        node.children = [nodes.Text(f"\\[{text.strip()}\\]")]
        node["nowrap"] = True


def check_edition(app: Sphinx) -> None:
    """Refuse to build a site whose edition was not chosen by ``book/build_book.py``."""
    edition = app.config.emlib_edition
    if edition not in EDITIONS:
        raise ConfigError(
            f"emlib_edition is {edition!r}; expected one of {EDITIONS}. The website is built "
            "from a staged copy that holds the right notebooks: run `make book` (student "
            "edition) or `make book-instructor`, not `jupyter-book build .`."
        )


def vendor_dir(app: Sphinx) -> Path:
    """The vendored JavaScript folder, resolved against the configuration directory."""
    path = Path(app.config.emlib_vendor_dir or "book/_vendor")
    return path if path.is_absolute() else Path(app.confdir or app.srcdir) / path


def copy_vendor(app: Sphinx) -> None:
    """Copy the vendored JavaScript into the site as ``_vendor/`` (HTML builders only)."""
    if app.builder.format != "html":
        return
    source = vendor_dir(app)
    missing = [name for name in VENDOR_ENTRY_POINTS if not (source / name).is_file()]
    if missing:
        raise ConfigError(
            f"the vendored JavaScript in {source} lacks {', '.join(missing)}; the website needs "
            "it to render math and widgets with no network. Fix: `make book` (it runs "
            "`npm ci --prefix book` and `python book/vendor.py`)."
        )
    target = Path(app.outdir) / "_vendor"
    shutil.copytree(
        source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*VENDOR_TEST_ONLY)
    )
    shutil.copy2(WIDGETS_SETUP, target / WIDGETS_SETUP.name)


def setup(app: Sphinx) -> dict:
    app.add_config_value("emlib_edition", "", "env", [str])
    app.add_config_value("emlib_vendor_dir", "", "env", [str])
    # Jupyter Book always passes sphinx_comments' setting; that extension is left out (it loads
    # its scripts from CDNs), so accept the value here instead of warning about it.
    if "comments_config" not in app.config.values:
        app.add_config_value("comments_config", {}, "html")
    app.connect("config-inited", add_theme_overrides)
    for name in CSS_FILES:
        app.add_css_file(name)
    for name in JS_FILES:
        app.add_js_file(name, defer="defer")
    app.connect("builder-inited", check_edition)
    app.connect("builder-inited", copy_vendor)
    app.connect("doctree-read", make_outputs_offline)
    app.connect("doctree-read", keep_tags_out_of_split)
    app.connect("doctree-read", describe_figures)
    app.connect("html-page-context", fix_bibliography_roles)
    app.connect("html-page-context", name_toggles_by_their_text)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
