"""The hidden cases catch every declared mistake: each Mistake.variant of every exercise loses
points on the grader's hidden cases, whatever the seed (it may not pass the public check and
then score full marks at grading)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from emlib.exercises import all_exercises
from emlib.grading.score import Scorer

GRADED = [ex for ex in all_exercises() if ex.kind != "derivation"]
SEEDS = (0, 1, 2, 4)  # seed 3: see test_every_generator_draws_its_cases_for_any_seed
# Mistakes that some seeds' hidden cases miss: their generators lack the regime that shows them.
GAPS = {("02.e-step-kl", "no-logsumexp"), ("03.m-step", "spherical-without-d")}


def _fraction(ex, scorer, variant) -> float:
    """The mean fraction a student whose answer is ``variant`` gets on the hidden cases."""
    fractions = []
    with np.errstate(all="ignore"):
        for i, case in enumerate(scorer.cases[ex.id]):
            expected = scorer.expected(ex, i)
            try:
                out = ex.run(variant, case) if ex.kind == "function" else variant()
            except Exception:  # a student's function that raises scores 0 on that case
                fractions.append(0.0)
                continue
            if isinstance(out, Mapping) and isinstance(expected, Mapping):
                out = {**expected, **out}  # the parts the mistake leaves alone are right
            fractions.append(ex.judge(out, case, expected).fraction)
    return float(np.mean(fractions))


CASES = [pytest.param(ex, m, id=f"{ex.id}:{m.slug}", marks=[pytest.mark.xfail(
              strict=True, reason="the hidden cases lack the regime")] if (ex.id, m.slug) in GAPS
                       else []) for ex in GRADED for m in ex.mistakes]


@pytest.fixture(scope="module")
def scorers():
    return {seed: Scorer(GRADED, seed) for seed in SEEDS}


@pytest.mark.parametrize(("ex", "mistake"), CASES)
def test_every_declared_mistake_loses_points_on_the_hidden_cases(ex, mistake, scorers):
    for seed in SEEDS:
        assert _fraction(ex, scorers[seed], mistake.variant) < 1.0, (
            f"{ex.id}: the mistake {mistake.slug!r} scores full marks on the hidden cases of "
            f"seed {seed}")


@pytest.mark.parametrize("ex", [pytest.param(ex, id=ex.id, marks=[pytest.mark.xfail(
    strict=True, reason="seed 3 draws a covariance that is not positive definite")]
    if ex.id == "03.em-loop" else []) for ex in GRADED if ex.kind == "function"])
def test_every_generator_draws_its_cases_for_any_seed(ex):
    for seed in range(8):
        ex.hidden_cases(seed)
