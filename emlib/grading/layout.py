"""Where the submissions are and whose they are: the layout rules and the ``--ids`` map.

A folder given on the command line holds either one notebook per student (``subs/alice.ipynb``:
the student is the file name without ``.ipynb``) or one folder per student
(``subs/alice/03_gmm.ipynb``: the student is the folder's name), or both. A notebook given on the
command line belongs to the student named by its file name. Nothing deeper is read: a folder
whose notebooks lie two folders down (``class/submissions/alice/03_gmm.ipynb``) is refused with
the folder to pass instead, because its sub-folders are not students.

Every student folder gets a row, even one that holds no notebook; its other files (a
``report.pdf``) are listed in that student's feedback, never graded.

``--ids map.csv`` (header ``file,id``; ``file`` a path as found, relative to the current
directory, or a bare file name) renames notebook files. A student folder's name is its id and
cannot be remapped (rename the folder). A map row that matches no notebook found is reported.

One student may hand in several files, one per course notebook. Two files of one student that
answer the same course notebook are an error naming both: nothing is merged or picked silently.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol as P
from .submission import notebook_numbers, read_notebook

SKIPPED_FOLDERS = {".ipynb_checkpoints", "__pycache__", "__MACOSX"}


class GradingError(ValueError):
    """A problem with the command's arguments (not with a student's submission)."""


@dataclass
class Submissions:
    """What was found: ``(notebook, student id)`` pairs, sorted, and every student folder."""

    notebooks: list[tuple[Path, str]]
    folders: dict[str, Path] = field(default_factory=dict)  # student -> their folder
    other_files: dict[str, list[str]] = field(default_factory=dict)  # student -> non-notebooks


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in SKIPPED_FOLDERS


def _too_deep(folder: Path, nb: Path) -> GradingError:
    rel = nb.relative_to(folder)
    holder = folder / rel.parts[0]
    return GradingError(
        f"submission folder {folder} holds {rel.as_posix()}, a notebook two folders down: its "
        f"sub-folder {rel.parts[0]} would be taken for one student and every notebook under it "
        f"merged into that id. Expected one notebook per student ({folder}/alice.ipynb) or one "
        f"folder per student ({folder}/alice/03_gmm_em.ipynb). Fix: pass the folder that holds "
        f"the student folders (e.g. {holder}), or move the notebooks up one level.")


def _scan_folder(folder: Path, found: Submissions, warn: Callable[[str], None]) -> None:
    for entry in sorted(filter(_visible, folder.iterdir())):
        if entry.is_file() and entry.suffix == ".ipynb":
            found.notebooks.append((entry, entry.stem))
        elif entry.is_dir():
            student = entry.name
            found.folders[student] = entry
            others = found.other_files.setdefault(student, [])
            for item in sorted(entry.rglob("*")):
                rel = item.relative_to(entry)
                if not all(_visible(Path(part)) for part in rel.parts) or item.is_dir():
                    continue
                if item.suffix != ".ipynb":
                    others.append(rel.as_posix())
                elif len(rel.parts) > 1:
                    raise _too_deep(folder, item)
                else:
                    found.notebooks.append((item, student))
        else:
            warn(f"{entry} is not a notebook (.ipynb) and not a student folder; it was not graded")


def find_submissions(paths, ids_csv: Path | None = None, warn=None) -> Submissions:
    """The notebooks and student folders under ``paths`` (files or folders); see the module."""
    warn = warn or (lambda message: None)
    found = Submissions([])
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            found.notebooks.append((p, p.stem))
        elif p.is_dir():
            _scan_folder(p, found, warn)
        else:
            raise GradingError(f"submission {raw} does not exist. Fix: pass .ipynb files or "
                               f"folders of them.")
    if not found.notebooks:
        raise GradingError(f"no .ipynb notebook in {', '.join(map(str, paths))}.")
    if ids_csv is not None:
        found.notebooks = _apply_ids(found, ids_csv, warn)
    found.notebooks.sort(key=lambda t: (t[1], str(t[0])))
    return found


def discover(paths, ids_csv: Path | None = None, warn=None) -> list[tuple[Path, str]]:
    """``(notebook, student id)`` for every notebook given or under a folder given, sorted."""
    return find_submissions(paths, ids_csv, warn).notebooks


def read_csv_rows(path: Path, option: str, header: tuple[str, ...], example: str) -> list[dict]:
    """The rows of an instructor's CSV given to ``option``, with ``header`` among its columns (a
    spreadsheet's byte-order mark is read, not kept); a clear error otherwise."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise GradingError(f"{option} {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise GradingError(f"{option} {path} is not UTF-8 text. Fix: save it as CSV (UTF-8).") from None
    if not rows or not set(header) <= set(rows[0]):
        raise GradingError(f"{option} {path} must be a CSV with the header '{','.join(header)}'; "
                           f"got {list(rows[0]) if rows else 'an empty file'}. Fix: {example}.")
    return rows


