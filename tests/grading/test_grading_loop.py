"""The instructor's whole loop, as the guide's "The whole loop on a demo class" shows it: its
command block runs as written (from ``emlib student`` to the Canvas file and the feedback zip),
and every result the section prints is the one the commands give."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _grading_helpers import require_bubblewrap

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "book" / "instructor-guide.md"


def _section() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    return text.split("## The whole loop on a demo class", 1)[1].split("\n## ", 1)[0]


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    require_bubblewrap()
    root = tmp_path_factory.mktemp("loop")
    for name in ("notebooks", "book"):
        (root / name).symlink_to(REPO / name)
    (block,) = re.findall(r"```bash\n(.*?)```", _section(), flags=re.S)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    run = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=root, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return root / "grades" / "loop", run.stdout


def test_every_line_the_section_prints_is_what_the_commands_give(loop):
    folder, stdout = loop
    shown = [line.strip() for block in re.findall(r"```text\n(.*?)```", _section(), flags=re.S)
             for line in block.strip().splitlines()]
    assert len(shown) >= 10
    canvas = (folder / "canvas.csv").read_text(encoding="utf-8").splitlines()
    for line in shown:
        assert line in stdout.splitlines() or line in canvas, line
    assert "1 answer(s) remain to be marked by hand" in stdout


def test_the_roster_gives_the_missing_student_a_row_and_the_marks_are_merged(loop):
    folder, _ = loop
    rows = _rows(folder / "out" / "gradebook.csv")
    assert list(rows) == ["alice", "bob", "carol", "dave"]
    assert rows["dave"]["statuses"] == "missing:6" and rows["dave"]["total"] == "0"
    assert (rows["alice"]["01.kl-nonneg"], rows["alice"]["total"], rows["alice"]["maximum"]) == (
        "3.5", "13.5", "14")
    assert rows["bob"]["01.kl-nonneg"] == "0" and rows["carol"]["01.kl-nonneg"] == "manual"


def test_the_copy_is_paired_and_nothing_else(loop):
    folder, _ = loop
    with open(folder / "out" / "similarity.csv", newline="") as fh:
        pairs = [(r["exercise"], r["id_a"], r["id_b"]) for r in csv.DictReader(fh)]
    assert pairs == [("01.jensen-gap", "bob", "carol")]


def test_the_canvas_file_column_by_column(loop):
    folder, _ = loop
    with open(folder / "canvas.csv", newline="", encoding="utf-8") as fh:
        header, possible, *students = list(csv.reader(fh))
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[-1] == "EM course total" and header[5] == "01.jensen-gap"
    assert possible[0] == "Points Possible" and possible[-1] == "14"
    by_id = {row[2]: dict(zip(header, row, strict=True)) for row in students}
    assert set(by_id) == {"alice", "bob", "carol", "dave"}
    assert by_id["carol"]["ID"] == "10236" and by_id["carol"]["01.kl-nonneg"] == ""
    assert by_id["dave"]["EM course total"] == "0" and by_id["dave"]["Section"] == "B"
    assert by_id["alice"]["SIS Login ID"] == "alice@example.org"


def test_the_feedback_zip_holds_a_page_per_student_with_the_comment(loop):
    folder, _ = loop
    with zipfile.ZipFile(folder / "out" / "feedback.zip") as zf:
        assert zf.namelist() == ["alice.html", "bob.html", "carol.html", "dave.html"]
        assert b"clear; say why q &gt; 0 on S is needed" in zf.read("alice.html")
