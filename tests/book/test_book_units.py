"""The website's build pieces on small inputs (no site is built here)."""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace

import nbformat
import pytest
from _book_helpers import ROOT, build_book, emlib_book
from docutils import nodes
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sphinx.errors import ConfigError

from emlib.exercises import all_exercises


def value_exercise():
    return next(e for e in all_exercises() if e.kind == "value")


@pytest.fixture
def source_notebook():
    exercise = value_exercise()
    nb = new_notebook(
        cells=[
            new_markdown_cell("# A notebook\n\nSome lesson text."),
            new_code_cell("x = 1 + 1\nprint(x)"),
            new_code_cell(f"{exercise.name} = 12345.678  # SOLUTION"),
            new_code_cell(f'check("{exercise.id}", {exercise.name})'),
            new_markdown_cell(
                "The derivation, with a directive of its own:\n\n:::{note}\ninner\n:::"
            ),
        ]
    )
    nb.cells[4].metadata["tags"] = ["solution"]
    return nb


def test_solution_cells_are_those_the_student_edition_changes(source_notebook):
    assert build_book.solution_cells(source_notebook) == [2, 4]


def test_instructor_notebook_puts_solutions_in_collapsed_dropdowns(source_notebook):
    before = copy.deepcopy(source_notebook)
    nb = build_book.instructor_notebook(source_notebook)
    assert source_notebook == before, "the source notebook must not change"
    code = nb.cells[2]
    assert "hide-input" in code.metadata["tags"]
    assert code.metadata["mystnb"]["code_prompt_show"] == "Show solution"
    assert code.source == before.cells[2].source
    answer = nb.cells[4]
    assert answer.source.startswith("::::{dropdown} Solution\n:class-container: emlib-solution")
    assert answer.source.rstrip().endswith("\n::::")
    assert ":::{note}\ninner\n:::" in answer.source
    for index in (0, 1, 3):
        assert nb.cells[index] == before.cells[index]


def test_student_notebook_drops_the_solutions(source_notebook):
    nb = build_book.student_notebook(source_notebook)
    text = "\n".join(cell.source for cell in nb.cells)
    assert "12345.678" not in text
    assert "The derivation" not in text
    assert len(nb.cells) == 4


def test_nbval_comments_leave_the_web_page(source_notebook):
    source_notebook.cells[1].source = "# NBVAL_CHECK_OUTPUT\nx = 1 + 1\nprint(x)"
    nb = build_book.strip_nbval_comments(source_notebook)
    assert nb.cells[1].source == "x = 1 + 1\nprint(x)"


def test_staged_config_sets_the_edition(tmp_path):
    student = build_book.staged_config("student", tmp_path / "cache")
    assert student["sphinx"]["config"]["emlib_edition"] == "student"
    assert student["sphinx"]["config"]["hide_solutions"] is True
    assert student["execute"]["cache"] == str(tmp_path / "cache")
    assert student["execute"]["execute_notebooks"] == "cache"
    instructor = build_book.staged_config("instructor", tmp_path / "cache", execute=False)
    assert instructor["sphinx"]["config"]["hide_solutions"] is False
    assert "Instructor edition" in instructor["html"]["announcement"]
    assert instructor["execute"]["execute_notebooks"] == "off"


def test_staged_config_leaves_out_launch_buttons_without_a_remote(tmp_path, monkeypatch):
    monkeypatch.setattr(build_book, "repository_url", lambda: "")
    config = build_book.staged_config("student", tmp_path, jupyterhub_url="https://hub.test")
    assert config["launch_buttons"]["binderhub_url"] == ""
    assert config["launch_buttons"]["jupyterhub_url"] == ""
    assert config["html"]["use_repository_button"] is False
    monkeypatch.setattr(build_book, "repository_url", lambda: "https://git.test/course/emlib")
    config = build_book.staged_config("student", tmp_path, jupyterhub_url="https://hub.test")
    assert config["repository"]["url"] == "https://git.test/course/emlib"
    assert config["launch_buttons"]["jupyterhub_url"] == "https://hub.test"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/course/emlib.git", "https://github.com/course/emlib"),
        ("git@github.com:course/emlib.git", "https://github.com/course/emlib"),
        ("/work/main", ""),  # a clone of a local folder, as CI makes: no buttons
        ("file:///srv/git/emlib", ""),
        ("https://git.test/emlib", ""),
    ],
)
def test_only_hosted_remotes_make_repository_buttons(remote, url):
    assert build_book.hosted_repository(remote) == url


