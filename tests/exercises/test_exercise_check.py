"""check(): never raises, reads stubs and placeholders as not attempted, shows the student's
line that raised, and prints a pinned format."""

import inspect
import sys

import numpy as np
import pytest
from _exercise_helpers import FAR, FIVE, TEST_RESP, reference, wrong_axis

from emlib.exercises import CheckResult, check, get

check_module = sys.modules["emlib.exercises.check"]
HEADER = "01.test-resp · Responsibilities in 1-D · 3 points"


def lines_of(result: CheckResult) -> list[str]:
    return repr(result).splitlines()


def test_correct_function_output_is_pinned(capsys):
    result = check(TEST_RESP, reference)
    assert lines_of(result) == [
        HEADER,
        "  ✓ case 1 (five points): correct",
        "  ✓ case 2 (a far point): correct",
        "  2/2 public cases passed: 3 of 3 points on these cases.",
    ]
    assert (result.status, result.earned, result.n_passed) == ("ok", 3.0, 2)
    # Outside IPython, in a script, check prints what it found.
    assert capsys.readouterr().out == repr(result) + "\n"


def test_stub_reads_as_not_attempted():
    def responsibilities(x, pi, mu, sigma2):
        """Docstring kept by the student edition."""
        raise NotImplementedError("01.test-resp: your code here")

    result = check(TEST_RESP, responsibilities)
    assert lines_of(result) == [
        HEADER,
        "  · not attempted yet: `responsibilities` still raises NotImplementedError",
        "  0/2 public cases passed: 0 of 3 points on these cases.",
    ]
    assert result.status == "not-attempted"


def test_ellipsis_reads_as_not_attempted():
    result = check("05.digits-dims", ...)
    assert lines_of(result)[1:] == [
        "  · not attempted yet: `digits_dims` is still `...`",
        "  0/1 public case passed: 0 of 3 points on these cases.",
    ]
    partly = check("03.posterior-1d", {"resp1": ..., "pi1": ..., "mu1": ..., "sigma2_1": ...})
    assert partly.status == "not-attempted"


def test_exception_shows_its_type_message_and_the_students_line():
    def responsibilities(x, pi, mu, sigma2):
        x = x[:, None] - mu
        raise ValueError("shapes do not match")

    line = inspect.getsourcelines(responsibilities)[1] + 2
    result = check(TEST_RESP, responsibilities)
    expected = (
        f"case 1 (five points): raised ValueError: shapes do not match (line {line} of your code, in "
        f'responsibilities: `raise ValueError("shapes do not match")`)'
    )
    assert result.lines[0] == ("error", expected)
    assert result.status == "error"


def test_exception_inside_a_library_points_at_the_students_call():
    def responsibilities(x, pi, mu, sigma2):
        return np.linalg.cholesky(-np.eye(2))

    line = inspect.getsourcelines(responsibilities)[1] + 1
    message = check(TEST_RESP, responsibilities).lines[0][1]
    assert message.startswith("case 1 (five points): raised LinAlgError: Matrix is not positive definite")
    assert message.endswith(
        f"(line {line} of your code, in responsibilities: `return np.linalg.cholesky(-np.eye(2))`)"
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda x, pi, mu, s: None, "got None: did the function forget to `return` its result?"),
        (lambda x, pi, mu, s: "resp", "expected numbers; got a str"),
        (lambda x, pi, mu, s: np.zeros((2, 7)), "has shape (2, 7); expected shape (5, 2)"),
        (
            lambda x, pi, mu, s: [[1, 2], [3]],
            "expected numbers; got a list numpy cannot read as floats",
        ),
        (lambda x, pi, mu, s: {"resp": 1}, "expected numbers; got a dict"),
        (
            lambda x, pi, mu, s: np.full((5, 2), np.nan),
            "contains 10 NaN or infinite value(s) "
            "(first at index (0, 0)): compute in log space, with log-sum-exp, so that far points "
            "stay finite",
        ),
        (
            lambda x, pi, mu, s: np.full((5, 2), 0.5),
            "10 of 10 entries are not equal to the "
            "reference within the tolerance (rtol=1e-06, atol=1e-09) (first at index (0, 0))",
        ),
    ],
    ids=["none", "str", "shape", "ragged", "dict", "nan", "values"],
)
def test_garbage_outputs_read_as_wrong_with_a_reason(answer, message):
    result = check(TEST_RESP, answer)
    assert result.lines[0] == ("wrong", f"case 1 (five points): {message}")
    assert result.earned == 0


def test_known_mistake_is_named_with_its_equation():
    result = check(TEST_RESP, wrong_axis)
    assert result.lines[0] == (
        "wrong",
        "case 1 (five points): Looks like the responsibilities are normalised over the samples instead of over "
        "the components. See eq. (3.4) of notebook 03.",
    )
    assert result.lines[1][1].startswith("case 2 (a far point): Looks like the responsibilities are normalised")


