"""``emlib export``: the gradebook as Canvas, Moodle and plain CSV files, parsed back."""

from __future__ import annotations

import csv

import pytest

from emlib.cli import main
from emlib.grading.export import export
from emlib.grading.layout import GradingError
from emlib.grading.roster import read_roster

BOOK = ("id,05.digits-dims,01.jensen-gap,total,maximum,percent,statuses,flags\n"
        "ann,3,timeout,3,6,50,ok:1 timeout:1,\n"
        "bob,0,1.5,1.5,6,25,missing:1 partial:1,\n")


@pytest.fixture
def out(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "gradebook.csv").write_text(BOOK)
    return tmp_path / "out"


def _roster(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return read_roster(path)


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_has_identity_columns_points_possible_and_one_row_per_student(tmp_path, out):
    roster = _roster(tmp_path, "id,name,email,lms_id,section\nann,Ann A,ann@x.org,11,S1\n"
                               "bob,,bob@x.org,12,S2\n")
    export(out, "canvas", roster, tmp_path / "canvas.csv")
    header, possible, ann, bob = _read(tmp_path / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      "05.digits-dims", "01.jensen-gap", "EM course total"]
    assert possible == ["Points Possible", "", "", "", "", "3", "3", "6"]
    assert ann == ["Ann A", "11", "ann", "ann@x.org", "S1", "3", "0", "3"]
    assert bob == ["bob", "12", "bob", "bob@x.org", "S2", "0", "1.5", "1.5"]


def test_moodle_uses_the_email_or_else_the_id_as_username(tmp_path, out):
    roster = _roster(tmp_path, "id,email\nann,ann@x.org\nbob,bob@x.org\n")
    export(out, "moodle", roster, tmp_path / "moodle.csv")
    assert _read(tmp_path / "moodle.csv") == [
        ["email", "05.digits-dims", "01.jensen-gap", "EM course total"],
        ["ann@x.org", "3", "0", "3"], ["bob@x.org", "0", "1.5", "1.5"]]
    export(out, "moodle", _roster(tmp_path, "id\nann\nbob\n"), tmp_path / "m2.csv")
    assert [r[0] for r in _read(tmp_path / "m2.csv")] == ["username", "ann", "bob"]


def test_plain_csv_through_the_command(tmp_path, out):
    (tmp_path / "r.csv").write_text("id,name\nann,Ann A\nbob,Bob B\n")
    assert main(["export", str(out), "--format", "csv", "--roster", str(tmp_path / "r.csv"),
                 "--out", str(tmp_path / "plain.csv")]) == 0
    assert _read(tmp_path / "plain.csv") == [
        ["id", "name", "05.digits-dims", "01.jensen-gap", "total", "maximum"],
        ["ann", "Ann A", "3", "0", "3", "6"], ["bob", "Bob B", "0", "1.5", "1.5", "6"]]


def test_students_the_roster_cannot_map_are_all_named(tmp_path, out):
    roster = _roster(tmp_path, "id,lms_id,email\nann,,\n")
    with pytest.raises(GradingError) as exc:
        export(out, "canvas", roster, tmp_path / "canvas.csv")
    assert str(exc.value) == (
        "--roster: 2 student(s) of the gradebook have no lms_id in the roster: ann, bob; expected "
        "every student to be mapped for --format canvas. Fix: add them to the roster.")
    with pytest.raises(GradingError, match="have no email in the roster: ann, bob"):
        export(out, "moodle", roster, tmp_path / "moodle.csv")
    assert not (tmp_path / "canvas.csv").exists()


def test_the_roster_kept_in_out_is_the_default_and_its_absence_is_named(tmp_path, out, capsys):
    assert main(["export", str(out), "--format", "csv", "--out", str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err
    assert f"no --roster given, and {out} holds no roster.csv" in err and "Fix: give --roster" in err
    (out / "roster.csv").write_text("id,name\nann,Ann A\nbob,Bob B\n")
    assert main(["export", str(out), "--format", "csv", "--out", str(tmp_path / "a.csv")]) == 0
    assert [r[:2] for r in _read(tmp_path / "a.csv")[1:]] == [["ann", "Ann A"], ["bob", "Bob B"]]
