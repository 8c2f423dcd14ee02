"""Build the course website, student or instructor edition, from one source.

The source notebooks in ``notebooks/`` hold the lesson and the solutions. A website is never
built from them in place: this script stages a copy of ``_config.yml``, ``_toc.yml``,
``book/`` and the notebooks of the chosen edition in ``OUT/src`` and runs Jupyter Book 1.x
(Sphinx, ``-W --keep-going``: every warning fails the build) on that copy.

- **student** (the default, public one): the notebooks are the student edition made by
  ``emlib.student_edition`` (solution code replaced by stubs, ``solution`` cells removed), so no
  page, search index or downloadable ``.ipynb`` holds a solution.
- **instructor**: the source notebooks, with every solution in a collapsed dropdown: code cells
  with solution markers get the ``hide-input`` tag (prompt "Show solution"), markdown cells
  tagged ``solution`` are wrapped in a ``{dropdown}``. The notebooks themselves are not edited.

Both editions execute the notebooks through jupyter-cache, in a cache of their own per edition
and per version of the emlib sources (``OUT/../.jupyter_cache/<edition>-<digest>``), so a
cached output never comes from the other edition or from an older library.

Usage::

    python book/build_book.py --edition student            # -> _build/student/html/index.html
    python book/build_book.py --edition instructor         # -> _build/instructor/html/index.html
    python book/build_book.py --edition student --out DIR --cache DIR
"""

from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
EDITIONS = ("student", "instructor")

SOLUTION_TAG = "solution"
# nbval's comments steer the notebook tests; on a web page they are noise.
NBVAL_COMMENT = re.compile(r"^[ \t]*#\s*NBVAL_[A-Z_]+[ \t]*\n?", re.M)

# What the staged copy needs besides the notebooks; the vendored JS is referenced in place.
BOOK_IGNORE = shutil.ignore_patterns(
    "_vendor", "node_modules", "__pycache__", "*.pyc", "package*.json", "*.py"
)


def emlib_digest() -> str:
    """A short digest of the emlib sources: the key that ties cached outputs to the library."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "emlib").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document of the table of contents, in order, as paths without suffix."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in toc.items() if key != "root"})
    return files


def student_notebook(nb, name: str = "<notebook>"):
    """The student edition of a source notebook, made by the course's own tool.

    ``emlib.student_edition.make_student_notebook``: solution code becomes a stub, markdown
    cells tagged ``solution`` are removed, exercise outputs are cleared.
    """
    from emlib.student_edition import make_student_notebook

    return make_student_notebook(nb, name=name)


def solution_cells(nb, name: str = "<notebook>") -> list[int]:
    """Indices of the cells of a source notebook that hold solutions.

    These are the markdown cells tagged ``solution`` and the code cells whose source the
    student edition changes (the solution markers are read by one tool only,
    :func:`student_notebook`). The student edition keeps every code cell, in order.
    """
    student_code = [c.source for c in student_notebook(nb, name).cells if c.cell_type == "code"]
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    found = [
        i for i, source in zip(code, student_code, strict=True) if nb.cells[i].source != source
    ]
    found += [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and SOLUTION_TAG in c.metadata.get("tags", [])
    ]
    return sorted(found)


def _add_tag(cell, tag: str) -> None:
    tags = list(cell.metadata.get("tags", []))
    if tag not in tags:
        tags.append(tag)
    cell.metadata["tags"] = tags


def instructor_notebook(nb, name: str = "<notebook>"):
    """The instructor edition of a source notebook: each solution in a collapsed dropdown.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A source notebook (left unchanged).
    name : str
        The notebook's name in error messages.

    Returns
    -------
    nbformat.NotebookNode
        A copy in which the solution code cells (see :func:`solution_cells`) carry the
        ``hide-input`` tag with the prompts "Show solution" / "Hide solution", and each markdown
        cell tagged ``solution`` is wrapped in a MyST ``{dropdown}`` titled "Solution".
    """
    solutions = solution_cells(nb, name)
    nb = copy.deepcopy(nb)
    for index in solutions:
        cell = nb.cells[index]
        if cell.cell_type == "code":
            _add_tag(cell, "hide-input")
            cell.metadata["mystnb"] = {
                **cell.metadata.get("mystnb", {}),
                "code_prompt_show": "Show solution",
                "code_prompt_hide": "Hide solution",
            }
        else:
            # A fence longer than any colon fence inside keeps the answer's own directives.
            runs = [len(m) for m in re.findall(r"^\s*(:{3,})", cell.source, flags=re.M)]
            fence = ":" * max(4, max(runs, default=0) + 1)
            cell.source = (
                f"{fence}{{dropdown}} Solution\n:class-container: emlib-solution\n\n"
                f"{cell.source.strip()}\n{fence}\n"
            )
    return nb


def strip_nbval_comments(nb):
    """Remove nbval's ``# NBVAL_...`` comment lines from the code cells (in place)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = NBVAL_COMMENT.sub("", cell.source)
    return nb