def test_build_rejects_an_unknown_edition(tmp_path):
    with pytest.raises(
        ValueError,
        match=re.escape("edition must be one of ('student', 'instructor'), got 'teacher'"),
    ):
        build_book.build("teacher", tmp_path)


def test_stage_names_a_missing_toc_page(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb"))[:2]:
        (notebooks / path.name).write_bytes(path.read_bytes())
    missing = build_book.toc_files()[-1]  # a page of book/ is staged, so put it out of reach
    with pytest.raises(FileNotFoundError, match="notebooks/06_practical") as error:
        build_book.stage("student", tmp_path / "src", tmp_path / "cache", notebooks)
    assert "the table of contents (_toc.yml) lists" in str(error.value)
    assert "Fix: add the page, or remove its entry from _toc.yml." in str(error.value)
    assert missing not in str(error.value)


def test_exercise_list_names_a_missing_notebook(tmp_path):
    exercise = all_exercises()[0]
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(f"exercise {exercise.id!r} belongs to notebook {exercise.notebook}"),
    ):
        build_book.exercise_list(tmp_path)


def test_exercise_list_follows_the_check_cells(tmp_path):
    by_notebook = {}
    for exercise in all_exercises():
        by_notebook.setdefault(exercise.notebook, []).append(exercise)
    for number, exercises in by_notebook.items():
        checks = [new_code_cell(f'check("{e.id}", {e.name})') for e in reversed(exercises)]
        nb = new_notebook(cells=[new_markdown_cell(f"# Notebook {number}"), *checks])
        nbformat.write(nb, tmp_path / f"{number}_test.ipynb")
    page = build_book.exercise_list(tmp_path)
    for exercises in by_notebook.values():
        positions = [page.index(f"`{e.id}`") for e in exercises]
        assert positions == sorted(positions, reverse=True)
        assert f"exercise 1 of {{doc}}`../notebooks/{exercises[-1].notebook}_test`" in page
    assert page.count("````{exercise}") == len(all_exercises())


def test_edition_guard_refuses_a_build_of_the_sources():
    app = SimpleNamespace(config=SimpleNamespace(emlib_edition=""))
    with pytest.raises(
        ConfigError, match=re.escape("run `make book` (student edition) or `make book-instructor`")
    ):
        emlib_book.check_edition(app)
    emlib_book.check_edition(SimpleNamespace(config=SimpleNamespace(emlib_edition="student")))


def raw_html(text):
    document = nodes.document(None, None)
    document += nodes.raw(text, text, format="html")
    return document


def test_matplotlib_animation_loses_its_cdn_link(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 2), dpi=30)
    html = FuncAnimation(fig, lambda t: ax.set_title(str(t)), frames=2).to_jshtml()
    plt.close(fig)
    assert "maxcdn.bootstrapcdn.com" in html  # what matplotlib writes
    warnings = []
    monkeypatch.setattr(
        emlib_book, "LOGGER", SimpleNamespace(warning=lambda *a, **k: warnings.append(a))
    )
    document = raw_html(html)
    emlib_book.make_outputs_offline(None, document)
    offline = document.children[0].astext()
    assert "maxcdn" not in offline and "fa-play" in offline
    assert not warnings


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example.org/lib.js"></script>',
        '<link rel="stylesheet" href="//fonts.example.org/css">',
        "<style>@import 'https://fonts.example.org/css';</style>",
        '<div style="background: url(https://img.example.org/a.png)"></div>',
    ],
)
def test_other_remote_resources_in_outputs_are_reported(monkeypatch, html):
    warnings = []
    monkeypatch.setattr(
        emlib_book, "LOGGER", SimpleNamespace(warning=lambda *a, **k: warnings.append(a))
    )
    emlib_book.make_outputs_offline(None, raw_html(html))
    assert len(warnings) == 1 and "remote resource" in warnings[0][0]


def test_a_link_to_another_site_is_not_a_resource(monkeypatch):
    warnings = []
    monkeypatch.setattr(
        emlib_book, "LOGGER", SimpleNamespace(warning=lambda *a, **k: warnings.append(a))
    )
    emlib_book.make_outputs_offline(None, raw_html('<a href="https://scikit-learn.org">docs</a>'))
    assert not warnings


def math_block(text, **attributes):
    document = nodes.document(None, None)
    node = nodes.math_block(text, text, nowrap=False, **attributes)
    document += node
    return document, node