def test_far_point_without_logsumexp_is_diagnosed_only_where_it_breaks():
    from _exercise_helpers import no_logsumexp

    result = check(TEST_RESP, no_logsumexp)
    assert result.lines[0] == ("ok", "case 1 (five points): correct")
    assert "See eq. (3.10) of notebook 03." in result.lines[1][1]
    assert (result.status, result.earned) == ("partial", 1.5)


def test_relabelled_components_pass():
    result = check(TEST_RESP, lambda x, pi, mu, s: reference(x, pi[::-1], mu[::-1], s[::-1]))
    assert result.status == "ok"


def test_not_a_function_and_unknown_id():
    result = check(TEST_RESP, 3)
    assert result.lines == [
        ("wrong", "expected your function `responsibilities(x, pi, mu, sigma2)`; got int 3")
    ]
    unknown = check("03.no-such-exercise", 3)
    assert lines_of(unknown)[0] == "03.no-such-exercise · unknown exercise"
    assert lines_of(unknown)[1].startswith("  ✗ no exercise '03.no-such-exercise'; known ids ")
    assert lines_of(unknown)[2] == "  Nothing was checked."


def test_student_code_that_exits_or_loops_does_not_escape(monkeypatch):
    def exits(x, pi, mu, s):
        sys.exit(3)

    assert check(TEST_RESP, exits).lines[0][1].startswith("case 1 (five points): raised SystemExit: 3 (line ")

    def loops(x, pi, mu, s):
        while True:
            try:
                pass
            except Exception:  # a broad except must not swallow the time limit
                pass

    if sys.version_info < (3, 11):
        # CPython 3.10 never looks for a pending signal in a `while True:` loop whose body is a
        # try statement (no time limit, no kernel interrupt can stop it; fixed in 3.11): the same
        # broad except, in a loop that 3.10 does interrupt
        def loops(x, pi, mu, s):
            for _ in iter(int, 1):
                try:
                    pass
                except Exception:
                    pass

    monkeypatch.setattr(check_module, "TIME_LIMIT", 0.2)
    result = check(TEST_RESP, loops)
    assert result.lines[0] == ("error", "case 1 (five points): stopped after 0.2 s: is there an endless loop?")


def test_an_answer_that_mutates_its_inputs_changes_nothing():
    def mutating(x, pi, mu, sigma2):
        resp = reference(x, pi, mu, sigma2)
        x[:] = 0.0
        mu[:] = 99.0
        return resp

    assert check(TEST_RESP, mutating).status == "ok"
    assert FIVE["x"][0] == 0.2 and FAR["mu"][1] == 1.0


def test_an_object_that_breaks_numpy_conversion_is_wrong_not_a_crash():
    class Hostile:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("no")

        def __len__(self):
            raise RuntimeError("no")

    result = check(TEST_RESP, lambda *a: Hostile())
    assert result.lines[0] == (
        "wrong",
        "case 1 (five points): expected numbers; got a Hostile numpy cannot read as floats",
    )
    assert check(TEST_RESP, Hostile()).lines[0][1].startswith("expected your function")


def test_html_rendering_is_escaped_and_coloured():
    def responsibilities(x, pi, mu, sigma2):
        raise ValueError("<script>")

    html = check(TEST_RESP, responsibilities)._repr_html_()
    assert html.startswith('<div class="emlib-check"')
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "color:#cf222e" in html


def test_value_and_choice_feedback():
    result = check("05.digits-dims", {"K": 10, "n": 1e5, "d": 676})
    assert result.lines == [
        (
            "partial",
            "Looks like d = 676 = 26 x 26, but the images are 28 x 28 pixels: d = 28 x "
            "28 = 784, one Bernoulli variable x_j in {0, 1} per pixel. See eq. (5.1) of notebook 05.",
        )
    ]
    assert result.earned == 2.0
    cost = get("03.em-cost").judge({"a", "c"}, {})  # the grader's feedback names the mistake
    assert "O(nKd)" in cost.message and "O(nKd^2 + Kd^3)" in cost.message
    assert cost.fraction == pytest.approx(2 / 3)
    both = get("03.em-cost").judge(["a", "b", "c"], {}).message
    assert "you took (b) as true" in both and "you took (c) as true" in both
    withheld = check("03.em-cost", {"a", "c"})  # check itself says only "not yet"
    assert withheld.lines[0][1].startswith("not yet: at least one statement")
    assert (withheld.earned, withheld.withheld) == (0.0, True)
    assert withheld.summary == (
        "0/1 public case passed; the points, per statement, are counted at grading."
    )
    assert check("03.em-cost", "a").lines[0][1] == (
        "expected a set of labels such as {'a', 'b'}; got str 'a'"
    )
