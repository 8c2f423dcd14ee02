"""Expression answers through ``emlib grade``: read as text outside the sandbox, never run.

One small batch, in the bubblewrap sandbox: a right formula typed as a string, the same built with
SymPy, a diagnosed mistake, the untouched student edition, and hostile strings that would run code
or take forever if the grader evaluated them. Nothing they name may happen in the grader's process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _grading_helpers import code, notebook, require_bubblewrap, write

from emlib.grading.batch import GradeOptions, grade
from emlib.student_edition import make_student_notebook

EXERCISE = "03.pi-map"
IMPORTS = "from emlib.exercises import check, symbols"
RIGHT = 'pi_map = "(N_k + alpha - 1)/(n + K*(alpha - 1))"  # SOLUTION'
SYMPY = ('N_k, n, K, alpha = symbols("03.pi-map")\n'
         "pi_map = (N_k + alpha - 1) / (n + K * alpha - K)")
# A SymPy look-alike whose text is an attack: only the text crosses, and the text is not run.
IMPOSTOR = '''class Expr:
    __module__ = "sympy.core.expr"
    def __str__(self):
        return "__import__('os').system('touch {marker}')"
pi_map = Expr()'''
HOSTILE = {
    "runs-code": "pi_map = \"__import__('os').system('touch {marker}')\"",
    "opens-a-file": "pi_map = \"open('{marker}', 'w').write('x')\"",
    "huge-power": 'pi_map = "10**10**10"',
    "deep": 'pi_map = "' + "(" * 150 + "N_k" + ")" * 150 + '"',
    "impostor": IMPOSTOR,
}


def submission(answer: str):
    return notebook([code(IMPORTS), code(answer), code(f'check("{EXERCISE}", pi_map)')])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bubblewrap()
    root = tmp_path_factory.mktemp("expressions")
    marker = root / "pwned"
    subs = root / "subs"
    cases = {
        "right": submission(RIGHT),
        "sympy": submission(SYMPY),
        "mistake": submission('pi_map = "N_k/n"'),
        "student-edition": make_student_notebook(submission(RIGHT)),
        **{name: submission(src.format(marker=marker)) for name, src in HOSTILE.items()},
    }
    for name, nb in cases.items():
        write(subs / f"{name}.ipynb", nb)
    options = GradeOptions(out=root / "out", jobs=2, timeout=20, wall_seconds=240,
                           memory_mb=2048, sandbox="required", seed=7, exercises=(EXERCISE,),
                           quiet=True)
    rows = grade([subs], options)
    return {r.student: r.exercises[EXERCISE] for r in rows}, marker


def test_a_right_formula_gets_full_marks_typed_or_built_with_sympy(graded):
    results, _ = graded
    for student in ("right", "sympy"):
        assert results[student].status == "ok" and results[student].points == 2, student


def test_a_known_mistake_is_diagnosed(graded):
    results, _ = graded
    r = results["mistake"]
    assert r.status == "wrong" and r.points == 0 and r.mistakes == ["ml"]
    assert any("maximum-likelihood weight" in m for m in r.messages)


def test_the_student_edition_is_not_attempted(graded):
    results, _ = graded
    assert results["student-edition"].status == "not-attempted"


@pytest.mark.parametrize("student", list(HOSTILE))
def test_hostile_formulas_score_zero_and_do_nothing(graded, student):
    results, marker = graded
    r = results[student]
    assert r.status == "wrong" and r.points == 0, (r.status, r.messages)
    assert not Path(marker).exists()
