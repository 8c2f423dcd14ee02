"""The roster (``--roster roster.csv``): what it reads and each error it gives."""

from __future__ import annotations

import csv
import io

import pytest
from _grading_helpers import DIGITS, IMPORTS, code, notebook, write

from emlib.grading.batch import GradeOptions, grade
from emlib.grading.layout import GradingError
from emlib.grading.roster import Student, read_roster


def _write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_roster_is_read_with_its_optional_columns(tmp_path):
    path = _write(tmp_path, "id,name,email,lms_id,section\n"
                  "alice,Alice M,alice@x.org,101,A\n\n bob ,,,,\n")
    roster = read_roster(path)
    assert roster.columns == ("name", "email", "lms_id", "section")
    assert roster.students == (Student("alice", "Alice M", "alice@x.org", "101", "A"),
                               Student("bob"))


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = _write(tmp_path, "\ufeffid,email\nalice,a@x.org\n")
    roster = read_roster(path)
    assert roster.ids() == ["alice"]
    assert roster.columns == ("email",)


def test_a_roster_without_an_id_column_is_refused(tmp_path):
    path = _write(tmp_path, "name,email\nAlice,a@x.org\n")
    with pytest.raises(GradingError) as exc:
        read_roster(path)
    assert str(exc.value) == (
        f"--roster {path} must be a CSV with the header 'id'; got ['name', 'email']. Fix: one "
        f"row per student, e.g. 'alice,Alice Martin,alice@example.org'.")


def test_duplicate_ids_are_named_with_their_lines(tmp_path):
    path = _write(tmp_path, "id,name\nalice,A\nbob,B\nalice,A2\nbob,B2\ncarol,C\n")
    with pytest.raises(GradingError) as exc:
        read_roster(path)
    assert str(exc.value) == (
        f"--roster {path}: ids listed more than once: 'alice' on lines 2, 4; 'bob' on lines 3, "
        f"5; expected one row per student. Fix: keep one row per student.")


def test_an_empty_id_is_refused(tmp_path):
    path = _write(tmp_path, "id,name\nalice,A\n,Nobody\n")
    with pytest.raises(GradingError) as exc:
        read_roster(path)
    assert str(exc.value) == (
        f"--roster {path}, line(s) 3: the id is empty; expected every student to have an id. "
        f"Fix: fill in the id or delete the row.")


def test_a_roster_that_is_not_utf8_is_refused(tmp_path):
    path = _write(tmp_path, "id,name\nzoe,Zoë\n", encoding="latin-1")
    with pytest.raises(GradingError) as exc:
        read_roster(path)
    assert str(exc.value) == (
        f"--roster {path} is not UTF-8 text. Fix: save it as CSV (UTF-8).")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grade run: ann is on the roster and hands in, bob is on it and does not, zed hands in
    and is not on it."""
    tmp = tmp_path_factory.mktemp("roster")
    for sid in ("ann", "zed"):
        write(tmp / "subs" / f"{sid}.ipynb",
              notebook([code(IMPORTS), code(DIGITS), code('check("05.digits-dims", digits_dims)')]))
    roster = tmp / "roster.csv"
    roster.write_text("id,name\nann,Ann A\nbob,Bob B\n")
    out = tmp / "out"
    rows = grade([tmp / "subs"], GradeOptions(out=out, timeout=60, sandbox="off", seed=3,
                                              exercises=("05.digits-dims",), quiet=True,
                                              roster=roster), stream=io.StringIO())
    return out, rows


def test_every_roster_student_has_a_row_and_an_extra_submission_is_flagged(graded):
    out, rows = graded
    assert [r.student for r in rows] == ["ann", "bob", "zed"]
    with open(out / "gradebook.csv", newline="") as fh:
        book = {line["id"]: line for line in csv.DictReader(fh)}
    assert book["ann"]["05.digits-dims"] == "3"
    assert "not-on-roster" not in book["ann"]["flags"]
    assert (book["bob"]["05.digits-dims"], book["bob"]["total"]) == ("0", "0")
    assert "not-on-roster" in book["zed"]["flags"].split(";")
    with open(out / "statuses.csv", newline="") as fh:
        statuses = {line["id"]: line for line in csv.DictReader(fh)}
    assert statuses["bob"]["05.digits-dims"] == "missing"
    assert "not-on-roster" in (out / "summary.md").read_text()


def test_a_bad_roster_is_refused_before_anything_is_graded(tmp_path):
    write(tmp_path / "subs" / "ann.ipynb", notebook([code(IMPORTS)]))
    roster = _write(tmp_path, "name\nAnn\n")
    with pytest.raises(GradingError, match=r"--roster .* must be a CSV with the header 'id'"):
        grade([tmp_path / "subs"], GradeOptions(out=tmp_path / "out", sandbox="off", quiet=True,
                                                roster=roster))
    assert not (tmp_path / "out").exists()