def test_tagged_equation_with_line_breaks_escapes_the_split_wrapper():
    text = r"r = \begin{cases} 1 \\ 0 \end{cases} \tag{4.2}"
    document, node = math_block(text)
    emlib_book.keep_tags_out_of_split(None, document)
    assert node["nowrap"] is True
    assert node.astext() == rf"\[{text}\]"


@pytest.mark.parametrize(
    ("text", "attributes"),
    [
        (r"a = b \tag{1.1}", {}),  # no line break: Sphinx does not wrap it
        (r"a \\ b", {}),  # no tag: the split wrapper is harmless
        (r"a \\ b \tag{1.1}", {"label": "eq-a"}),  # Sphinx numbers labelled equations
    ],
)
def test_other_equations_keep_sphinx_wrapping(text, attributes):
    document, node = math_block(text, **attributes)
    emlib_book.keep_tags_out_of_split(None, document)
    assert node["nowrap"] is False and node.astext() == text


def test_vendored_javascript_is_current():
    import vendor

    assert vendor.is_current(), "book/_vendor is stale or missing: run `make book` once"
    for name in emlib_book.VENDOR_ENTRY_POINTS:
        assert (vendor.VENDOR / name).is_file()
    assert vendor.AXE.is_file(), "axe-core, which the accessibility audit injects, is not vendored"
    assert set(vendor.TEST_ONLY) == set(emlib_book.VENDOR_TEST_ONLY)


def test_the_site_gets_the_vendored_javascript_but_not_the_test_tools(tmp_path):
    import vendor

    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        config=SimpleNamespace(emlib_vendor_dir=str(vendor.VENDOR)),
        outdir=str(tmp_path),
        confdir=str(ROOT),
    )
    emlib_book.copy_vendor(app)
    for name in emlib_book.VENDOR_ENTRY_POINTS:
        assert (tmp_path / "_vendor" / name).is_file()
    assert (vendor.VENDOR / "axe").is_dir()
    assert not (tmp_path / "_vendor" / "axe").exists(), "axe-core is for the tests, not the site"


def test_display_math_after_text_starts_a_block_of_its_own():
    source = "is (2.6):\n$$\nQ = a\n- b\n$$\nwhere x.\n\nInline $$a$$ here.\n```\n$$\n```"
    nb = new_notebook(cells=[new_markdown_cell(source)])
    text = build_book.separate_display_math(nb).cells[0].source
    assert text == source.replace("is (2.6):\n$$", "is (2.6):\n\n$$")


def animation_html():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 2), dpi=30)
    html = FuncAnimation(fig, lambda t: ax.set_title(str(t)), frames=2).to_jshtml()
    plt.close(fig)
    return html


def code_cell(alt, *outputs):
    """A MyST-NB code cell container holding ``outputs`` (nodes) and ``alt`` in its metadata."""
    metadata = {"mystnb": {"image": {"alt": alt}}} if alt else {}
    cell = nodes.container(nb_element="cell_code", cell_index=4, cell_metadata=metadata)
    for mime_type, node in outputs:
        cell += nodes.container("", node, mime_type=mime_type)
    document = nodes.document(None, None)
    document += cell
    return document


def collect_warnings(monkeypatch):
    warnings = []
    monkeypatch.setattr(
        emlib_book, "LOGGER", SimpleNamespace(warning=lambda *a, **k: warnings.append(a))
    )
    return warnings


def test_an_animation_gets_its_cells_description_and_a_named_slider(monkeypatch):
    warnings = collect_warnings(monkeypatch)
    html = animation_html()
    alt = 'EM at iterations 0-20: the "ellipses" move onto the clusters'
    document = code_cell(alt, ("text/html", nodes.raw(html, html, format="html")))
    emlib_book.describe_figures(None, document)
    described = next(document.findall(nodes.raw)).astext()
    image = re.search(r'<img id="_anim_img\w+"[^>]*>', described).group(0)
    assert 'alt="EM at iterations 0-20: the &quot;ellipses&quot; move onto the clusters"' in image
    slider = re.search(r'<input id="_anim_slider\w+"[^>]*>', described).group(0)
    assert 'aria-label="Animation frame"' in slider
    assert not warnings


