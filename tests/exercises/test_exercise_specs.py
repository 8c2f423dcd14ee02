"""Every exercise in the registry: its reference passes, its mistakes are diagnosed, its stub reads
as not attempted, its hidden cases are reproducible. Parametrised over ``all_exercises()``, so an
exercise a notebook author adds later is covered without touching this file."""

import numpy as np
import pytest
from _exercise_helpers import numbers_in, renderings

from emlib.exercises import KINDS, Exercise, all_exercises, check, get, total_points

EXERCISES = all_exercises()
IDS = [e.id for e in EXERCISES]
MISTAKES = [pytest.param(e, m, id=f"{e.id}:{m.slug}") for e in EXERCISES for m in e.mistakes]
GENERATORS = [e for e in EXERCISES if e.generate is not None]
SEEDS = (0, 20261125)


def stub(*args):
    raise NotImplementedError("not yet")


def wrong_answer(ex: Exercise, mistake):
    return mistake.variant if ex.kind == "function" else mistake.variant()


def all_cases(ex: Exercise):
    return [*ex.public_cases, *(c for s in SEEDS for c in ex.hidden_cases(s))]


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_model_answer_gets_full_marks_on_public_and_hidden_cases(ex):
    # (no wall-clock limit here: on a loaded machine any such limit fails at random; how long
    # a notebook's checks take shows in `make bench`, which times every notebook)
    result = check(ex.id, ex.model_answer())
    assert result.status == "ok", repr(result)
    assert result.n_passed == result.n_cases == len(ex.public_cases)
    assert result.earned == ex.auto_points
    for case in all_cases(ex):
        verdict = ex.judge(ex.run(ex.model_answer(), case), case)
        assert (verdict.status, verdict.fraction) == ("ok", 1.0), verdict.message


@pytest.mark.parametrize(("ex", "mistake"), MISTAKES)
def test_every_wrong_variant_is_caught_and_diagnosed(ex, mistake):
    answer = wrong_answer(ex, mistake)
    verdicts = [ex.judge(ex.run(answer, case), case) for case in ex.public_cases]
    assert any(v.status != "ok" for v in verdicts), "the variant passes every public case"
    diagnosed = [v for v in verdicts if mistake.feedback() in v.message]
    assert diagnosed, [v.message for v in verdicts]
    assert all(v.fraction < 1.0 for v in diagnosed)
    assert f"eq. ({mistake.equation.split('-')[0]})" in diagnosed[0].message or (
        f"eqs. ({mistake.equation.split('-')[0]})" in diagnosed[0].message
    )
    result = check(ex.id, answer)
    assert result.status in ("wrong", "partial")
    if ex.kind == "choice":  # check says only "not yet"; the grader's feedback names the mistake
        assert result.lines[0][1].startswith("not yet: at least one statement")
    else:
        assert any(mistake.feedback() in text for _, text in result.lines)


@pytest.mark.parametrize(("ex", "mistake"), MISTAKES)
def test_variant_feedback_on_hidden_cases_never_shows_an_expected_value(ex, mistake):
    answer = wrong_answer(ex, mistake)
    for case in (c for s in SEEDS for c in ex.hidden_cases(s)):
        verdict = ex.judge(ex.run(answer, case), case)
        for x in numbers_in(ex.expected(case)):
            for form in renderings(x):
                assert form not in verdict.message, (form, verdict.message)


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_stub_or_placeholder_reads_as_not_attempted(ex):
    answer = stub if ex.kind == "function" else ...
    result = check(ex.id, answer)
    assert result.status == "not-attempted"
    assert result.earned == 0
    assert result.lines[0][1].startswith("not attempted yet")


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_hidden_cases_are_deterministic_for_a_seed(ex):
    if ex.generate is None:
        assert ex.kind != "function" or ex.n_hidden == 0
        assert ex.hidden_cases(0) == ()
        return
    first, again, other = ex.hidden_cases(7), ex.hidden_cases(7), ex.hidden_cases(8)
    assert len(first) == ex.n_hidden > 0
    np.testing.assert_equal(first, again)
    with pytest.raises(AssertionError):
        np.testing.assert_equal(first, other)


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_declaration_is_complete(ex):
    assert ex.kind in KINDS
    assert get(ex.id) is ex
    assert ex.title and ex.equation
    if ex.kind == "function":
        for case in ex.public_cases:
            assert tuple(case) == ex.parameters
    if ex.kind == "choice":
        assert set(ex.reference()) <= set(ex.choices)


def test_registry_is_in_course_order_with_unique_ids():
    assert len(set(IDS)) == len(IDS)
    notebooks = [e.notebook for e in EXERCISES]
    assert notebooks == sorted(notebooks)
    assert total_points() == sum(e.points for e in EXERCISES)
    assert {"03.posterior-1d", "03.em-cost", "05.digits-dims"} <= set(IDS)


def test_the_digit_fit_cases_are_real_digits_with_disjoint_held_out_images():
    from emlib.datasets import load_mnist_bits

    images = {row.tobytes() for row in load_mnist_bits(return_labels=False)}
    ex = get("05.digits-fit")
    for case in (*ex.public_cases, *ex.hidden_cases(seed=7)):
        X, X_test, theta = case["X"], case["X_test"], case["theta"]
        assert X.shape[1] == X_test.shape[1] == theta.shape[1] == 784
        train, held_out = {r.tobytes() for r in X}, {r.tobytes() for r in X_test}
        assert train <= images and held_out <= images
        assert not train & held_out, "a held-out image is also a training image"
        assert ((theta > 0) & (theta < 1)).all() and case["pi"].sum() == pytest.approx(1.0)