def read_ids(path: Path) -> list[dict[str, str]]:
    """The rows of an ``--ids`` map (a spreadsheet's byte-order mark is read, not kept)."""
    rows = read_csv_rows(path, "--ids", ("file", "id"),
                         "one row per notebook, e.g. 'subs/3141.ipynb,alice'")
    return [{"file": (r["file"] or "").strip(), "id": (r["id"] or "").strip(), "line": str(i + 2)}
            for i, r in enumerate(rows) if (r["file"] or "").strip() and (r["id"] or "").strip()]


def _apply_ids(found: Submissions, ids_csv: Path, warn) -> list[tuple[Path, str]]:
    rows = read_ids(ids_csv)
    mapping = {r["file"]: r["id"] for r in rows}
    used: set[str] = set()
    renamed = []
    for nb, sid in found.notebooks:
        key = str(nb) if str(nb) in mapping else nb.name if nb.name in mapping else None
        if key is not None:
            used.add(key)
        renamed.append((nb, mapping[key] if key is not None else sid))
    for r in rows:
        if r["file"] in used:
            continue
        where = f"--ids {ids_csv}, line {r['line']}: {r['file']!r}"
        if Path(r["file"]).is_dir() or r["file"].rstrip("/") in found.folders:
            warn(f"{where} names a folder; a student folder's name is its id and cannot be "
                 f"remapped: rename the folder, or map the notebook files inside it")
        else:
            warn(f"{where} matches no notebook found; the row was not used")
    return renamed


def check_one_per_notebook(notebooks: list[tuple[Path, str]], exercises, ids_csv=None) -> None:
    """Refuse two files of one student that answer the same course notebook (see the module)."""
    by_student: dict[str, list[Path]] = {}
    for nb, sid in notebooks:
        by_student.setdefault(sid, []).append(nb)
    for sid, files in by_student.items():
        if len(files) < 2:
            continue
        seen: dict[str, Path] = {}
        for path in files:
            for number in answered_notebooks(path, exercises):
                if number in seen:
                    how = (f"the --ids map {ids_csv} gives both the id {sid!r}" if ids_csv
                           else f"both belong to student {sid!r}")
                    raise GradingError(
                        f"{seen[number]} and {path} both answer notebook {number} ({how}); "
                        f"grading them as one student would hide one of the two. Fix: keep only "
                        f"the file to grade, or give the files different ids.")
                seen[number] = path


def answered_notebooks(path: Path, exercises, nb=None) -> list[str]:
    """The course notebooks a file answers (for a damaged file: from its name, if it tells)."""
    if nb is None:
        nb, _ = read_notebook(path)
    if nb is not None:
        return notebook_numbers(nb, path, exercises)
    stem = P.NOTEBOOK_PREFIX.match(path.stem)
    known = {ex.notebook for ex in exercises}
    return [stem.group(1)] if stem and stem.group(1) in known else []
