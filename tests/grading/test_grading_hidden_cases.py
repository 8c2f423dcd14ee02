"""The hidden cases catch every declared mistake: each Mistake.variant of every exercise loses
points on the grader's hidden cases, whatever the seed (it may not pass the public check and
then score full marks at grading)."""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from emlib.exercises import all_exercises, get
from emlib.grading.protocol import SEED_REPEATS
from emlib.grading.score import Scorer

GRADED = [ex for ex in all_exercises() if ex.kind != "derivation"]
SEEDS = (0, 1, 2)
HEAVY = {"05.digits-fit"}  # EM on real digits per case: one seed


def _kernel_output(ex, answer, case):
    """What the kernel helper reports for one case: the output, or for a distribution its
    ``n_calls`` outputs and then the first seeds' outputs called again."""
    out = ex.run(answer, case) if ex.kind == "function" else answer()
    if ex.n_calls > 1:
        for j in range(min(ex.n_calls, SEED_REPEATS)):
            out.append(answer(*{**case, ex.seed_argument: case[ex.seed_argument] + j}.values()))
    return out


def _fraction(ex, scorer, variant, complete: bool = True) -> float:
    """The mean fraction a student whose answer is ``variant`` gets on the hidden cases, judged
    as the grader judges; with ``complete``, the parts of a record the variant leaves out are
    taken as right."""
    fractions = []
    with np.errstate(all="ignore"):
        for i, case in enumerate(scorer.cases[ex.id]):
            expected = scorer.expected(ex, i)
            try:
                out = _kernel_output(ex, variant, copy.deepcopy(case))
            except Exception:  # a student's function that raises scores 0 on that case
                fractions.append(0.0)
                continue
            if complete and isinstance(out, Mapping) and isinstance(expected, Mapping):
                out = {**expected, **out}  # the parts the mistake leaves alone are right
            fractions.append(scorer.judge(ex, i, out).fraction)
    return float(np.mean(fractions))


CASES = [pytest.param(ex, m, id=f"{ex.id}:{m.slug}") for ex in GRADED for m in ex.mistakes]


@pytest.fixture(scope="module")
def scorers():
    return {seed: Scorer(GRADED if seed == SEEDS[0] else [ex for ex in GRADED if ex.id not in HEAVY],
                         seed) for seed in SEEDS}


@pytest.mark.parametrize(("ex", "mistake"), CASES)
def test_every_declared_mistake_loses_points_on_the_hidden_cases(ex, mistake, scorers):
    for seed in SEEDS[:1] if ex.id in HEAVY else SEEDS:
        assert _fraction(ex, scorers[seed], mistake.variant) < 1.0, (
            f"{ex.id}: the mistake {mistake.slug!r} scores full marks on the hidden cases of "
            f"seed {seed}")


@pytest.mark.parametrize("ex", [pytest.param(ex, id=ex.id) for ex in GRADED
                                if ex.kind == "function"])
def test_every_generator_draws_its_cases_for_any_seed(ex):
    for seed in range(8):
        ex.hidden_cases(seed)


def _corpus():
    """The test corpus of students' mistakes (tests/exercises/mistake_corpus.py)."""
    folder = str(Path(__file__).resolve().parents[1] / "exercises")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("mistake_corpus").SLIPS


@pytest.mark.parametrize("slip", _corpus(), ids=lambda s: f"{s.exercise}:{s.what}"[:80])
def test_every_mistake_of_the_corpus_loses_points_on_the_hidden_cases(slip, scorers):
    """Every slip fails the public cases (tests/exercises/test_mistake_corpus.py), so grading
    must not give it full marks either."""
    ex = get(slip.exercise)
    answer = slip.answer if ex.kind == "function" else (lambda: slip.answer)
    assert _fraction(ex, scorers[SEEDS[0]], answer, complete=False) < 1.0, (
        f"{ex.id}: {slip.what!r} scores full marks on the hidden cases")
