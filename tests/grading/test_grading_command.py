"""``emlib grade`` end to end without the sandbox (so it runs everywhere): the outputs, re-runs
that skip unchanged submissions, reproducibility, and the exit statuses."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _grading_helpers import E_STEP, EXERCISES, MAXIMUM, correct_cells, notebook, variant, write

from emlib.cli import main
from emlib.grading.batch import GradeOptions, grade

WRONG_AXIS = E_STEP.replace("axis=1, keepdims", "axis=0, keepdims")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    write(subs / "ada.ipynb", notebook(correct_cells()))
    write(subs / "ben.ipynb", variant({E_STEP: WRONG_AXIS}))
    (subs / "cy.ipynb").write_text("not a notebook")
    return subs


def _options(out, **kw):
    base = dict(out=out, jobs=2, timeout=60, sandbox="off", seed=11, exercises=EXERCISES, quiet=True)
    return GradeOptions(**{**base, **kw})


@pytest.fixture(scope="module")
def first_run(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    rows = grade([submissions], _options(out))
    return out, {r.student: r for r in rows}


def test_unsandboxed_grading_works_and_says_so(first_run):
    out, rows = first_run
    assert rows["ada"].total == MAXIMUM and rows["ben"].total == MAXIMUM - 5
    assert set(r.status for r in rows["cy"].exercises.values()) == {"invalid-notebook"}
    assert "unsandboxed" in rows["ada"].flags
    with open(out / "gradebook.csv", newline="") as fh:
        table = {r["id"]: r for r in csv.DictReader(fh)}
    assert table["ada"]["percent"] == "100" and table["ben"]["03.e-step"] == "0"


def test_grading_writes_the_similarity_report(first_run):
    out, _ = first_run
    with open(out / "similarity.csv", newline="") as fh:
        rows = [(r["exercise"], r["id_a"], r["id_b"]) for r in csv.DictReader(fh)]
    # ben's notebook is ada's with one axis changed; their jensen-gap is the course's own solution
    assert rows == [("03.e-step", "ada", "ben"), ("03.posterior-1d", "ada", "ben")]
    page = (out / "similarity.html").read_text()
    assert "<li>cy (cy.ipynb): not valid JSON" in page


def test_a_rerun_skips_unchanged_submissions_and_gives_the_same_gradebook(first_run, submissions):
    out, _ = first_run
    before = (out / "gradebook.csv").read_bytes()
    log = (out / "run2.log").open("w")
    rows = grade([submissions], _options(out, quiet=False), stream=log)
    log.close()
    lines = (out / "run2.log").read_text().splitlines()
    assert len(lines) == 3 and all(line.endswith("(cached)") for line in lines)
    assert (out / "gradebook.csv").read_bytes() == before
    assert {r.student for r in rows} == {"ada", "ben", "cy"}


def test_force_grades_again_and_reproduces_the_gradebook(first_run, submissions):
    out, _ = first_run
    before = (out / "gradebook.csv").read_bytes()
    similar = (out / "similarity.csv").read_bytes()
    log = (out / "run3.log").open("w")
    grade([submissions / "ben.ipynb"], _options(out, quiet=False, force=True), stream=log)
    log.close()
    log = (out / "run3.log").read_text()
    assert "(cached)" not in log
    assert ("keeps the earlier results of 2 file(s) not given this time: ada (ada.ipynb), "
            "cy (cy.ipynb)") in log
    assert (out / "gradebook.csv").read_bytes() == before
    assert (out / "similarity.csv").read_bytes() == similar  # ada's notebook is still compared


def test_the_seed_is_drawn_once_and_kept_secret(submissions, tmp_path):
    out = tmp_path / "grades"
    grade([submissions / "cy.ipynb"], _options(out, seed=None))
    seed = (out / ".seed").read_text()
    assert oct((out / ".seed").stat().st_mode & 0o777) == "0o600"
    grade([submissions / "cy.ipynb"], _options(out, seed=None))
    assert (out / ".seed").read_text() == seed


def test_exit_status_for_usage_errors(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o")]) == 2
    assert "emlib grade: error: submission" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["grade", "x.ipynb", "--out", str(tmp_path), "--jobs", "0"])
    with pytest.raises(SystemExit):
        main(["grade", "x.ipynb", "--out", str(tmp_path), "--similarity-threshold", "0"])
    assert ("argument --similarity-threshold: expected a number T with 0 < T <= 1"
            in capsys.readouterr().err)


def test_required_sandbox_without_bubblewrap_refuses(submissions, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    env.pop("EMLIB_REQUIRE_SANDBOX", None)
    cmd = [sys.executable, "-m", "emlib.cli", "grade", str(submissions / "cy.ipynb"),
           "--out", str(tmp_path / "o"), "--sandbox", "required"]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert run.returncode == 3
    assert "--sandbox required, but bubblewrap (bwrap) is not installed" in run.stderr
    run = subprocess.run(cmd[:-2], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert run.returncode == 0 and "GRADING WITHOUT A SANDBOX" in run.stderr
    assert Path(tmp_path / "o" / "gradebook.csv").exists()
