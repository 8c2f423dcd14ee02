"""Late work: the late file, the penalty rule, and where it shows."""

from __future__ import annotations

import csv
import re

import pytest
from _grading_helpers import DIGITS, IMPORTS, code, notebook, write

from emlib.grading.batch import GradeOptions, grade
from emlib.grading.late import penalty_fraction, read_late
from emlib.grading.layout import GradingError


def test_the_late_file_is_read_and_each_bad_row_named(tmp_path):
    late = tmp_path / "late.csv"
    late.write_bytes("id,days_late\r\nalice,2\r\nbob,0.5\r\n".encode("utf-8-sig"))
    assert read_late(late) == {"alice": 2.0, "bob": 0.5}
    late.write_text("id,days_late\nalice,two\n")
    with pytest.raises(GradingError, match=re.escape(
            f"--late {late}, line 2: days_late of 'alice' is 'two'; expected a number of days "
            f">= 0. Fix: write e.g. 2 or 0.5.")):
        read_late(late)
    late.write_text("id,days_late\nalice,1\nalice,2\n")
    with pytest.raises(GradingError, match=re.escape(
            f"--late {late}, line 3: 'alice' is listed twice. Fix: keep one row per student.")):
        read_late(late)
    late.write_text("student,late\nalice,1\n")
    with pytest.raises(GradingError, match=re.escape(
            f"--late {late} must be a CSV with the header 'id,days_late'; got ['student', 'late']")):
        read_late(late)


def test_the_penalty_is_a_share_of_the_total_per_day_and_at_most_all_of_it():
    assert penalty_fraction(2, 10) == pytest.approx(0.2)
    assert penalty_fraction(0.5, 10) == pytest.approx(0.05)
    assert penalty_fraction(30, 10) == 1.0


def test_a_late_student_loses_the_penalty_in_the_gradebook_and_is_told_so(tmp_path):
    write(tmp_path / "subs" / "ann.ipynb",
          notebook([code(IMPORTS), code(DIGITS), code('check("05.digits-dims", digits_dims)')]))
    late = tmp_path / "late.csv"
    late.write_text("id,days_late\nann,2\nzed,1\n")
    out = tmp_path / "out"
    options = dict(out=out, timeout=60, sandbox="off", seed=3, exercises=("05.digits-dims",),
                   quiet=True)
    log = (tmp_path / "log").open("w")
    (row,) = grade([tmp_path / "subs"], GradeOptions(**options, late=late, late_percent=25),
                   stream=log)
    log.close()
    assert (row.points, row.late_deduction, row.total) == (3, 1.5, 1.5)
    assert "--late: no student 'zed' in the gradebook; check the ids" in (tmp_path / "log").read_text()
    with open(out / "gradebook.csv", newline="") as fh:
        (line,) = csv.DictReader(fh)
    assert (line["days_late"], line["late_penalty"], line["total"]) == ("2", "1.5", "1.5")
    said = "Late by 2 day(s): 50% of 3 points (25% per day) = -1.5 points."
    assert said in (out / "feedback" / "ann.md").read_text()
    assert said in (out / "feedback" / "ann.html").read_text()
    (again,) = grade([tmp_path / "subs"], GradeOptions(**options))  # the late file is kept
    assert again.total == 1.5
