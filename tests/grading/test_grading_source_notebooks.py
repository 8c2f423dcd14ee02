"""Grading the course's own source notebooks (the solutions) gives full marks on every exercise.

One batch over every ``notebooks/*.ipynb`` present, in the sandbox; one test per notebook.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _grading_helpers import require_bubblewrap

from emlib.exercises import all_exercises
from emlib.grading.batch import GradeOptions, grade

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bubblewrap()
    out = tmp_path_factory.mktemp("source-grades")
    options = GradeOptions(out=out, jobs=2, timeout=300, sandbox="required", seed=7, quiet=True)
    rows = grade(SOURCES, options)
    return {row.student: row for row in rows}


@pytest.mark.skipif(not SOURCES, reason="no source notebook in notebooks/ yet")
@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_source_notebook_gets_full_marks(graded, source):
    row = graded[source.stem]
    number = source.name[:2]
    mine = [ex for ex in all_exercises() if ex.notebook == number]
    assert mine, f"notebook {source.name} has no exercise in the registry"
    problems = {ex.id: (row.exercises[ex.id].status, row.exercises[ex.id].messages) for ex in mine
                if row.exercises[ex.id].status != ("manual" if ex.kind == "derivation" else "ok")}
    assert problems == {}
    assert sum(row.exercises[ex.id].points for ex in mine) == sum(ex.auto_points for ex in mine)
    assert not [f for f in row.flags if f != "tamper-suspected"], row.flags