def separate_display_math(nb):
    """Start every display equation of a markdown cell on a block of its own (in place).

    JupyterLab hands ``$$ ... $$`` to MathJax wherever it sits. MyST reads a ``$$`` that
    continues a paragraph as inline math of that paragraph, and a line of the equation that
    starts with ``+`` or ``-`` then opens a bullet list and breaks it. A blank line before the
    opening ``$$`` makes the website read the equation as JupyterLab shows it.
    """
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "$$" not in cell.source:
            continue
        lines, inside_math, inside_code = [], False, False
        for line in cell.source.split("\n"):
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")):
                inside_code = not inside_code
            if not inside_code and stripped.startswith("$$"):
                if not inside_math and lines and lines[-1].strip():
                    lines.append("")
                inside_math ^= stripped.count("$$") % 2 == 1
            elif not inside_code and "$$" in stripped:
                inside_math ^= stripped.count("$$") % 2 == 1
            lines.append(line)
        cell.source = "\n".join(lines)
    return nb


def stage_notebooks(edition: str, source: Path, destination: Path) -> list[Path]:
    """Write the notebooks of ``edition`` made from ``source/*.ipynb`` into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        make = student_notebook if edition == "student" else instructor_notebook
        nb = make(nb, path.name)
        nb = separate_display_math(strip_nbval_comments(nb))
        nbformat.validate(nb)
        target = destination / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


EXERCISE_LIST_MARKER = "<!-- emlib-exercise-list -->"
KIND_TEXT = {
    "function": "implement `{signature}`",
    "value": "compute `{name}`",
    "choice": "choose the true statements (`{name}`)",
    "expression": "state the result of a derivation as a formula (`{name}`)",
    "derivation": "a derivation, marked by hand",
}


def notebook_title(path: Path) -> str:
    """The first markdown heading of a notebook, without its ``#`` marks."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+?)\s*$", cell.source, flags=re.M)
            if match:
                return match.group(1)
    return path.stem


def checked_ids(path: Path) -> list[str]:
    """Exercise ids in the order of the notebook's ``check("<id>", ...)`` cells."""
    from emlib.grading.protocol import CHECK_CALL

    ids = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            ids += [i for i in CHECK_CALL.findall(cell.source) if i not in ids]
    return ids


def exercise_list(notebooks: Path) -> str:
    """The MyST list of every exercise of the course, one numbered ``{exercise}`` each.

    Generated from ``emlib.exercises.all_exercises()`` (the declarations the notebooks and the
    grader use), grouped by notebook in the order of the notebook's ``check`` cells, with id,
    points, what the student provides, the equation and a link to the notebook. No answer
    appears: the declarations' solutions are not read.
    """
    from emlib.exercises import all_exercises

    by_notebook: dict[str, list] = {}
    for exercise in all_exercises():
        by_notebook.setdefault(exercise.notebook, []).append(exercise)
    lines = []
    for number, exercises in by_notebook.items():
        paths = sorted(notebooks.glob(f"{number}_*.ipynb"))
        if not paths:
            raise FileNotFoundError(
                f"exercise {exercises[0].id!r} belongs to notebook {number}, but {notebooks} "
                f"has no {number}_*.ipynb. Fix: add the notebook or move the exercise."
            )
        order = checked_ids(paths[0])
        exercises.sort(key=lambda e: order.index(e.id) if e.id in order else len(order))
        lines += [f"## {notebook_title(paths[0])}", ""]
        for k, exercise in enumerate(exercises, start=1):
            points = f"{exercise.points:g} point{'s' if exercise.points != 1 else ''}"
            what = KIND_TEXT[exercise.kind].format(signature=exercise.signature, name=exercise.name)
            where = f"exercise {k} of {{doc}}`../notebooks/{paths[0].stem}`"
            facts = [f"`{exercise.id}`", points, what]
            if exercise.equation:
                facts.append(f"eq. ({exercise.equation})")
            label = re.sub(r"[^a-z0-9]+", "-", exercise.id.lower())
            lines += [
                f"````{{exercise}} {exercise.title}",
                f":label: ex-{label}",
                "",
                " · ".join(facts) + f" · {where}",
            ]
            if exercise.choices:
                lines.append("")
                lines += [f"- ({key}) {text}" for key, text in exercise.choices.items()]
            lines += ["````", ""]
    return "\n".join(lines)