def test_a_saved_widget_gets_its_cells_description():
    html = '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "abc"}</script>'
    view = ("application/vnd.jupyter.widget-view+json", nodes.raw(html, html, format="html"))
    document = code_cell("The explorer at t = 3 & its curve", view)
    emlib_book.describe_figures(None, document)
    described = next(document.findall(nodes.raw)).astext()
    assert described.startswith(
        '<script type="application/vnd.jupyter.widget-view+json" '
        'data-emlib-alt="The explorer at t = 3 &amp; its curve">'
    )


@pytest.mark.parametrize("kind", ["image", "animation", "widget"])
def test_an_undescribed_figure_fails_the_build(monkeypatch, kind):
    warnings = collect_warnings(monkeypatch)
    widget = '<script type="application/vnd.jupyter.widget-view+json">{}</script>'
    output = {
        "image": ("image/png", nodes.image(uri="ec1acc1d73ff8.png")),
        "animation": ("text/html", nodes.raw("", animation_html(), format="html")),
        "widget": ("text/html", nodes.raw("", widget, format="html")),
    }[kind]
    emlib_book.describe_figures(None, code_cell("", output))
    assert len(warnings) == 1 and "mystnb: image: alt" in warnings[0][0]
    # Text outputs are no figures, and a described image passes.
    warnings.clear()
    text = nodes.raw("", "<table><tr><td>1</td></tr></table>", format="html")
    emlib_book.describe_figures(None, code_cell("", ("text/html", text)))
    image = nodes.image(uri="a.png", alt="a described figure")
    emlib_book.describe_figures(None, code_cell("a described figure", ("image/png", image)))
    assert not warnings


def test_bibliography_entries_become_list_items():
    body = (
        '<div role="list" class="citation-list">\n'
        '<div class="citation" id="id5" role="doc-biblioentry">\n'
        '<span class="label">Bishop</span></div></div>'
    )
    context = {"body": body}
    emlib_book.fix_bibliography_roles(None, "book/references", "page.html", context, None)
    assert 'role="doc-biblioentry"' not in context["body"]
    assert '<div class="citation" id="id5" role="listitem">' in context["body"]


def test_the_books_templates_come_before_the_themes():
    config = SimpleNamespace(templates_path=["/theme/components"], html_static_path=["_static"])
    emlib_book.add_theme_overrides(None, config)
    assert config.templates_path[0] == str(emlib_book.TEMPLATES)
    assert str(emlib_book.STATIC) in config.html_static_path
    for name in ("theme-switcher.html", "search-button-field.html"):
        assert (emlib_book.TEMPLATES / name).is_file()
    for name in (*emlib_book.CSS_FILES, *emlib_book.JS_FILES):
        assert (emlib_book.STATIC / name).is_file()


FIGURE_OUTPUTS = {
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "application/vnd.jupyter.widget-view+json",
}
MAX_ALT_WITHOUT_CAPTION = 400


def notebook_figures():
    """(notebook, cell index, cell) of every code cell of the notebooks that shows a figure."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            mimes = {m for output in cell.get("outputs", []) for m in output.get("data", {})}
            html = "".join(
                "".join(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", [])
            )
            if mimes & FIGURE_OUTPUTS or "_anim_img" in html:
                found.append((path.stem, index, cell))
    return found


def test_every_figure_of_the_notebooks_is_described_in_its_cell():
    figures = notebook_figures()
    assert len(figures) >= 30
    problems = []
    for notebook, index, cell in figures:
        alt = emlib_book.figure_description(cell.metadata)
        caption = (cell.metadata.get("mystnb", {}).get("figure") or {}).get("caption", "")
        if len(alt.split()) < 15 or re.search(r"\.(png|jpe?g)\b|\b[0-9a-f]{12,}\b", alt):
            problems.append(f"{notebook} cell {index}: no real alt text ({alt!r})")
        elif len(alt) > MAX_ALT_WITHOUT_CAPTION and len(caption.split()) < 10:
            problems.append(f"{notebook} cell {index}: a long alt text needs a caption too")
    assert not problems, "\n".join(problems)


def test_the_copyright_year_is_that_of_the_latest_commit(monkeypatch):
    import datetime
    import subprocess

    latest = subprocess.run(
        ["git", "log", "-1", "--format=%cd", "--date=format:%Y"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert build_book.copyright_year() == latest
    staged = build_book.staged_config("student", ROOT / "_build" / "cache-unused")
    assert staged["copyright"] == latest

    def no_git(*args, **kwargs):
        raise OSError("git is not installed")

    monkeypatch.setattr(build_book.subprocess, "run", no_git)
    assert build_book.copyright_year() == str(datetime.date.today().year)
