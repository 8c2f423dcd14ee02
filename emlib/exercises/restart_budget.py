"""``06.restart-budget``: how many restarts make missing the best optimum unlikely.

``restarts_needed(p_good, confidence)`` returns the smallest whole number n of independent EM runs
such that at least one of them reaches the best optimum with probability at least
``confidence``, when each run does so with probability ``p_good``:

    1 - (1 - p_good)^n >= confidence,  so  n = ceil(ln(1 - confidence) / ln(1 - p_good)).

Eq. (6.6) of notebook 06 is the probability that all n runs miss, (1 - p_good)^n. Notebook 06
measures p_good (the share of random starts that end within 1 nat of the best run);
the exercise turns that share into a number of restarts, the reasoning behind ``n_init``. The
cases draw p_good and confidence from continuous ranges, so no case sits on the boundary where
the logarithms' rounding could decide between n and n + 1; the reference still counts exactly.
Declared in its own module so that ``nb06.py`` stays small; ``nb06.EXERCISES`` lists it.
"""

from __future__ import annotations

import math

import numpy as np

from .compare import whole_number
from .spec import Exercise, Mistake


def _restarts_needed(p_good, confidence) -> int:
    n = max(1, math.ceil(math.log1p(-confidence) / math.log1p(-p_good)))
    while n > 1 and 1 - (1 - p_good) ** (n - 1) >= confidence:  # the logs rounded up past a whole n
        n -= 1
    while 1 - (1 - p_good) ** n < confidence:  # ... or down below one
        n += 1
    return n


def _floor(p_good, confidence) -> int:
    return math.floor(math.log1p(-confidence) / math.log1p(-p_good))


def _log_of_p(p_good, confidence) -> int:
    return math.ceil(math.log(1 - confidence) / math.log(p_good))


def _expected_runs(p_good, confidence) -> int:
    return math.ceil(1 / p_good)


def _confidence_as_miss(p_good, confidence) -> int:
    return max(1, math.ceil(math.log(confidence) / math.log1p(-p_good)))


def _generate(rng: np.random.Generator) -> dict:
    return {"p_good": float(rng.uniform(0.05, 0.6)), "confidence": float(rng.uniform(0.9, 0.999))}


RESTART_BUDGET = Exercise(
    id="06.restart-budget",
    title="How many restarts: from a success rate to n_init",
    points=2,
    kind="function",
    name="restarts_needed",
    signature="restarts_needed(p_good, confidence)",
    equation="6.6",
    public_cases=(
        {"p_good": 0.42, "confidence": 0.99},
        {"p_good": 0.1, "confidence": 0.95},
        {"p_good": 0.73, "confidence": 0.9},
    ),
    generate=_generate,
    n_hidden=6,
    reference=_restarts_needed,
    compare=whole_number(),
    mistakes=(
        Mistake(
            "floor",
            "the count is rounded down; a fraction of a run does not exist, and rounding down "
            "leaves the chance of success below the confidence asked for: take the smallest "
            "whole n with 1 - (1 - p)^n >= confidence (round up).",
            "6.6",
            _floor,
        ),
        Mistake(
            "log-of-p",
            "the logarithm is of p, the chance that ONE run succeeds; all n runs miss with "
            "probability (1 - p)^n, so the denominator is ln(1 - p).",
            "6.6",
            _log_of_p,
        ),
        Mistake(
            "expected-runs",
            "1 / p is the expected number of runs until the first success; the question asks "
            "for enough runs that ALL of them miss with probability at most 1 - confidence.",
            "6.6",
            _expected_runs,
        ),
        Mistake(
            "confidence-as-miss",
            "the confidence was used as the chance of missing; the runs all miss with "
            "probability (1 - p)^n, which must be at most 1 - confidence.",
            "6.6",
            _confidence_as_miss,
        ),
    ),
)
