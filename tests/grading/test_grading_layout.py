"""Which files are whose (no grading): the layout rules, the --ids map, one file per notebook."""

from __future__ import annotations

import re

import nbformat
import pytest
from _grading_helpers import notebook

from emlib.exercises import all_exercises
from emlib.grading.layout import (
    GradingError,
    check_one_per_notebook,
    discover,
    find_submissions,
    read_ids,
)

EMPTY = nbformat.writes(notebook([]))


def _files(root, *rels, text=EMPTY):
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_a_folder_of_student_folders_is_refused_with_the_folder_to_pass(tmp_path):
    _files(tmp_path, "class/submissions/alice/03_gmm.ipynb", "class/submissions/bob/03_gmm.ipynb")
    with pytest.raises(GradingError, match=re.escape(
            f"submission folder {tmp_path / 'class'} holds submissions/alice/03_gmm.ipynb, a "
            f"notebook two folders down: its sub-folder submissions would be taken for one "
            f"student and every notebook under it merged into that id.")) as err:
        discover([tmp_path / "class"])
    assert f"Fix: pass the folder that holds the student folders (e.g. {tmp_path / 'class' / 'submissions'})" in str(err.value)
    assert [s for _, s in discover([tmp_path / "class/submissions"])] == ["alice", "bob"]


def test_every_student_folder_is_found_with_its_other_files(tmp_path):
    _files(tmp_path, "subs/ada.ipynb", "subs/bob/03_gmm.ipynb")
    _files(tmp_path, "subs/eve/report.pdf", "subs/bob/notes.txt", "subs/bob/.DS_Store", text="x")
    (tmp_path / "subs/dan").mkdir()
    warnings = []
    found = find_submissions([tmp_path / "subs"], warn=warnings.append)
    assert sorted(found.folders) == ["bob", "dan", "eve"]
    assert found.other_files == {"bob": ["notes.txt"], "dan": [], "eve": ["report.pdf"]}
    assert [s for _, s in found.notebooks] == ["ada", "bob"] and warnings == []


def test_an_ids_map_with_a_byte_order_mark_is_read(tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_bytes("file,id\r\n3141.ipynb,alice\r\n".encode("utf-8-sig"))
    assert [(r["file"], r["id"]) for r in read_ids(ids)] == [("3141.ipynb", "alice")]


def test_unused_rows_of_the_ids_map_are_reported(tmp_path):
    _files(tmp_path, "subs/3141.ipynb", "subs/bob/03_gmm.ipynb")
    ids = tmp_path / "ids.csv"
    ids.write_text("file,id\n3141.ipynb,alice\nsubs/nope.ipynb,carl\nbob,bobby\n")
    warnings = []
    found = discover([tmp_path / "subs"], ids, warn=warnings.append)
    assert [s for _, s in found] == ["alice", "bob"]
    assert warnings == [
        f"--ids {ids}, line 3: 'subs/nope.ipynb' matches no notebook found; the row was not used",
        f"--ids {ids}, line 4: 'bob' names a folder; a student folder's name is its id and cannot "
        f"be remapped: rename the folder, or map the notebook files inside it"]


def test_two_files_of_one_student_for_one_notebook_are_an_error_naming_both(tmp_path):
    _files(tmp_path, "subs/03_a.ipynb", "subs/03_b.ipynb", "subs/05_c.ipynb")
    ids = tmp_path / "ids.csv"
    ids.write_text("file,id\n03_a.ipynb,alice\n03_b.ipynb,alice\n05_c.ipynb,alice\n")
    found = discover([tmp_path / "subs"], ids)
    with pytest.raises(GradingError, match=re.escape(
            f"{tmp_path / 'subs/03_a.ipynb'} and {tmp_path / 'subs/03_b.ipynb'} both answer "
            f"notebook 03 (the --ids map {ids} gives both the id 'alice'); grading them as one "
            f"student would hide one of the two. Fix: keep only the file to grade, or give the "
            f"files different ids.")):
        check_one_per_notebook(found, all_exercises(), ids)
    check_one_per_notebook([f for f in found if f[0].name != "03_b.ipynb"], all_exercises(), ids)


def test_a_loose_file_that_is_not_a_notebook_is_reported(tmp_path):
    _files(tmp_path, "subs/ada.ipynb")
    _files(tmp_path, "subs/readme.txt", text="x")
    warnings = []
    discover([tmp_path / "subs"], warn=warnings.append)
    assert warnings == [f"{tmp_path / 'subs/readme.txt'} is not a notebook (.ipynb) and not a "
                        f"student folder; it was not graded"]


def test_the_command_refuses_a_folder_one_level_too_high_with_exit_status_2(tmp_path, capsys):
    from emlib.cli import main

    _files(tmp_path, "class/submissions/alice/03_gmm.ipynb", "class/submissions/bob/03_gmm.ipynb")
    assert main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emlib grade: error: submission folder {tmp_path / 'class'} holds ")
    assert not (tmp_path / "out" / "gradebook.csv").exists()
