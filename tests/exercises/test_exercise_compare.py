"""The comparators: tolerances, significant digits, relabelling, records, choices; messages that
never show the expected value; the Exercise declaration's own checks."""

import re

import numpy as np
import pytest
from _exercise_helpers import TEST_RESP
from scipy import stats

from emlib.datasets import five_points
from emlib.exercises import Exercise, Mistake, Verdict, equation_ref, get
from emlib.exercises.compare import (
    chi_square_p_value,
    choice_set,
    close,
    distribution_test,
    record,
    whole_number,
)


def test_close_significant_digits_accepts_a_rounded_answer_only():
    cmp = close(sig_digits=5)
    assert cmp(0.29421, 0.2942149745, {}).status == "ok"
    assert cmp(0.053403, 0.0534033312, {}).status == "ok"
    assert cmp(0.2943, 0.2942149745, {}).message == (
        "is not equal to the reference to 5 significant digits"
    )
    assert cmp(np.float64(0.2942149745), 0.2942149745, {}).status == "ok"
    assert cmp(np.array([0.29421]), 0.2942149745, {}).status == "ok"  # one-element array


def test_close_relabelling_and_messages_without_expected_values():
    expected = np.array([[0.123456, 0.876544], [0.654321, 0.345679]])
    cmp = close(component_axis=1)
    assert cmp(expected[:, ::-1], expected, {}).status == "ok"
    assert close()(expected[:, ::-1], expected, {}).status == "wrong"
    wrong = cmp(expected + 0.01, expected, {})
    assert wrong.message == (
        "4 of 4 entries are not equal to the reference within the tolerance (rtol=1e-06, "
        "atol=1e-09) (first at index (0, 0))"
    )
    for x in expected.ravel():
        assert f"{x:.3g}" not in wrong.message


def test_close_nan_in_a_variant_matches_nan_in_the_same_place():
    variant = np.array([0.5, np.nan])
    assert close()(np.array([0.5, np.nan]), variant, {}).status == "ok"
    assert close()(np.array([0.5, 0.5]), variant, {}).message == (
        "differs where the reference is infinite or undefined"
    )
    assert close()(np.array([np.inf, 1.0]), np.array([0.5, 0.5]), {}).message.startswith(
        "contains 1 NaN or infinite value(s) (first at index (0,))"
    )


def test_record_takes_dicts_tuples_and_objects_and_relabels_consistently():
    cmp = record({"pi": close(), "mu": close()}, component_axes={"mu": 0, "pi": 0})
    expected = {"pi": np.array([0.25, 0.75]), "mu": np.array([[0.0], [5.0]])}
    swapped = (np.array([0.75, 0.25]), np.array([[5.0], [0.0]]))
    assert cmp(swapped, expected, {}).status == "ok"
    inconsistent = {"pi": np.array([0.25, 0.75]), "mu": np.array([[5.0], [0.0]])}
    v = cmp(inconsistent, expected, {})
    assert (v.status, v.fraction) == ("partial", 0.5)
    assert v.message.startswith("pi: is 1 minus the reference: the complementary probability")

    class Params:
        pi = np.array([0.75, 0.25])
        mu = np.array([[5.0], [0.0]])

    assert cmp(Params(), expected, {}).status == "ok"
    assert cmp(3, expected, {}).message == (
        "expected a dict with keys pi, mu (or a tuple in that order); got int"
    )


def test_record_weights_missing_and_extra_keys():
    cmp = record({"a": close(), "b": close()}, weights={"a": 3.0})
    v = cmp({"a": 1.0, "c": 2.0}, {"a": 1.0, "b": 2.0}, {})
    assert v.fraction == 0.75
    assert v.message == "b: missing; unexpected key(s) 'c' ignored"
    v = cmp({"a": 1.0, "b": ...}, {"a": 1.0, "b": 2.0}, {})
    assert v.message == "b: not given yet (still `...`)"


def test_whole_number_and_choice_set_validate_the_answer():
    n = whole_number()
    assert n(1e5, 100000, {}).status == "ok"
    assert n(True, 1, {}).message == "expected a whole number; got True"
    assert n(784.5, 784, {}).message == "expected a whole number; got 784.5"
    choose = choice_set(("a", "b", "c"))
    assert choose({"a"}, {"a"}, {}).status == "ok"
    assert choose(("a", "b"), {"a"}, {}).fraction == pytest.approx(2 / 3)
    assert choose({"A"}, {"a"}, {}).status == "ok"  # case, parentheses, spaces are read away
    assert choose({"(a)", " b "}, {"a", "b"}, {}).status == "ok"
    assert choose({"a", "z"}, {"a"}, {}).message == (
        "unknown label(s) 'z'; the statements are labelled 'a', 'b', 'c'"
    )
    assert choose(None, {"a"}, {}).status == "wrong"


