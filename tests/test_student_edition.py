"""The student edition: solutions out, signatures and docstrings in, valid nbformat 4 that runs top
to bottom; each malformed marker stops with a pinned message; `emlib student` and
`emlib exercises` on the command line."""

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from emlib.cli import main
from emlib.exercises import Exercise, all_exercises
from emlib.exercises.compare import close
from emlib.student_edition import StudentEditionError, make_student_notebook, write_student_edition

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "student_source.ipynb"
COURSE_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _fixture_exercise(id_, kind, name, signature=""):
    cases = ({"x": 0.0, "pi": 1.0, "mu": 0.0, "sigma2": 1.0},) if kind == "function" else ({},)
    return Exercise(
        id=id_,
        title="fixture",
        points=1,
        kind=kind,
        name=name,
        equation="3.4",
        signature=signature,
        public_cases=cases,
        reference=lambda **kw: 1.0,
        compare=close(),
    )


EXERCISES = {
    **{e.id: e for e in all_exercises()},
    "01.fixture-function": _fixture_exercise(
        "01.fixture-function", "function", "responsibilities", "responsibilities(x, pi, mu, sigma2)"
    ),
    "01.fixture-value": _fixture_exercise("01.fixture-value", "value", "fixture_value"),
}


@pytest.fixture(scope="module")
def source():
    return nbformat.read(FIXTURE, as_version=4)


@pytest.fixture(scope="module")
def student(source):
    return make_student_notebook(source, name="student_source.ipynb", exercises=EXERCISES)


def test_no_solution_survives(source, student):
    text = "\n".join(c.source for c in student.cells)
    for secret in (
        "hidden_",
        "0.29421",
        "0.34562",
        "-0.53733",
        "0.57579",
        "1.5",
        "2.5",
        '{"a"}',
        "100_000",
        "BEGIN SOLUTION\n",
        "# SOLUTION",
    ):
        assert secret not in text, secret
    assert len(student.cells) == len(source.cells) - 1  # the markdown tagged 'solution'
    assert all("solution" not in c.get("metadata", {}).get("tags", []) for c in student.cells)


def test_signatures_docstrings_and_placeholders_are_pinned(student):
    by_start = {c.source.splitlines()[0]: c.source for c in student.cells if c.source}
    assert by_start["def responsibilities(x, pi, mu, sigma2):"] == (
        "def responsibilities(x, pi, mu, sigma2):\n"
        '    """Posterior probabilities p(k | x_i) of a 1-D Gaussian mixture, eq. (3.4).\n'
        "\n    Parameters\n    ----------\n    x : array, shape (n,)\n"
        '    """\n'
        '    raise NotImplementedError("01.fixture-function: your code here")'
    )
    assert by_start["em_cost = ..."] == 'em_cost = ...\ncheck("03.em-cost", em_cost)'
    assert by_start["posterior_1d = {"] == (
        'posterior_1d = {\n    "resp1": ...,\n    "pi1": ...,\n    "mu1": ...,\n'
        '    "sigma2_1": ...,\n}'
    )
    assert by_start["# exercise: 05.digits-dims"] == (
        "# exercise: 05.digits-dims\n%time _ = 1 + 1\ndigits_dims = ...  # your answer\n"
        'result = check("05.digits-dims", digits_dims)\nprint(result.status)'
    )
    assert by_start["fixture_value = ..."] == (
        'fixture_value = ...\n\n\ndef scaled(v):\n    """Docstring of a helper that stays."""\n'
        "    scale = ...\n    return v * scale"
    )


def test_outputs_cleared_only_on_exercise_and_check_cells(source, student):
    kept = next(c for c in student.cells if c.source == 'print("kept output")')
    assert kept.execution_count == 2
    assert kept.outputs[0]["text"] == "kept output\n"
    for cell in student.cells:
        if cell.cell_type == "code" and (
            "check(" in cell.source or "..." in cell.source or "NotImplementedError" in cell.source
        ):
            assert cell.outputs == [] and cell.execution_count is None
    assert "BEGIN SOLUTION" in student.cells[0].source  # untagged markdown is kept as is
    assert source == nbformat.read(FIXTURE, as_version=4)  # the input is not modified
    nbformat.validate(student)


