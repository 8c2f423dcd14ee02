"""``05.digits-fit``: EM on real 28 x 28 digits, judged by the likelihood of held-out digits.

``fit_digits(X, X_test, pi, theta, a, b, n_iter)`` runs ``n_iter`` EM iterations of the Bernoulli
mixture (the student's own E-step (5.4) and MAP M-step (5.6)) from the start ``(pi, theta)`` on the
training images ``X`` and returns ``(pi, theta, test_log_p)``: the final parameters and the mean
held-out log-likelihood ``(1 / m) sum_i ln p(x_i)`` over the ``m`` images of ``X_test``, the
number notebook 05 uses to compare fits.

Every case is real MNIST digits from :func:`emlib.datasets.load_mnist_bits` (d = 784): the public
cases and the grader's hidden ones draw disjoint training and held-out images, so the held-out
number is an honest one. A fixed start and a fixed number of iterations make the answer a
deterministic function of the inputs: the student's code and the reference run on the same
machine, and ten MAP iterations from one start amplify no rounding difference beyond 1e-9.

Declared in its own module because of the data it loads; ``nb05.EXERCISES`` lists it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import reference
from ..datasets import load_mnist_bits
from .compare import close, record
from .spec import Exercise, Mistake


@lru_cache(maxsize=1)
def _digits() -> np.ndarray:
    return load_mnist_bits(return_labels=False)


def _draw_case(rng: np.random.Generator, n: int, m: int, K: int, a: float, b: float) -> dict:
    """n training and m held-out digits (disjoint), and a start: each theta_k a blurred image."""
    images = _digits()
    rows = rng.choice(len(images), size=n + m, replace=False)
    X, X_test = images[rows[:n]], images[rows[n:]]
    seeds = X[rng.choice(n, size=K, replace=False)]
    theta = 0.25 + 0.5 * seeds  # inside (0, 1): 0.75 where the seed image is on, 0.25 elsewhere
    return {
        "X": X,
        "X_test": X_test,
        "pi": np.full(K, 1.0 / K),
        "theta": theta,
        "a": a,
        "b": b,
        "n_iter": int(rng.integers(5, 11)),
    }


def _generate(rng: np.random.Generator) -> dict:
    a, b = (float(v) for v in rng.choice([1.5, 2.0, 3.0], size=2))
    K = int(rng.integers(3, 9))
    return _draw_case(rng, int(rng.integers(150, 301)), int(rng.integers(50, 101)), K, a, b)


def _mean_log_p(X_test, pi, theta) -> float:
    return reference.bernoulli_e_step(X_test, pi, theta)[1] / len(X_test)


def _fit(X, pi, theta, a, b, n_iter, m_step=reference.bernoulli_m_step):
    for _ in range(int(n_iter)):
        resp, _ = reference.bernoulli_e_step(X, pi, theta)
        pi, theta = m_step(X, resp, a, b)
    return pi, theta


def _fit_with(X, X_test, pi, theta, a, b, n_iter, m_step=reference.bernoulli_m_step) -> dict:
    pi, theta = _fit(X, pi, theta, a, b, n_iter, m_step)
    return {"pi": pi, "theta": theta, "test_log_p": _mean_log_p(X_test, pi, theta)}


def _fit_digits(X, X_test, pi, theta, a, b, n_iter) -> dict:
    return _fit_with(X, X_test, pi, theta, a, b, n_iter)


def _on_training(X, X_test, pi, theta, a, b, n_iter) -> dict:
    pi, theta = _fit(X, pi, theta, a, b, n_iter)
    return {"test_log_p": _mean_log_p(X, pi, theta)}


def _total(X, X_test, pi, theta, a, b, n_iter) -> dict:
    return {"test_log_p": _fit_digits(X, X_test, pi, theta, a, b, n_iter)["test_log_p"] * len(X_test)}


def _one_iteration_short(X, X_test, pi, theta, a, b, n_iter) -> dict:
    return _fit_digits(X, X_test, pi, theta, a, b, int(n_iter) - 1)


def _ab_swapped(X, X_test, pi, theta, a, b, n_iter) -> dict:
    return _fit_digits(X, X_test, pi, theta, b, a, n_iter)


def _hard(X, X_test, pi, theta, a, b, n_iter) -> dict:
    def hard_m_step(X, resp, a, b):
        return reference.bernoulli_m_step(X, np.eye(resp.shape[1])[resp.argmax(axis=1)], a, b)

    return _fit_with(X, X_test, pi, theta, a, b, n_iter, hard_m_step)


def _start_likelihood(X, X_test, pi, theta, a, b, n_iter) -> dict:
    return {"test_log_p": _mean_log_p(X_test, pi, theta)}


def _pi_fixed(X, X_test, pi, theta, a, b, n_iter) -> dict:
    def theta_only(X, resp, a, b):
        return pi, reference.bernoulli_m_step(X, resp, a, b).theta

    return _fit_with(X, X_test, pi, theta, a, b, n_iter, theta_only)


def _fit_on_both(X, X_test, pi, theta, a, b, n_iter) -> dict:
    pi, theta = _fit(np.vstack([X, X_test]), pi, theta, a, b, n_iter)
    return {"pi": pi, "theta": theta, "test_log_p": _mean_log_p(X_test, pi, theta)}


_PUBLIC_SEED = 2025

DIGITS_FIT = Exercise(
    id="05.digits-fit",
    title="EM on real 28 x 28 digits, judged on held-out digits",
    points=4,
    kind="function",
    name="fit_digits",
    signature="fit_digits(X, X_test, pi, theta, a, b, n_iter)",
    equation="5.4-5.6",
    public_cases=(
        _draw_case(np.random.default_rng(_PUBLIC_SEED), 200, 80, 4, 2.0, 2.0),
        _draw_case(np.random.default_rng(_PUBLIC_SEED + 1), 150, 60, 6, 1.5, 3.0),
    ),
    generate=_generate,
    n_hidden=3,
    reference=_fit_digits,
    compare=record(
        {"pi": close(1e-6, 1e-9), "theta": close(1e-6, 1e-9), "test_log_p": close(1e-8, 1e-8)},
        weights={"test_log_p": 2.0},
    ),
    mistakes=(
        Mistake(
            "training-likelihood",
            "test_log_p is the mean log-likelihood of the TRAINING images; a fit is judged on "
            "images it never saw: X_test.",
            "5.4",
            _on_training,
        ),
        Mistake(
            "total-not-mean",
            "test_log_p is the total over the held-out images; the exercise asks for the mean "
            "per image, (1 / m) sum_i ln p(x_i).",
            "5.4",
            _total,
        ),
        Mistake(
            "one-iteration-short",
            "the fit ran n_iter - 1 iterations; each of the n_iter iterations is one E-step "
            "followed by one M-step, starting from the (pi, theta) passed in.",
            "5.4",
            _one_iteration_short,
        ),
        Mistake(
            "prior-swapped",
            "a and b are swapped: a - 1 pseudo-counts of ones go to the numerator of (5.6), "
            "and a + b - 2 to the denominator.",
            "5.6",
            _ab_swapped,
        ),
        Mistake(
            "hard-assignment",
            "each image was given wholly to its most responsible component; the M-step weights "
            "every image by r_ik.",
            "5.5",
            _hard,
        ),
        Mistake(
            "start-likelihood",
            "test_log_p scores the start (pi, theta) passed in, not the fitted parameters the "
            "function returns.",
            "5.4",
            _start_likelihood,
        ),
        Mistake(
            "pi-fixed",
            "the weights stay at their start; the M-step updates pi_k = N_k / n too.",
            "3.5",
            _pi_fixed,
        ),
        Mistake(
            "fit-on-held-out",
            "the held-out images were used in the fit; they must stay unseen, or their "
            "likelihood says nothing about new digits.",
            "5.4",
            _fit_on_both,
        ),
    ),
    forbidden=(
        "emlib.bernoulli.BernoulliMixture",
        "emlib.BernoulliMixture",
        "emlib.bernoulli.e_step",
        "emlib.bernoulli.m_step",
        "emlib.reference.bernoulli_e_step",
        "emlib.reference.bernoulli_m_step",
    ),
)
