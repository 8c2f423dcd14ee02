"""Hints: three per function exercise, progressively specific, never the answer, read back."""

import re
from pathlib import Path

import nbformat
import pytest

from emlib.exercises import all_exercises, check, get, hint
from emlib.exercises.hints import HINTS, Hint, hints_used

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
FUNCTION_IDS = [ex.id for ex in all_exercises() if ex.kind == "function"]


def _solution_lines(exercise_id: str) -> list[str]:
    """The solution lines of a function exercise in its source notebook (between the markers)."""
    ex = get(exercise_id)
    (path,) = NOTEBOOKS.glob(f"{ex.notebook}_*.ipynb")
    lines = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and re.search(rf"^def {ex.name}\(", cell.source, re.M):
            for block in re.findall(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", cell.source, re.S):
                lines += [line.strip() for line in block.splitlines()]
    return lines


def test_every_function_exercise_and_only_those_has_three_hints():
    assert sorted(HINTS) == sorted(FUNCTION_IDS)
    assert all(len(HINTS[i]) == 3 for i in FUNCTION_IDS)


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_no_hint_holds_a_line_of_the_solution(exercise_id):
    solution = [s for s in _solution_lines(exercise_id) if len(s) >= 12]
    assert solution, f"no solution block found for {exercise_id} in the source notebooks"
    for text in HINTS[exercise_id]:
        leaked = [s for s in solution if s in text]
        assert not leaked, f"a hint of {exercise_id} holds solution lines {leaked}"


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_the_second_hint_cites_the_exercise_equation_where_it_has_one(exercise_id):
    ex = get(exercise_id)
    if not ex.equation:
        pytest.skip(f"{exercise_id} cites no equation")
    first = ex.equation.split("-")[0]
    assert f"({first}" in HINTS[exercise_id][1] or f"({first})" in " ".join(HINTS[exercise_id])


def test_levels_reveal_progressively_and_say_what_comes_next():
    one, three = hint("03.e-step"), hint("03.e-step", 3)
    assert isinstance(one, Hint) and one.shown == HINTS["03.e-step"][:1]
    assert three.shown == HINTS["03.e-step"]
    assert repr(one).splitlines()[0] == (
        "03.e-step · The E-step for full covariances · hints 1 of 3"
    )
    assert 'A more specific hint: hint("03.e-step", 2).' in repr(one)
    assert "That was the last hint." in repr(three)
    assert "<ol><li>" in one._repr_html_() and "&quot;" not in one._repr_html_()[:60]


def test_a_hint_for_an_exercise_without_hints_says_what_to_do_instead():
    with pytest.raises(ValueError) as err:
        hint("03.tied-cov")
    assert str(err.value) == (
        "exercise '03.tied-cov' is a derivation exercise; hints are written for the function "
        'exercises. Fix: reread the notebook\'s equation (3.8) and try check("03.tied-cov", '
        "...), whose feedback names what it found."
    )


@pytest.mark.parametrize("level", [0, 4, 1.5, True, "2"])
def test_a_bad_level_is_refused_with_the_range(level):
    with pytest.raises(ValueError) as err:
        hint("04.lloyd-step", level)
    assert str(err.value) == (
        f"level must be an integer from 1 to 3 for '04.lloyd-step'; got {level!r}. "
        'Fix: hint("04.lloyd-step") for the first hint, hint("04.lloyd-step", 2) for the next.'
    )


def test_an_unknown_id_names_the_ids_of_its_notebook():
    with pytest.raises(KeyError, match=r"known ids include 03\.e-step"):
        hint("03.e-stpe")


def test_hints_used_reads_the_highest_level_per_exercise_from_code_cells():
    cells = [
        'hint("03.e-step")\nx = 1',
        'from emlib.exercises import hints\nhints.hint("03.e-step", 2)',
        'hint("04.lloyd-step", level=3)',
        'hint("05.bernoulli-e-step", 9)',  # clamped to the three that exist
        "hint(some_id, 2)",  # not a constant: nothing is counted
        'hint("03.tied-cov")',  # no hints: nothing to count
        "def broken(:",
    ]
    assert hints_used(cells) == {"03.e-step": 2, "04.lloyd-step": 3, "05.bernoulli-e-step": 3}
    assert hints_used(["x = 1"]) == {}


def test_the_student_edition_offers_the_hint_above_the_stub():
    from emlib.student_edition import make_student_notebook

    source = nbformat.read(NOTEBOOKS / "03_gmm_em.ipynb", as_version=4)
    student = make_student_notebook(source, name="03_gmm_em.ipynb")
    (cell,) = [c for c in student.cells if c.source.startswith("def e_step(")]
    assert cell.source.endswith(
        '    # Stuck before a first output? hint("03.e-step") shows a first hint.\n'
        '    raise NotImplementedError("03.e-step: your code here")'
    )
    imports = [c.source for c in student.cells if "from emlib.exercises import" in c.source]
    assert any("hint" in s for s in imports), "the notebook must import hint beside check"


def test_check_offers_the_hint_while_the_stub_still_raises():
    def e_step(X, pi, mu, Sigma):
        raise NotImplementedError("03.e-step: your code here")

    result = check("03.e-step", e_step)
    assert result.lines == [
        (
            "not-attempted",
            'not attempted yet: `e_step` still raises NotImplementedError; stuck? hint("03.e-step")'
            " shows a first hint",
        )
    ]


def test_the_grader_notes_the_hints_only_for_the_exercises_graded():
    from emlib.grading.batch import hint_notes

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('hint("03.e-step")\nhint("03.e-step", 2)'),
        nbformat.v4.new_markdown_cell('hint("03.m-step", 3)'),  # markdown: not a call
        nbformat.v4.new_code_cell('hint("04.lloyd-step", 3)'),
    ])
    graded = [get("03.e-step"), get("03.m-step")]
    assert hint_notes(nb, graded) == ["hints asked for: 03.e-step 2 of 3"]
    assert hint_notes(nb, [get("03.m-step")]) == []


def test_report_hints_is_an_option_of_emlib_grade_and_off_by_default():
    from emlib.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["grade", "s", "--out", "o"]).report_hints is False
    assert parser.parse_args(["grade", "s", "--out", "o", "--report-hints"]).report_hints is True