def test_student_edition_runs_top_to_bottom_in_a_fresh_kernel(student):
    from nbclient import NotebookClient

    nb = copy.deepcopy(student)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    checks = {
        c.source.splitlines()[0]: c.outputs
        for c in nb.cells
        if c.cell_type == "code" and "check(" in c.source and "import" not in c.source
    }
    # check() shows its verdict once, where it is called, even as the last line of the cell.
    posterior = checks['check("03.posterior-1d", posterior_1d)']
    assert [o.output_type for o in posterior] == ["display_data"]
    assert posterior[0].data["text/plain"].splitlines()[1] == (
        "  · not attempted yet: `posterior_1d` is still `...`"
    )
    assert "emlib-check" in posterior[0].data["text/html"]
    digits = checks["# exercise: 05.digits-dims"]
    assert [o.output_type for o in digits].count("display_data") == 1  # %time prints too
    assert digits[-1].text.endswith("not-attempted\n")
    assert "not attempted yet" in checks["em_cost = ..."][0].data["text/plain"]
    again = next(c.outputs for c in nb.cells if c.source.startswith("result  #"))
    assert [o.output_type for o in again] == ["display_data"]
    shown = next(o for o in digits if o.output_type == "display_data")
    assert again[0].data["text/plain"] == shown.data["text/plain"]


def _notebook(*cells):
    return new_notebook(cells=list(cells))


FUNCTION_CELL = 'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION'
CHECK = new_code_cell('check("03.em-cost", f)')