def repository_url() -> str:
    """The https address of ``origin`` when it is a hosted repository, else ``""``.

    Only ``https://host/owner/repo`` (or the ``git@host:owner/repo`` form) makes repository and
    launch buttons: a clone of a local path (as CI makes) has an ``origin`` that is no web page,
    and the theme cannot build buttons from it.
    """
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return hosted_repository(url)


def hosted_repository(remote: str) -> str:
    """``https://host/owner/repo`` for a git remote on a hosting site, ``""`` for anything else."""
    url = re.sub(r"^git@([^:]+):", r"https://\1/", remote.strip())
    url = url[:-4] if url.endswith(".git") else url
    return url if re.fullmatch(r"https://[^/\s]+/[^/\s]+/[^/\s]+", url) else ""


def copyright_year() -> str:
    """The year of the latest commit, the date of the sources; the build's year outside git."""
    try:
        year = subprocess.run(
            ["git", "log", "-1", "--format=%cd", "--date=format:%Y"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        year = ""
    return year if re.fullmatch(r"\d{4}", year) else str(datetime.date.today().year)


def staged_config(
    edition: str, cache: Path, jupyterhub_url: str = "", execute: bool = True
) -> dict:
    """``_config.yml`` with the edition, the cache, the vendor folder and the links filled in."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["cache"] = str(cache)
    config["copyright"] = copyright_year()
    if not execute:
        config["execute"]["execute_notebooks"] = "off"
    sphinx_config = config["sphinx"]["config"]
    sphinx_config["emlib_edition"] = edition
    sphinx_config["emlib_vendor_dir"] = str(BOOK / "_vendor")
    # sphinx-exercise's own {solution} directives follow the edition too.
    sphinx_config["hide_solutions"] = edition == "student"
    if edition == "instructor":
        config["title"] = f"{config['title']} (instructor edition)"
        config["html"]["announcement"] = (
            "Instructor edition: solutions are in the collapsed dropdowns. "
            "Publish the student edition (make book), not this one."
        )
    url = repository_url()
    config["repository"]["url"] = url
    config["html"]["use_repository_button"] = bool(url)
    config["html"]["use_issues_button"] = bool(url)
    if not url:  # launch buttons build their links from the repository's address
        config["launch_buttons"].update(binderhub_url="", colab_url="")
    config["launch_buttons"]["jupyterhub_url"] = jupyterhub_url if url else ""
    return config


def stage(
    edition: str,
    src: Path,
    cache: Path,
    notebooks: Path,
    jupyterhub_url: str = "",
    execute: bool = True,
) -> None:
    """Write the staged copy of the book for ``edition`` into ``src`` (replacing it)."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    config = staged_config(edition, cache, jupyterhub_url, execute)
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy2(ROOT / "_toc.yml", src / "_toc.yml")
    shutil.copytree(BOOK, src / "book", ignore=BOOK_IGNORE)
    shutil.copytree(BOOK / "_ext", src / "book" / "_ext", dirs_exist_ok=True)
    stage_notebooks(edition, notebooks, src / "notebooks")
    missing = [name for name in toc_files(src / "_toc.yml") if not _document(src, name)]
    if missing:
        raise FileNotFoundError(
            f"the table of contents (_toc.yml) lists {', '.join(missing)}, but the staged "
            f"{edition} edition in {src} has no such page; expected a .md or .ipynb for each "
            "entry. Fix: add the page, or remove its entry from _toc.yml."
        )
    page = src / "book" / "exercises.md"
    page.write_text(
        page.read_text().replace(EXERCISE_LIST_MARKER, exercise_list(src / "notebooks"))
    )


def _document(src: Path, name: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        if (src / f"{name}{suffix}").is_file():
            return src / f"{name}{suffix}"
    return None


def default_cache(edition: str, out: Path) -> Path:
    """``OUT/../.jupyter_cache/<edition>-<emlib digest>``; stale caches of the edition go."""
    base = out.parent / ".jupyter_cache"
    for old in base.glob(f"{edition}-*"):
        if old.name != f"{edition}-{emlib_digest()}":
            shutil.rmtree(old, ignore_errors=True)
    return base / f"{edition}-{emlib_digest()}"


def build(
    edition: str,
    out: Path,
    *,
    cache: Path | None = None,
    notebooks: Path = ROOT / "notebooks",
    jupyterhub_url: str = "",
    execute: bool = True,
    quiet: bool = False,
) -> Path:
    """Stage and build one edition of the website.

    Parameters
    ----------
    edition : {"student", "instructor"}
    out : pathlib.Path
        Build folder: ``OUT/src`` (staged sources), ``OUT/html`` (the site),
        ``OUT/.doctrees`` and ``OUT/jupyter_execute``; the first three are replaced.
    cache : pathlib.Path, optional
        jupyter-cache folder; default ``OUT/../.jupyter_cache/<edition>-<emlib digest>``.
    notebooks : pathlib.Path
        Folder of the source notebooks.
    jupyterhub_url : str
        Address of a JupyterHub for the launch button ("" leaves the button out).
    execute : bool
        Execute the notebooks (through the cache). ``False`` renders the outputs stored in the
        notebooks instead: a quick preview, not a release build.
    quiet : bool
        Print only warnings and errors.

    Returns
    -------
    pathlib.Path
        The site's ``index.html``.

    Raises
    ------
    RuntimeError
        If Sphinx reports any warning or error (the build runs with ``-W --keep-going``).
    """
    if edition not in EDITIONS:
        raise ValueError(
            f"edition must be one of {EDITIONS}, got {edition!r}. Fix: pass --edition student "
            "or --edition instructor."
        )
    from jupyter_book.sphinx import build_sphinx

    out = Path(out).resolve()
    cache = Path(cache).resolve() if cache else default_cache(edition, out)
    src, html = out / "src", out / "html"
    for stale in (html, out / ".doctrees"):
        if stale.exists():
            shutil.rmtree(stale)
    stage(edition, src, cache, Path(notebooks), jupyterhub_url, execute)
    result = build_sphinx(
        src,
        html,
        noconfig=True,
        path_config=str(src / "_config.yml"),
        confoverrides={
            "external_toc_path": (src / "_toc.yml").as_posix(),
            "latex_individualpages": False,
        },
        warningiserror=True,
        keep_going=True,
        freshenv=True,
        quiet=quiet,
    )
    if result != 0:
        raise RuntimeError(
            f"the {edition} edition did not build cleanly (Sphinx returned {result!r}); the "
            "warnings above say where. Every warning fails the build (-W)."
        )
    return html / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", choices=EDITIONS, default="student")
    parser.add_argument("--out", type=Path, help="build folder (default _build/<edition>)")
    parser.add_argument("--cache", type=Path, help="jupyter-cache folder")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--jupyterhub-url", default="")
    parser.add_argument(
        "--no-execute",
        dest="execute",
        action="store_false",
        help="render the outputs stored in the notebooks instead of executing them (a preview)",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "_build" / args.edition
    start = time.perf_counter()
    try:
        index = build(
            args.edition,
            out,
            cache=args.cache,
            notebooks=args.notebooks,
            jupyterhub_url=args.jupyterhub_url,
            execute=args.execute,
            quiet=args.quiet,
        )
    except (RuntimeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\n{args.edition} edition built in {time.perf_counter() - start:.0f} s. Open:")
    print(f"  {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
