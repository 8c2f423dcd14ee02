"""Exercises of notebook 01 (Jensen's inequality).

``01.jensen-gap`` (function): ``log_jensen_gap(weights, points)``, the gap
``ln E[X] - E[ln X]`` of eq. (1.4), i.e. the Jensen gap (1.3) of the convex ``f = -ln``.

``01.gap-sign`` (choice): for which functions the gap ``E[f(X)] - f(E[X])`` is >= 0 for every
finite distribution on the stated domain.

``01.zero-gap`` (value): weights on the points (0, 1, 3, 5) with mean 4 for which the hinge
``f(x) = max(0, x - 2)`` has a zero Jensen gap.

``01.kl-nonneg`` (derivation): prove KL(p || q) >= 0 from eq. (1.4); the numeric consequence is
the intermediate bound ``KL(p || q) >= -ln sum_{x : p(x) > 0} q(x)`` for the p, q of the notebook.

``01.kl-nonneg-formula`` (expression): KL of two Bernoulli distributions written out, in ``p``
and ``q``, the automatic part of ``01.kl-nonneg``.

``01.square-gap`` (expression): Jensen's gap of x² at two points, in ``alpha``, ``x``, ``y``.

Both expression exercises are declared in :mod:`emlib.exercises.derived`.
"""

from __future__ import annotations

import numpy as np

from .. import bounds
from .compare import choice_set, close
from .derived import KL_BERNOULLI, SQUARE_GAP
from .spec import Exercise, Mistake, Verdict

# -- 01.jensen-gap ------------------------------------------------------------------------------


def _neg_log(x):
    return -np.log(x)


def _log_gap(weights, points):
    """``ln E[X] - E[ln X]``: the Jensen gap of ``-ln`` (eqs. (1.3)-(1.4))."""
    return bounds.jensen_gap(_neg_log, weights, points)


def _flipped(weights, points):
    return -_log_gap(weights, points)


def _unweighted(weights, points):
    points = np.asarray(points, dtype=np.float64)
    return _log_gap(np.full(points.shape, 1.0 / points.size), points)


def _log10(weights, points):
    return _log_gap(weights, points) / np.log(10.0)


def _generate_gap(rng: np.random.Generator) -> dict:
    m = int(rng.integers(2, 9))
    weights = rng.dirichlet(np.ones(m))
    if rng.random() < 0.3:  # some outcomes with probability zero
        weights[rng.random(m) < 0.3] = 0.0
        if weights.sum() == 0:
            weights[0] = 1.0
        weights /= weights.sum()
    points = rng.lognormal(0.0, 1.0, m)
    return {"weights": weights, "points": points}


JENSEN_GAP = Exercise(
    id="01.jensen-gap",
    title="The Jensen gap of the logarithm, ln E[X] - E[ln X]",
    points=3,
    kind="function",
    name="log_jensen_gap",
    signature="log_jensen_gap(weights, points)",
    equation="1.4",
    reference=_log_gap,
    compare=close(rtol=1e-9, atol=1e-12),
    public_cases=(
        {"weights": np.array([0.5, 0.5]), "points": np.array([1.0, 4.0])},
        {"weights": np.array([0.2, 0.3, 0.5]), "points": np.array([0.5, 2.0, 8.0])},
        {"weights": np.array([0.0, 1.0, 0.0]), "points": np.array([3.0, 5.0, 7.0])},
        {"weights": np.array([0.7, 0.1, 0.1, 0.1]), "points": np.array([1.0, 10.0, 100.0, 1e3])},
    ),
    case_names=("two points", "three points", "all weight on one point", "points over 3 decades"),
    generate=_generate_gap,
    n_hidden=8,
    mistakes=(
        Mistake(
            "flipped-sign",
            "the gap has the wrong sign: ln is concave, so ln E[X] >= E[ln X] and the gap "
            "ln E[X] - E[ln X] is never negative.",
            "1.4",
            _flipped,
        ),
        Mistake(
            "unweighted",
            "the points were averaged with equal weights (np.mean): E[X] = sum_i w_i x_i uses "
            "the probabilities w_i.",
            "1.2",
            _unweighted,
        ),
        Mistake(
            "no-second-term",
            "this is ln E[X] alone: the gap subtracts E[ln X] = sum_i w_i ln x_i from it.",
            "1.4",
            lambda weights, points: float(np.log(np.asarray(weights) @ np.asarray(points))),
        ),
        Mistake(
            "log10",
            "the logarithm is base 10 (np.log10); the course's ln is the natural logarithm, "
            "np.log.",
            "1.4",
            _log10,
        ),
    ),
    forbidden=("emlib.bounds.jensen_gap", "emlib.jensen_gap", "emlib.reference.jensen_gap"),
)