MALFORMED = {
    "nested": (
        [
            new_code_cell(
                "def f(x):\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return x\n"
                "    # END SOLUTION\n    # END SOLUTION"
            ),
            CHECK,
        ],
        "bad.ipynb: cell 0, line 3: nested '# BEGIN SOLUTION': the block opened at line 2 is "
        "not closed. Fix: add '# END SOLUTION' before opening another block.",
    ),
    "end-without-begin": (
        [new_code_cell("def f(x):\n    return x\n    # END SOLUTION"), CHECK],
        "bad.ipynb: cell 0, line 3: '# END SOLUTION' without a '# BEGIN SOLUTION' above it in "
        "this cell. Fix: add the BEGIN marker or remove this line.",
    ),
    "begin-without-end": (
        [new_code_cell("def f(x):\n    # BEGIN SOLUTION\n    return x"), CHECK],
        "bad.ipynb: cell 0, line 2: '# BEGIN SOLUTION' is never closed in this cell. Fix: add "
        "'# END SOLUTION' after the last line of the solution.",
    ),
    "value-inside-block": (
        [
            new_code_cell(
                "def f(x):\n    # BEGIN SOLUTION\n    y = 1  # SOLUTION\n    return y\n"
                "    # END SOLUTION"
            ),
            CHECK,
        ],
        "bad.ipynb: cell 0, line 3: '# SOLUTION' inside the '# BEGIN SOLUTION' block opened at "
        "line 2. Fix: the block is removed whole; drop this marker.",
    ),
    "outside-any-exercise": (
        [new_markdown_cell("intro"), new_code_cell("x = 1  # SOLUTION"), new_code_cell("print(x)")],
        "bad.ipynb: cell 1: solution marker outside any exercise: no exercise id found. Fix: "
        "follow the cell with a check(\"NN.slug\", ...) cell, or add a '# exercise: NN.slug' "
        "comment or the cell tag 'exercise:NN.slug'.",
    ),
    "conflicting-ids": (
        [new_code_cell('# exercise: 03.em-cost\nx = 1  # SOLUTION\ncheck("05.digits-dims", x)')],
        "bad.ipynb: cell 0: conflicting exercise ids for one cell: '03.em-cost' from an "
        "'# exercise:' comment; '05.digits-dims' from the check(...) call in the cell. Fix: keep "
        "one id.",
    ),
    "unknown-id": (
        [new_code_cell("x = 1  # SOLUTION"), new_code_cell('check("03.no-such", x)')],
        "bad.ipynb: cell 0: unknown exercise id '03.no-such'. Fix: use an id that `emlib "
        "exercises` lists, or declare it in emlib/exercises/nb03.py.",
    ),
    "code-cell-tagged-solution": (
        [new_code_cell("x = 1", metadata={"tags": ["solution"]})],
        "bad.ipynb: cell 0: a code cell tagged 'solution'. Fix: mark the solution lines with "
        "'# BEGIN SOLUTION' / '# END SOLUTION' (or '# SOLUTION') and drop the tag.",
    ),
    "value-marker-not-on-assignment": (
        [new_code_cell("print(1)  # SOLUTION"), CHECK],
        "bad.ipynb: cell 0, line 1: '# SOLUTION' marks a value but this line is not an "
        "assignment. Fix: write 'name = value  # SOLUTION', or use '# BEGIN SOLUTION' / "
        "'# END SOLUTION'.",
    ),
    "function-block-at-top-level": (
        [
            new_code_cell("# BEGIN SOLUTION\ndef f(x):\n    return x\n# END SOLUTION"),
            new_code_cell('check("01.fixture-function", f)'),
        ],
        "bad.ipynb: cell 0, line 1: a '# BEGIN SOLUTION' block of a function exercise outside "
        "the function body. Fix: put the markers inside the function, below its docstring, so "
        "that the signature and docstring stay.",
    ),
    "continuation-line": (
        [new_code_cell("x = (1 +\n     2)  # SOLUTION"), CHECK],
        "bad.ipynb: cell 0, line 2: '# SOLUTION' on a continuation line of an assignment that "
        "does not hold exactly one dict entry 'key: value,'. Fix: put the marker on the first "
        "line (the whole value becomes ...) or on lines of one dict entry each.",
    ),
    "syntax-error": (
        [new_code_cell("x = (1  # SOLUTION"), CHECK],
        "bad.ipynb: cell 0, line 1: the cell does not parse as Python ('(' was never closed).",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_markers_stop_with_notebook_cell_and_line(case):
    cells, message = MALFORMED[case]
    with pytest.raises(StudentEditionError, match=re.escape(message)):
        make_student_notebook(_notebook(*cells), name="bad.ipynb", exercises=EXERCISES)


def test_function_block_inside_the_body_is_fine_and_indented_blocks_keep_indentation():
    nb = make_student_notebook(_notebook(new_code_cell(FUNCTION_CELL), CHECK), exercises=EXERCISES)
    assert nb.cells[0].source == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("03.em-cost: your code here")'
    )


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_write_student_edition_converts_everything_or_nothing(tmp_path, source):
    src, out = tmp_path / "notebooks", tmp_path / "student"
    good = _notebook(
        new_code_cell("answer = 3  # SOLUTION"), new_code_cell('check("05.digits-dims", answer)')
    )
    _write(src / "01_good.ipynb", good)
    _write(src / "sub" / "02_good.ipynb", good)
    _write(src / ".ipynb_checkpoints" / "01_good-checkpoint.ipynb", good)
    written = write_student_edition(src, out)
    assert [p.relative_to(out).as_posix() for p in written] == [
        "01_good.ipynb",
        "sub/02_good.ipynb",
    ]
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.cells[0].source == "answer = ..."
    assert not list(out.rglob("*.tmp"))

    _write(src / "03_bad.ipynb", _notebook(new_code_cell("x = 1  # SOLUTION")))
    fresh = tmp_path / "fresh"
    with pytest.raises(
        StudentEditionError,
        match=re.escape("03_bad.ipynb: cell 0: solution marker outside any exercise"),
    ):
        write_student_edition(src, fresh)
    assert not fresh.exists()


def test_write_student_edition_refuses_to_overwrite_the_source(tmp_path):
    with pytest.raises(
        ValueError, match=re.escape(f"--out {tmp_path} would overwrite the source notebooks.")
    ):
        write_student_edition(tmp_path, tmp_path)


def test_cli_student_and_its_error(tmp_path, capsys):
    src = tmp_path / "nb"
    _write(
        src / "a.ipynb",
        _notebook(
            new_code_cell("answer = 3  # SOLUTION"),
            new_code_cell('check("05.digits-dims", answer)'),
        ),
    )
    assert main(["student", str(src), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == f"wrote 1 student notebook(s) to {tmp_path / 'out'}\n"
    _write(
        src / "b.ipynb", _notebook(new_code_cell("def f():\n    # BEGIN SOLUTION\n    pass"), CHECK)
    )
    assert main(["student", str(src), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == (
        "emlib student: error: b.ipynb: cell 0, line 2: '# BEGIN SOLUTION' is never closed in "
        "this cell. Fix: add '# END SOLUTION' after the last line of the solution.\n"
    )


def test_cli_exercises_lists_every_exercise_and_the_total(capsys):
    assert main(["exercises"]) == 0
    lines = capsys.readouterr().out.splitlines()
    exercises = all_exercises()
    assert lines[0].split() == ["id", "notebook", "points", "kind", "title"]
    assert [line.split()[0] for line in lines[1:-1]] == [e.id for e in exercises]
    row = next(line for line in lines if line.startswith("05.digits-dims "))
    assert row.split()[1:4] == ["05", "3", "value"]
    total = sum(e.points for e in exercises)
    auto = sum(e.auto_points for e in exercises)
    assert (
        lines[-1] == f"{len(exercises)} exercises, {total:g} points in all ({auto:g} graded "
        "automatically)."
    )
    assert main(["exercises", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_points"] == total
    assert [r["id"] for r in data["exercises"]] == [e.id for e in exercises]


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=[p.name for p in COURSE_NOTEBOOKS])
def test_course_notebooks_have_a_student_edition(path):
    nb = make_student_notebook(nbformat.read(path, as_version=4), name=path.name)
    for cell in nb.cells:
        assert not re.search(r"#+\s*(BEGIN |END )?SOLUTION\s*$", cell.source, flags=re.M)
