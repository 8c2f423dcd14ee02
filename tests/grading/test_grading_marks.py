"""Marks given by hand (``OUT/marks.csv``, ``emlib grade --marks``): merged into the gradebook,
the feedback, the summary and the export; merged again after a change; refused, with the
gradebook untouched, when malformed. One grade run for the module; each test works on a copy."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile

import pytest
from _grading_helpers import HOSTILE_PROOF, derivation_submission, write

from emlib.cli import main
from emlib.grading.batch import GradeOptions, grade
from emlib.grading.bundle import feedback_zip
from emlib.grading.export import export
from emlib.grading.layout import GradingError
from emlib.grading.roster import read_roster

KL, ZERO = "01.kl-nonneg", "01.zero-gap"
HEADER = "id,exercise,points,comment\n"


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    """ann answers both exercises, bob hands in the notebook as given out, cat (on the roster)
    hands in nothing."""
    tmp = tmp_path_factory.mktemp("marks")
    write(tmp / "subs" / "ann.ipynb", derivation_submission(
        HOSTILE_PROOF, "zero_gap_weights = np.array([0.0, 0.0, 0.5, 0.5])"))
    write(tmp / "subs" / "bob.ipynb", derivation_submission())
    (tmp / "roster.csv").write_text("id,name\nbob,Bob B\nann,Ann A\ncat,Cat C\n")
    grade([tmp / "subs"], GradeOptions(out=tmp / "out", timeout=60, sandbox="off", seed=5,
                                       exercises=(ZERO, KL), quiet=True, roster=tmp / "roster.csv"),
          stream=io.StringIO())
    return tmp


@pytest.fixture
def out(graded_once, tmp_path):
    shutil.copytree(graded_once / "out", tmp_path / "out")
    return tmp_path / "out"


def _book(out, name="gradebook.csv"):
    with open(out / name, newline="", encoding="utf-8") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def _marks(out, text, name="marks.csv"):
    path = out / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _regather(out, marks=None):
    return grade([], GradeOptions(out=out, quiet=True, marks=marks), stream=io.StringIO())


def _snapshot(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_before_marking_the_derivation_is_manual_and_counts_in_no_maximum(out):
    book = _book(out)
    assert (book["ann"][ZERO], book["ann"][KL], book["ann"]["total"], book["ann"]["maximum"]) == (
        "2", "manual", "2", "2")
    assert book["bob"][KL] == "manual" and book["cat"][KL] == "0"
    assert "2 answer(s) remain to be marked by hand" in (out / "summary.md").read_text()
    assert (out / "roster.csv").read_text() == "id,name\nbob,Bob B\nann,Ann A\ncat,Cat C\n"


def test_marks_are_merged_into_the_gradebook_the_feedback_and_the_summary(out, capsys):
    _marks(out, HEADER + f'ann,{KL},3.5,"good; the case q = 0 is <missing>"\nbob,{KL},,\n')
    assert main(["grade", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        f"; 1 answer(s) remain to be marked by hand (emlib review {out})")
    book = _book(out)
    assert (book["ann"][KL], book["ann"]["total"], book["ann"]["maximum"],
            book["ann"]["percent"]) == ("3.5", "5.5", "6", "91.7")
    assert (book["bob"][KL], book["bob"]["maximum"]) == ("manual", "2")
    assert _book(out, "statuses.csv")["ann"][KL] == "partial"
    md = (out / "feedback" / "ann.md").read_text()
    assert "**3.5 / 4, partial**\n\n- marked by hand: good; the case q = 0 is <missing>" in md
    page = (out / "feedback" / "ann.html").read_text()
    assert "<li>marked by hand: good; the case q = 0 is &lt;missing&gt;</li>" in page
    assert "<strong>Total: 5.5 / 6 (91.7%)</strong>" in page
    summary = (out / "summary.md").read_text()
    assert "maximum 6 points (automatic and marked by hand)" in summary
    assert "1 answer(s) remain to be marked by hand" in summary
    assert f"| {KL} | manual | 3.50 | 0 | partial 1, missing 1 | - |" in summary


def test_a_changed_mark_is_merged_again_and_a_deleted_one_is_unmarked(out):
    path = _marks(out, HEADER + f"ann,{KL},3.5,\nbob,{KL},0,nothing written\n")
    _regather(out)
    assert (_book(out)["bob"][KL], _book(out)["bob"]["maximum"]) == ("0", "6")
    assert _book(out, "statuses.csv")["bob"][KL] == "wrong"
    path.write_text(HEADER + f"ann,{KL},4,complete\n")
    rows = _regather(out)
    book = _book(out)
    assert (book["ann"][KL], book["ann"]["total"], book["bob"][KL]) == ("4", "6", "manual")
    assert _book(out, "statuses.csv")["ann"][KL] == "ok"
    assert sum(r.exercises[KL].status == "manual" for r in rows) == 1


def test_a_run_with_the_submissions_finds_the_marks_in_out(out, graded_once):
    _marks(out, HEADER + f"bob,{KL},1,\n")
    grade([graded_once / "subs"], GradeOptions(out=out, timeout=60, sandbox="off", seed=5,
                                               exercises=(ZERO, KL), quiet=True),
          stream=io.StringIO())
    book = _book(out)
    assert (book["bob"][KL], book["ann"][KL], book["ann"][ZERO]) == ("1", "manual", "2")
    assert "cat" in book  # the roster kept in OUT by the first run


def test_marks_given_elsewhere_are_remembered_by_the_next_run(out, tmp_path):
    elsewhere = _marks(tmp_path, HEADER + f"ann,{KL},2,\n", "typed.csv")
    _regather(out, elsewhere)
    elsewhere.write_text(HEADER + f"ann,{KL},3,\n")
    _regather(out)
    assert _book(out)["ann"][KL] == "3"


BAD = {
    "out of range": (HEADER + f"ann,{KL},4.5,\n",
                     f"  line 2 (ann, {KL}): points 4.5 is outside [0, 4]. Fix: give from 0 to 4 "
                     f"points (the exercise's points)."),
    "negative": (HEADER + f"ann,{KL},-1,\n",
                 f"  line 2 (ann, {KL}): points -1 is outside [0, 4]. Fix: give from 0 to 4 points "
                 f"(the exercise's points)."),
    "not a number": (HEADER + f"bob,{KL},,\nann,{KL},three,\n",
                     f"  line 3 (ann, {KL}): points 'three' is not a number. Fix: type a number "
                     f"from 0 to 4, or leave it empty until marked."),
    "nan": (HEADER + f"ann,{KL},nan,\n",
            f"  line 2 (ann, {KL}): points 'nan' is not a number. Fix: type a number from 0 to 4, "
            f"or leave it empty until marked."),
    "unknown exercise": (HEADER + f"ann,{ZERO},1,\n",
                         f"  line 2: exercise '{ZERO}' is not marked by hand; expected one of "
                         f"01.kl-nonneg, 02.monotonicity, 03.tied-cov, 04.lloyd-descent. Fix: "
                         f"correct the exercise id."),
    "duplicate": (HEADER + f"ann,{KL},1,\nbob,{KL},2,\nann,{KL},1,again\n",
                  f"  line 4 (ann, {KL}): already marked on line 2. Fix: keep one row per "
                  f"student and exercise."),
    "empty id": (HEADER + f",{KL},1,\n", "  line 2: the id is empty. Fix: fill it in or delete "
                                         "the row."),
    "unknown id": (HEADER + f"ann,{KL},1,\nzed,{KL},1,\n",
                   "  line 3: no student 'zed' in the gradebook. Fix: use the id as in "
                   "gradebook.csv, or delete the row."),
    "not graded": (HEADER + "ann,03.tied-cov,1,\n",
                   "  line 2: exercise 03.tied-cov is not in the gradebook. Fix: grade it too "
                   "(--exercises), or delete the row."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_marks_are_refused_before_anything_is_written(out, case):
    text, problem = BAD[case]
    _regather(out)  # OUT as a finished run leaves it
    path = _marks(out, text)
    before = _snapshot(out)
    with pytest.raises(GradingError) as exc:
        _regather(out)
    assert str(exc.value) == f"--marks {path}: 1 problem(s); nothing was written:\n{problem}"
    assert _snapshot(out) == before


def test_every_problem_is_listed_at_once(out):
    path = _marks(out, HEADER + f"ann,{KL},9,\nbob,{KL},x,\n")
    with pytest.raises(GradingError) as exc:
        _regather(out)
    assert str(exc.value).startswith(f"--marks {path}: 2 problem(s); nothing was written:\n"
                                     f"  line 2 (ann, {KL}): points 9")
    assert "\n  line 3 (bob, " in str(exc.value)


@pytest.mark.parametrize(("data", "message"), [
    (b"id,exercise,comment\nann,01.kl-nonneg,ok\n",
     "--marks {path} must be a CSV with the header 'id,exercise,points'; got ['id', 'exercise', "
     "'comment']. Fix: start from the marks.csv that emlib review writes into OUT."),
    (HEADER.encode() + b"ann,01.kl-nonneg,3,\nbob,01.kl-nonneg,1,Zo\xeb\n",
     "--marks {path}, line 3: not UTF-8 text. Fix: save the file as CSV (UTF-8)."),
])
def test_a_marks_file_of_the_wrong_shape_is_refused(out, data, message):
    path = _marks(out, data)
    before = _snapshot(out)
    with pytest.raises(GradingError) as exc:
        _regather(out, path)
    assert str(exc.value) == message.format(path=path)
    assert _snapshot(out) == before


def test_a_run_without_submissions_needs_an_earlier_run_and_grades_nothing(tmp_path, out):
    with pytest.raises(GradingError) as exc:
        _regather(tmp_path / "new")
    assert str(exc.value) == (
        f"no SUBMISSION given, and {tmp_path / 'new'} holds no results.json of an earlier run. "
        f"Fix: give the submissions to grade, or the --out folder of an earlier emlib grade.")
    with pytest.raises(GradingError) as exc:
        grade([], GradeOptions(out=out, exercises=(KL,), force=True, quiet=True))
    assert str(exc.value) == (
        "--exercises, --force without a SUBMISSION: nothing is graded when no submission is "
        "given. Fix: give the submissions, or leave out --exercises, --force.")


def test_export_gives_the_marked_points_and_leaves_unmarked_ones_empty(out, graded_once):
    _marks(out, HEADER + f"ann,{KL},3.5,\n")
    _regather(out)
    roster = read_roster(graded_once / "roster.csv")
    export(out, "csv", roster, out / "plain.csv")
    with open(out / "plain.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert (rows["ann"][KL], rows["ann"]["total"], rows["ann"]["maximum"]) == ("3.5", "5.5", "6")
    assert (rows["bob"][KL], rows["bob"]["total"]) == ("", "0")
    assert rows["cat"][KL] == "0"  # nothing handed in: missing, a zero
    (graded_once / "lms.csv").write_text("id,lms_id\nann,1\nbob,2\ncat,3\n")
    export(out, "canvas", read_roster(graded_once / "lms.csv"), out / "canvas.csv")
    with open(out / "canvas.csv", newline="") as fh:
        header, possible, *_ = list(csv.reader(fh))
    assert dict(zip(header, possible, strict=True))[KL] == "4"
    assert possible[-1] == "6"


def test_the_feedback_zip_holds_each_students_page_with_the_comments(out, tmp_path, capsys):
    _marks(out, HEADER + f"ann,{KL},3,see eq. (1.4)\n")
    _regather(out)
    assert main(["feedback", str(out), "--zip"]) == 0
    assert capsys.readouterr().out == f"wrote {out / 'feedback.zip'}: the feedback of 3 student(s)\n"
    with zipfile.ZipFile(out / "feedback.zip") as zf:
        assert zf.namelist() == ["ann.html", "bob.html", "cat.html"]
        for name in zf.namelist():
            assert zf.read(name) == (out / "feedback" / name).read_bytes()
        assert b"marked by hand: see eq. (1.4)" in zf.read("ann.html")
    assert feedback_zip(out, tmp_path / "again.zip") == 3
    assert (tmp_path / "again.zip").read_bytes() == (out / "feedback.zip").read_bytes()


def test_the_feedback_zip_names_a_missing_page(out, capsys):
    (out / "feedback" / "bob.html").unlink()
    assert main(["feedback", str(out), "--zip", "--out", str(out / "f.zip")]) == 2
    assert capsys.readouterr().err == (
        f"emlib feedback: error: 1 feedback page(s) of the gradebook are missing: "
        f"{out / 'feedback' / 'bob.html'}. Fix: run emlib grade --out {out} again.\n")
    assert not (out / "f.zip").exists()
