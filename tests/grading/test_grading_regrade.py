"""Re-runs into an existing OUT lose nothing (no sandbox, so it runs everywhere): a partial
regrade updates only its exercises, an edited exercise module regrades only its notebook, every
student folder gets a row, and statuses.csv tells the zeros apart."""

from __future__ import annotations

import csv

import pytest
from _grading_helpers import (
    E_STEP,
    EXERCISES,
    IMPORTS,
    JENSEN,
    code,
    correct_cells,
    notebook,
    variant,
    write,
)

from emlib.grading import batch, store
from emlib.grading.batch import GradeOptions, grade

WRONG_AXIS = E_STEP.replace("axis=1, keepdims", "axis=0, keepdims")


def _options(out, **kw):
    base = dict(out=out, jobs=2, timeout=60, sandbox="off", seed=11, exercises=EXERCISES, quiet=True)
    return GradeOptions(**{**base, **kw})


def _table(path):
    with open(path, newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    write(subs / "ada.ipynb", notebook(correct_cells()))
    write(subs / "ben.ipynb", variant({E_STEP: WRONG_AXIS}))
    (subs / "dan").mkdir()
    (subs / "eve").mkdir()
    (subs / "eve" / "report.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path_factory.mktemp("out")
    grade([subs], _options(out))
    return subs, out


@pytest.fixture
def sandbox_calls(monkeypatch):
    calls = []
    real = batch.run_in_sandbox

    def spy(nb_path, exercises, *args):
        calls.append((nb_path.stem, [ex.id for ex in exercises]))
        return real(nb_path, exercises, *args)

    monkeypatch.setattr(batch, "run_in_sandbox", spy)
    return calls


def test_every_student_folder_gets_a_row_and_its_other_files_are_listed(graded):
    _, out = graded
    table = _table(out / "gradebook.csv")
    assert set(table) == {"ada", "ben", "dan", "eve"}
    assert table["dan"]["statuses"] == f"missing:{len(EXERCISES)}" and table["dan"]["total"] == "0"
    feedback = (out / "feedback" / "eve.md").read_text()
    assert "Other files in your folder, not graded: `report.pdf`" in feedback
    assert "no notebook (.ipynb) was found in your folder eve/" in feedback


def test_statuses_csv_tells_a_missing_notebook_from_a_scored_zero(graded):
    _, out = graded
    statuses = _table(out / "statuses.csv")
    assert list(statuses["ben"])[1:] == list(EXERCISES)
    assert statuses["ben"]["03.e-step"] == "wrong" and statuses["dan"]["03.e-step"] == "missing"
    assert _table(out / "gradebook.csv")["dan"]["03.e-step"] == "0"


def test_a_partial_regrade_updates_only_its_exercise_and_keeps_the_rest(graded, sandbox_calls):
    subs, out = graded
    before = (out / "gradebook.csv").read_bytes()
    grade([subs], _options(out, exercises=("03.e-step",), force=True))
    assert sorted(sandbox_calls) == [("ada", ["03.e-step"]), ("ben", ["03.e-step"])]
    assert (out / "gradebook.csv").read_bytes() == before
    assert "## 01.jensen-gap" in (out / "feedback" / "ben.md").read_text()


def test_an_edited_exercise_module_regrades_only_its_notebook(graded, sandbox_calls, monkeypatch):
    subs, out = graded
    before = (out / "gradebook.csv").read_bytes()
    real = store.exercise_hash
    monkeypatch.setattr(store, "exercise_hash",
                        lambda ex: real(ex) + ("edited" if ex.notebook == "05" else ""))
    grade([subs], _options(out))
    assert sorted(sandbox_calls) == [("ada", ["05.digits-dims"]), ("ben", ["05.digits-dims"])]
    assert (out / "gradebook.csv").read_bytes() == before


def test_a_notebook_outside_the_exercises_graded_is_told_so(tmp_path):
    write(tmp_path / "subs" / "fay.ipynb",
          notebook([code(IMPORTS), code(JENSEN), code('check("01.jensen-gap", log_jensen_gap)')]))
    rows = grade([tmp_path / "subs"], _options(tmp_path / "out", exercises=("03", "05")))
    assert "fay.ipynb: notebook 01 is not among the exercises being graded (03, 05)" in rows[0].notes
    assert "unknown-notebook" not in rows[0].flags


def test_a_rerun_given_one_of_a_students_files_keeps_the_others(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs / "g1.ipynb",
          notebook([code(IMPORTS), code(JENSEN), code('check("01.jensen-gap", log_jensen_gap)')]))
    write(subs / "g3.ipynb", notebook([code(IMPORTS), code(E_STEP), code('check("03.e-step", e_step)')]))
    ids = tmp_path / "ids.csv"
    ids.write_text("file,id\ng1.ipynb,gus\ng3.ipynb,gus\n")
    options = _options(out, exercises=("01.jensen-gap", "03.e-step"), ids=ids)
    (first,) = grade([subs], options)
    log = (tmp_path / "log").open("w")
    (again,) = grade([subs / "g3.ipynb"], options, stream=log)
    log.close()
    assert first.total == again.total == 8
    assert (f"the gradebook in {out} keeps the earlier results of 1 file(s) not given this time: "
            f"gus (g1.ipynb)") in (tmp_path / "log").read_text()


GLOBAL_STATE_SEEDING = '''def kmeans_plusplus(X, n_clusters, random_state):
    X = np.asarray(X, dtype=float)
    centres = [X[np.random.randint(len(X))]]  # numpy's global state: the seed is not used
    for _ in range(1, n_clusters):
        d2 = np.min([((X - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(X[np.random.choice(len(X), p=d2 / d2.sum())])
    return np.array(centres)'''


def test_a_seeding_that_ignores_its_seed_scores_zero_at_grading(tmp_path):
    write(tmp_path / "subs" / "kim.ipynb", notebook([code(IMPORTS), code(GLOBAL_STATE_SEEDING)]))
    (row,) = grade([tmp_path / "subs"], _options(tmp_path / "out", exercises=("04.kmeans-plusplus",)))
    result = row.exercises["04.kmeans-plusplus"]
    assert (result.status, result.points) == ("wrong", 0.0)
    assert "two calls with the same random_state gave different results" in result.messages[0]