# -- 01.gap-sign --------------------------------------------------------------------------------

GAP_SIGN_CHOICES = {
    "a": "f(x) = exp(-x) on the real line",
    "b": "f(x) = ln x on x > 0",
    "c": "f(x) = x^3 on the real line",
    "d": "f(x) = x ln x on x > 0",
    "e": "f(x) = max(x, 0) on the real line",
    "f": "f(x) = sqrt(x) on x >= 0",
}

GAP_SIGN = Exercise(
    id="01.gap-sign",
    title="For which f is E[f(X)] - f(E[X]) >= 0 for every distribution?",
    points=3,
    kind="choice",
    name="gap_nonnegative",
    equation="1.2",
    choices=GAP_SIGN_CHOICES,
    reference=lambda: frozenset({"a", "d", "e"}),
    compare=choice_set(tuple(GAP_SIGN_CHOICES)),
    mistakes=(
        Mistake(
            "concave-as-convex",
            "a concave function was chosen ((b) ln x or (f) sqrt(x), both with f'' < 0): for "
            "them the gap is <= 0, the direction of eq. (1.4).",
            "1.2",
            lambda: {"a", "b", "d", "e", "f"},
            matches=lambda answer, inputs: bool({"b", "f"} & set(answer)),
        ),
        Mistake(
            "cubic-everywhere",
            "(c) was chosen: x^3 is convex only for x >= 0 (f'' = 6x). For X = -2 or 0 with "
            "equal probability, E[X^3] = -4 but (E[X])^3 = -1, a negative gap.",
            "1.1",
            lambda: {"a", "c", "d", "e"},
            matches=lambda answer, inputs: "c" in answer,
        ),
        Mistake(
            "kink-not-convex",
            "(e) was left out: max(x, 0) has a kink at 0 but satisfies the chord inequality "
            "(1.1); a maximum of affine functions is convex.",
            "1.1",
            lambda: {"a", "d"},
            matches=lambda answer, inputs: "e" not in answer,
        ),
    ),
)

# -- 01.zero-gap --------------------------------------------------------------------------------

ZERO_GAP_POINTS = np.array([0.0, 1.0, 3.0, 5.0])
ZERO_GAP_MEAN = 4.0
ZERO_GAP_KINK = 2.0


def _hinge(x):
    return np.maximum(0.0, np.asarray(x, dtype=np.float64) - ZERO_GAP_KINK)


def _zero_gap_weights() -> np.ndarray:
    """The weights with mean 4 whose support lies where the hinge is affine (x >= 2).

    Zero gap needs f affine on the hull of the support (notebook 01, section 3); with the mean
    at 4 the support must avoid the kink at 2, so only the points 3 and 5 can carry mass, and
    the two equations sum w = 1, sum w x = 4 fix their weights.
    """
    right = ZERO_GAP_POINTS >= ZERO_GAP_KINK
    A = np.vstack([np.ones(right.sum()), ZERO_GAP_POINTS[right]])
    w = np.zeros_like(ZERO_GAP_POINTS)
    w[right] = np.linalg.solve(A, np.array([1.0, ZERO_GAP_MEAN]))
    return w


