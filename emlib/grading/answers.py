"""The written answers of the exercises marked by hand (kind ``derivation``), for ``emlib review``.

Where an answer is. In a submission, an exercise's cells run from the cell after the last code
cell that names another exercise (:func:`.protocol.ids_in_cell`) up to the first code cell that
names this one (its ``check("01.kl-nonneg", ...)`` cell). In that stretch, the student's answer
is every markdown cell, and every code cell, that is not the course's own text: a cell whose
text is a cell of the student edition of the course notebook (the exercise's prompt, the
"*Your proof* (double-click ...)" line left as it was, the stub) is left out, so what remains is
what the student wrote. A notebook with no code cell naming the exercise has no answer found.

The course's side comes from the source notebook in ``notebooks/`` (``01_jensen.ipynb`` for an
exercise ``01.*``): the prompt is the first markdown cell of the exercise's stretch, the model
solution its markdown cell tagged ``solution``. Without the source notebooks (an installed
package), the prompt and solution are empty and every cell of the stretch counts as written.

``emlib grade`` keeps each submission's answers in ``OUT/results.json`` and writes, for every
hand-marked exercise of the gradebook, ``OUT/answers/<exercise-id>.json`` (atomically): the
exercise, then each student's answer in gradebook order, so that ``emlib review OUT`` needs
only ``OUT``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from . import protocol as P
from .gradebook import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ANSWERS = "answers"


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _names(cell) -> list[str]:
    if cell.get("cell_type") != "code":
        return []
    return P.ids_in_cell(cell.get("source", ""), _tags(cell))


def stretch(cells, exercise_id: str) -> range | None:
    """The indices of the cells that belong to the exercise (see the module), or None."""
    end = next((i for i, c in enumerate(cells) if exercise_id in _names(c)), None)
    if end is None:
        return None
    start = next((i + 1 for i in range(end - 1, -1, -1)
                  if any(n != exercise_id for n in _names(cells[i]))), 0)
    return range(start, end)


def source_notebook(notebook: str, folder: Path = NOTEBOOKS) -> Path | None:
    """The course's source notebook of number ``notebook`` ("01"), or None."""
    found = sorted(p for p in folder.glob(f"{notebook}*.ipynb")
                   if (m := P.NOTEBOOK_PREFIX.match(p.stem)) and m.group(1) == notebook)
    return found[0] if found else None


@cache
def course_text(exercise_id: str) -> dict:
    """``{"prompt", "solution", "cells"}``: the exercise's prompt and model solution (markdown)
    and the texts of every cell of the notebook's student edition (the course's, not a
    student's); empty without the source notebook."""
    import nbformat

    from ..student_edition import make_student_notebook

    path = source_notebook(exercise_id.split(".")[0])
    if path is None:
        return {"prompt": "", "solution": "", "cells": frozenset()}
    nb = nbformat.read(path, as_version=4)
    cells = frozenset(c.source.strip() for c in make_student_notebook(nb, name=path.name).cells)
    where = stretch(nb.cells, exercise_id) or range(0)
    texts = [nb.cells[i] for i in where if nb.cells[i].cell_type == "markdown"]
    prompt = next((c.source for c in texts if "solution" not in _tags(c)), "")
    solution = "\n\n".join(c.source for c in texts if "solution" in _tags(c))
    return {"prompt": prompt, "solution": solution, "cells": cells}


def written_answer(nb, exercise_id: str) -> dict:
    """The student's answer in the notebook ``nb``: ``{"found", "markdown", "code"}``."""
    where = stretch(nb.cells, exercise_id)
    if where is None:
        return {"found": False, "markdown": "", "code": []}
    course = course_text(exercise_id)["cells"]
    own = [nb.cells[i] for i in where if nb.cells[i].source.strip() not in course]
    return {"found": True,
            "markdown": "\n\n".join(c.source for c in own if c.cell_type == "markdown"),
            "code": [c.source for c in own if c.cell_type == "code"]}


def answers_of(nb, exercises) -> dict[str, dict]:
    """The written answers of the hand-marked ``exercises`` in ``nb``, by exercise id."""
    return {ex.id: written_answer(nb, ex.id) for ex in exercises if ex.kind == "derivation"}


def write_answers(out: Path, rows, results, columns) -> None:
    """``OUT/answers/<id>.json`` for every hand-marked exercise among ``columns``: the prompt,
    the model solution and each row's student answer, in the rows' order."""
    by_student: dict[str, dict] = {}
    for res in results:
        for ex_id, answer in res.answers.items():
            by_student.setdefault(res.student, {})[ex_id] = {"file": Path(res.path).name,
                                                             **answer}
    for ex in columns:
        if ex.kind != "derivation":
            continue
        text = course_text(ex.id)
        students = []
        for row in rows:
            result = row.exercises[ex.id]
            answer = by_student.get(row.student, {}).get(ex.id)
            students.append({"id": row.student, "status": result.status,
                             "answer": answer or {"found": False, "markdown": "", "code": []}})
        data = {"exercise": ex.id, "title": ex.title, "points": ex.points,
                "prompt": text["prompt"], "solution": text["solution"], "students": students}
        atomic_write(out / ANSWERS / f"{ex.id}.json", json.dumps(data, indent=1) + "\n")


def read_answers(out: Path, exercise_id: str) -> dict | None:
    """What :func:`write_answers` wrote for ``exercise_id`` in ``out``, or None."""
    try:
        return json.loads((out / ANSWERS / f"{exercise_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