def test_posterior_1d_reference_matches_an_independent_computation():
    """Hand-worked eq. (3.4)-(3.9) with scipy.stats, against the lecture notes' numbers."""
    fp = five_points()
    dens = fp.pi * stats.norm.pdf(fp.x[:, None], fp.mu, np.sqrt(fp.sigma2))
    r1 = dens[:, 0] / dens.sum(axis=1)
    mu1 = np.sum(r1 * fp.x) / r1.sum()
    expected = {
        "resp1": r1,
        "pi1": r1.mean(),
        "mu1": mu1,
        "sigma2_1": np.sum(r1 * (fp.x - mu1) ** 2) / r1.sum(),
    }
    ref = get("03.posterior-1d").reference()
    for key, value in expected.items():
        np.testing.assert_allclose(ref[key], value, rtol=1e-12)
    lecture = {
        "resp1": [0.29421, 0.62246, 0.65135, 0.10669, 0.053403],
        "pi1": 0.34562,
        "mu1": -0.53733,
        "sigma2_1": 0.57579,
    }
    assert get("03.posterior-1d").judge(lecture, {}).status == "ok"


def test_judge_survives_a_broken_comparator_and_names_it():
    ex = Exercise(
        id="01.broken",
        title="t",
        points=1,
        kind="value",
        name="v",
        equation="1.1",
        reference=lambda: 1.0,
        compare=lambda a, e, i: 1 / 0,
    )
    v = ex.judge(1.0, {})
    assert v.status == "error"
    assert v.message.startswith("the checker could not compare this answer (ZeroDivisionError")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"id": "3.e-step"},
            "Exercise '3.e-step': the id must look like '03.e-step' (notebook, dot, slug).",
        ),
        (
            {"kind": "essay"},
            "Exercise '01.test-resp': kind 'essay' is not one of ('function', "
            "'value', 'choice', 'expression', 'derivation').",
        ),
        (
            {"variables": ("x",)},
            "Exercise '01.test-resp': an expression exercise, and only one, declares variables.",
        ),
        ({"points": 0}, "Exercise '01.test-resp': points must be a positive number; got 0."),
        (
            {"public_cases": ({"x": 1, "mu": 2},)},
            "Exercise '01.test-resp': public case 0 has "
            "keys ('x', 'mu'); expected the signature's parameters in order, ('x', 'pi', 'mu', "
            "'sigma2').",
        ),
        ({"generate": None}, "Exercise '01.test-resp': n_hidden=4 needs a generate(rng)."),
        (
            {"mistakes": TEST_RESP.mistakes[:1] * 2},
            "Exercise '01.test-resp': mistake slugs "
            "must be unique; got ['wrong-axis', 'wrong-axis'].",
        ),
    ],
)
def test_declaration_errors_are_pinned(changes, message):
    fields = {f: getattr(TEST_RESP, f) for f in TEST_RESP.__dataclass_fields__}
    with pytest.raises(ValueError, match=re.escape(message)):
        Exercise(**{**fields, **changes})


def test_verdict_and_equation_reference():
    with pytest.raises(
        ValueError, match=re.escape("Verdict fraction must lie in [0, 1]; got 1.5.")
    ):
        Verdict(1.5, "ok", "")
    assert Verdict.graded(0.5, "half").status == "partial"
    assert equation_ref("3.4") == "eq. (3.4) of notebook 03"
    assert equation_ref("3.4-3.9") == "eqs. (3.4)-(3.9) of notebook 03"
    m = Mistake("s", "a thing went wrong.", "5.1", lambda: None)
    assert m.feedback() == "Looks like a thing went wrong. See eq. (5.1) of notebook 05."


def _die_outcomes(outputs, inputs):
    if any(o not in range(inputs["faces"]) for o in outputs):
        return None, "a roll is not a face of the die"
    return list(outputs), ""


DIE = distribution_test(
    _die_outcomes,
    calls="rolls",
    law="a fair die",
    hint="every face is equally likely",
    invalid=lambda found: "a six came up" if 5 in found else "",
)


def test_distribution_test_accepts_the_law_and_rejects_another():
    rng = np.random.default_rng(0)
    fair = {face: 1 / 5 for face in range(5)}
    rolls = rng.integers(5, size=2000).tolist()
    assert DIE(rolls, fair, {"faces": 5}).message.startswith("correct: 2000 rolls follow a fair die")
    loaded = rng.choice(5, size=2000, p=[0.4, 0.15, 0.15, 0.15, 0.15]).tolist()
    verdict = DIE(loaded, fair, {"faces": 5})
    assert verdict.status == "wrong"
    assert "do not follow a fair die (chi-square test" in verdict.message
    assert verdict.message.endswith("every face is equally likely")
    assert DIE.fits(loaded, {0: 0.4, 1: 0.15, 2: 0.15, 3: 0.15, 4: 0.15}, {"faces": 5})
    assert not DIE.fits(loaded, fair, {"faces": 5})


def test_distribution_test_names_unreadable_and_impossible_outputs():
    fair = {face: 1 / 6 for face in range(6)}
    assert DIE(3, fair, {"faces": 6}).message == (
        "expected the outputs of several seeded calls (the checker's job)"
    )
    assert DIE([0, 9], fair, {"faces": 6}).message == "a roll is not a face of the die"
    assert DIE([0, 5, 1], fair, {"faces": 6}).message == "a six came up"
    assert chi_square_p_value([0, 1, 7], fair) == 0.0  # an outcome of probability 0