_CLOSE_WEIGHTS = close(rtol=0.0, atol=1e-6)


def _compare_zero_gap(answer, expected, inputs=None) -> Verdict:
    """Equal to the reference weights; otherwise say which condition the weights break."""
    verdict = _CLOSE_WEIGHTS(answer, expected, inputs)
    if verdict.status == "ok":
        return verdict
    try:
        w = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return verdict
    if w.shape != ZERO_GAP_POINTS.shape or not np.isfinite(w).all():
        return verdict  # the comparator's message already says what is wrong with it
    if (w < -1e-12).any() or abs(w.sum() - 1.0) > 1e-6:
        return Verdict.wrong(
            f"these are not probabilities: they must be >= 0 and sum to 1 (they sum to "
            f"{w.sum():.6g})"
        )
    mean = float(w @ ZERO_GAP_POINTS)
    if abs(mean - ZERO_GAP_MEAN) > 1e-6:
        return Verdict.wrong(f"E[X] = {mean:.6g} with these weights; the exercise asks for 4")
    gap = bounds.jensen_gap(
        _hinge, np.clip(w, 0.0, None) / np.clip(w, 0.0, None).sum(), ZERO_GAP_POINTS
    )
    return Verdict.wrong(
        f"E[X] = 4, but the gap is {gap:.4g} > 0: some probability sits left of the kink at 2, "
        f"so f is not one affine function on the hull of the support"
    )


ZERO_GAP = Exercise(
    id="01.zero-gap",
    title="A distribution whose Jensen gap vanishes though f is not affine",
    points=2,
    kind="value",
    name="zero_gap_weights",
    equation="1.3",
    reference=_zero_gap_weights,
    compare=_compare_zero_gap,
    mistakes=(
        Mistake(
            "uniform",
            "these are equal weights; their mean is 2.25, not 4, and the support straddles the "
            "kink at 2.",
            "1.3",
            lambda: np.full(4, 0.25),
        ),
    ),
)

# -- 01.kl-nonneg -------------------------------------------------------------------------------

KL_P = np.array([0.5, 0.5, 0.0, 0.0])
KL_Q = np.array([0.1, 0.3, 0.4, 0.2])


def _kl_support_bound() -> float:
    """``-ln sum_{x: p(x) > 0} q(x)``: where the Jensen step of the proof of (1.5) lands."""
    return float(-np.log(KL_Q[KL_P > 0].sum()))


KL_NONNEG = Exercise(
    id="01.kl-nonneg",
    title="Prove KL(p || q) >= 0 from Jensen's inequality",
    points=4,
    kind="derivation",
    name="kl_support_bound",
    equation="1.5",
    reference=_kl_support_bound,
    compare=close(rtol=1e-6, atol=1e-9),
    mistakes=(
        Mistake(
            "whole-sum",
            "the sum of q ran over every outcome (giving -ln 1 = 0); in the proof it runs only "
            "over the outcomes with p(x) > 0, where the ratio q(x) / p(x) is defined.",
            "1.5",
            lambda: 0.0,
        ),
        Mistake(
            "sign",
            "the sign is flipped: the bound is -ln of the sum, which is >= 0 because the sum is "
            "at most 1.",
            "1.5",
            lambda: -_kl_support_bound(),
        ),
        Mistake(
            "kl-itself",
            "this is KL(p || q) itself; the exercise asks for the lower bound on it that the "
            "Jensen step gives, -ln of the sum of q over the support of p.",
            "1.5",
            lambda: float(bounds.kl(KL_P[None], np.log(KL_Q)[None])),
        ),
    ),
)

EXERCISES = (JENSEN_GAP, GAP_SIGN, ZERO_GAP, KL_NONNEG, KL_BERNOULLI, SQUARE_GAP)
