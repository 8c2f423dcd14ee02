"""Exercises of notebook 05 (Bernoulli mixtures and the digits).

``05.digits-dims`` (value): clustering 100,000 black-and-white 28 x 28 images of hand-written
digits into one cluster per digit with a Bernoulli mixture. The student gives a dict::

    digits_dims = {"K": ..., "n": ..., "d": ...}   # clusters, samples, Bernoulli variables

whole numbers (``1e5`` is accepted for 100000).

``05.bernoulli-e-step`` (function): ``bernoulli_e_step(X, pi, theta)`` returns
``(resp, log_likelihood)``: the responsibilities (n, K) of eq. (5.4) and the total
log-likelihood, computed in log space; a public case has d = 784 so that a product of pixel
probabilities underflows (the mistake is diagnosed).

``05.bernoulli-m-step`` (function): ``bernoulli_m_step(X, resp, a, b)`` returns ``(pi, theta)``,
the MAP M-step of eq. (5.6) with a Beta(a, b) prior (a = b = 1: maximum likelihood, eq. (5.5)).

``05.cluster-labels`` (function): ``label_clusters(train_clusters, train_y, test_clusters,
test_y, n_clusters)`` returns ``(labels, accuracy)``: the majority training label of every
cluster (ties to the smallest label, -1 for a cluster without training samples) and the
fraction of test samples whose cluster label is their true label.

``05.digits-fit`` (function): ``fit_digits(X, X_test, pi, theta, a, b, n_iter)``, EM on real
28 x 28 MNIST digits with the student's own steps, judged by the mean log-likelihood of held-out
digits; declared in :mod:`emlib.exercises.digits_fit`.
"""

from __future__ import annotations

import numpy as np

from .. import reference
from ..densities import log_bernoulli, logsumexp
from .compare import close, integers, record, whole_number
from .derived import MAP_SHRINKAGE
from .digits_fit import DIGITS_FIT
from .spec import Exercise, Mistake

IMAGE_SIDE = 28  # pixels per side of one image
N_IMAGES = 100_000
N_DIGITS = 10  # the digits 0-9


def _dims() -> dict:
    # One Bernoulli variable per pixel (eq. 5.1), one cluster per digit, one sample per image.
    return {"K": N_DIGITS, "n": N_IMAGES, "d": IMAGE_SIDE * IMAGE_SIDE}


DIGITS_DIMS = Exercise(
    id="05.digits-dims",
    title="Digits: the number of clusters K, samples n and dimensions d",
    points=3,
    kind="value",
    name="digits_dims",
    equation="5.1",
    reference=_dims,
    compare=record({"K": whole_number(), "n": whole_number(), "d": whole_number()}),
    mistakes=(
        Mistake(
            "d-676",
            "d = 676 = 26 x 26, but the images are 28 x 28 pixels: d = 28 x 28 = 784, one "
            "Bernoulli variable x_j in {0, 1} per pixel.",
            "5.1",
            lambda: {**_dims(), "d": 676},
        ),
        Mistake(
            "d-two-per-pixel",
            "each pixel was counted twice (black and white): a black-and-white pixel is one "
            "Bernoulli variable x_j in {0, 1}, so d is the number of pixels, 28 x 28.",
            "5.1",
            lambda: {**_dims(), "d": 2 * IMAGE_SIDE * IMAGE_SIDE},
        ),
        Mistake(
            "d-side",
            "d = 28 is one side of the image; every pixel is a dimension, d = 28 x 28.",
            "5.1",
            lambda: {**_dims(), "d": IMAGE_SIDE},
        ),
        Mistake(
            "k-pixel-values",
            "K = 2 counts the two pixel values; K counts the clusters, one per digit 0-9.",
            "5.4",
            lambda: {**_dims(), "K": 2},
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# 05.bernoulli-e-step, 05.bernoulli-m-step, 05.cluster-labels (added with notebook 05)
# ---------------------------------------------------------------------------------------------


def _bernoulli_e_step(X, pi, theta) -> dict:
    resp, ll = reference.bernoulli_e_step(X, pi, theta)
    return {"resp": resp, "log_likelihood": ll}


def _log_joint(X, pi, theta) -> np.ndarray:
    """ln pi_k + ln p(x_i | theta_k), shape (n, K), for the mistake variants."""
    return np.log(np.asarray(pi, dtype=np.float64)) + log_bernoulli(X, theta)


def _e_step_wrong_axis(X, pi, theta) -> dict:
    J = _log_joint(X, pi, theta)
    return {"resp": np.exp(J - logsumexp(J, axis=0, keepdims=True))}


def _e_step_no_weights(X, pi, theta) -> dict:
    K = np.shape(theta)[0]
    return {"resp": _bernoulli_e_step(X, np.full(K, 1.0 / K), theta)["resp"]}


def _e_step_mean_ll(X, pi, theta) -> dict:
    return {"log_likelihood": _bernoulli_e_step(X, pi, theta)["log_likelihood"] / len(X)}


def _e_step_product(X, pi, theta) -> dict:
    """Products of d probabilities, then Bayes' rule: 0 / 0 once the products underflow."""
    X = np.asarray(X, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    p = np.prod(np.where(X[:, None, :] == 1, theta[None], 1.0 - theta[None]), axis=2)
    joint = np.asarray(pi, dtype=np.float64) * p
    with np.errstate(divide="ignore", invalid="ignore"):
        total = joint.sum(axis=1)
        return {"resp": joint / total[:, None], "log_likelihood": float(np.log(total).sum())}


def _e_step_no_failure_term(X, pi, theta) -> dict:
    """ln p(x | theta) = sum_j x_j ln theta_j, the (1 - x_j) ln(1 - theta_j) term forgotten."""
    X = np.asarray(X, dtype=np.float64)
    J = np.log(np.asarray(pi, dtype=np.float64)) + X @ np.log(np.asarray(theta, dtype=np.float64)).T
    return {"resp": np.exp(J - logsumexp(J, axis=1, keepdims=True)),
            "log_likelihood": float(logsumexp(J, axis=1).sum())}


def _e_step_theta_swapped(X, pi, theta) -> dict:
    return _bernoulli_e_step(X, pi, 1.0 - np.asarray(theta, dtype=np.float64))


def _e_step_max_not_lse(X, pi, theta) -> dict:
    return {"log_likelihood": float(_log_joint(X, pi, theta).max(axis=1).sum())}


def _underflowed(answer, inputs) -> bool:
    """The answer has NaN or infinite parts where the log-space E-step is finite."""
    try:
        resp, ll = (
            (answer["resp"], answer["log_likelihood"]) if isinstance(answer, dict) else answer
        )
        resp = np.asarray(resp, dtype=np.float64)
        ll = float(ll)
    except (KeyError, TypeError, ValueError):
        return False
    return bool(not np.isfinite(resp).all() or not np.isfinite(ll))


def _random_theta(rng: np.random.Generator, K: int, d: int) -> np.ndarray:
    return rng.uniform(0.02, 0.98, size=(K, d))


def _generate_e_step(rng: np.random.Generator) -> dict:
    """Images of d = 784 pixels, as in the public underflow case: most drawn from a component,
    at least one a fair coin per pixel, far from every component, so that its product of
    pixel probabilities underflows (ln p(x_i | theta_k) is about -940 with theta_kj within
    0.2 of 0 or 1) and only a log-space E-step gets every case right."""
    K = int(rng.integers(2, 5))
    d = IMAGE_SIDE * IMAGE_SIDE
    n = int(rng.integers(5, 31))
    theta = np.where(rng.random((K, d)) < 0.5, rng.uniform(0.02, 0.2, (K, d)),
                     rng.uniform(0.8, 0.98, (K, d)))
    z = rng.integers(K, size=n)
    X = (rng.random((n, d)) < theta[z]).astype(np.float64)
    far = rng.random(n) < 0.3
    far[rng.integers(n)] = True
    X[far] = (rng.random((int(far.sum()), d)) < 0.5).astype(np.float64)
    return {"X": X, "pi": rng.dirichlet(np.full(K, 2.0)), "theta": theta}


def _underflow_case() -> dict:
    """d = 784 (a 28 x 28 image): every product of pixel probabilities underflows to 0.

    Each theta_kj is 0.1 or 0.9 and each pixel a fair coin, so ln p(x_i | theta_k) is about
    -944 +- 35, far below ln(smallest double) = -745.
    """
    rng = np.random.default_rng(784)
    theta = np.where(rng.random((3, 784)) < 0.5, 0.1, 0.9)
    X = (rng.random((6, 784)) < 0.5).astype(np.float64)
    return {"X": X, "pi": np.array([0.5, 0.3, 0.2]), "theta": theta}


_E_X = np.array(
    [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 0]], dtype=np.float64
)

BERNOULLI_E_STEP = Exercise(
    id="05.bernoulli-e-step",
    title="E-step of a Bernoulli mixture, in log space",
    points=4,
    kind="function",
    name="bernoulli_e_step",
    signature="bernoulli_e_step(X, pi, theta)",
    equation="5.4",
    public_cases=(
        {
            "X": _E_X,
            "pi": np.array([0.6, 0.4]),
            "theta": np.array([[0.8, 0.7, 0.2, 0.1], [0.3, 0.4, 0.9, 0.6]]),
        },
        _underflow_case(),
    ),
    generate=_generate_e_step,
    n_hidden=4,
    reference=_bernoulli_e_step,
    compare=record(
        {"resp": close(1e-6, 1e-9), "log_likelihood": close(1e-8, 1e-9)},
        weights={"resp": 2.0},
    ),
    mistakes=(
        Mistake(
            "underflow",
            "the products of d probabilities underflowed: with d = 784 pixels p(x_i | theta_k) "
            "is about e^-944, which is 0.0 in double precision, and Bayes' rule gives 0 / 0. "
            "Sum logs instead, ln p(x_i | theta_k) = sum_j x_ij ln theta_kj + (1 - x_ij) "
            "ln(1 - theta_kj), and normalise with log-sum-exp (eq. (3.10)).",
            "5.1",
            _e_step_product,
            matches=_underflowed,
        ),
        Mistake(
            "wrong-axis",
            "the responsibilities are normalised over the samples (each column sums to 1); "
            "r_ik divides by p(x_i), the sum over the components k, so each ROW sums to 1.",
            "5.4",
            _e_step_wrong_axis,
        ),
        Mistake(
            "no-weights",
            "the mixing weights pi_k are missing: the numerator of r_ik is "
            "pi_k p(x_i | theta_k), not p(x_i | theta_k) alone.",
            "5.4",
            _e_step_no_weights,
        ),
        Mistake(
            "no-failure-term",
            "ln p(x | theta_k) keeps sum_j x_j ln theta_kj but drops sum_j (1 - x_j) "
            "ln(1 - theta_kj): a white pixel (x_j = 0) is evidence too.",
            "5.1",
            _e_step_no_failure_term,
        ),
        Mistake(
            "theta-swapped",
            "theta and 1 - theta are swapped: theta_kj is the probability that pixel j is 1, "
            "so x_j = 1 contributes ln theta_kj.",
            "5.1",
            _e_step_theta_swapped,
        ),
        Mistake(
            "max-not-lse",
            "the log-likelihood sums the largest ln pi_k p(x_i | theta_k) of each row; "
            "ln p(x_i) is the log-SUM-exp over k, not the max.",
            "5.4",
            _e_step_max_not_lse,
        ),
        Mistake(
            "mean-log-likelihood",
            "the log-likelihood is averaged over the samples; the exercise asks for the total, "
            "sum_i ln p(x_i).",
            "5.4",
            _e_step_mean_ll,
        ),
    ),
    forbidden=(
        "emlib.bernoulli.e_step",
        "emlib.bernoulli._e_step",
        "emlib.bernoulli.BernoulliMixture",
        "emlib.densities.log_bernoulli",
        "emlib._fast.bernoulli.log_bernoulli",
        "emlib._fast.bernoulli.e_step",
        "emlib.reference.log_bernoulli",
        "emlib.reference.bernoulli_e_step",
        "scipy.stats.bernoulli",
    ),
)


def _bernoulli_m_step(X, resp, a, b) -> dict:
    params = reference.bernoulli_m_step(X, resp, a, b)
    return {"pi": params.pi, "theta": params.theta}


def _theta_from(X, resp, shift_num, shift_den, counts=None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    resp = np.asarray(resp, dtype=np.float64)
    N_k = resp.sum(axis=0) if counts is None else counts
    return (resp.T @ X + shift_num) / (N_k + shift_den)[:, None]


def _m_divide_by_n(X, resp, a, b) -> dict:
    n = np.shape(X)[0]
    K = np.shape(resp)[1]
    return {"theta": _theta_from(X, resp, a - 1.0, a + b - 2.0, counts=np.full(K, float(n)))}


def _m_no_prior(X, resp, a, b) -> dict:
    return {"theta": _theta_from(X, resp, 0.0, 0.0)}


def _m_laplace_shift(X, resp, a, b) -> dict:
    return {"theta": _theta_from(X, resp, a, a + b)}


def _m_hard(X, resp, a, b) -> dict:
    resp = np.asarray(resp, dtype=np.float64)
    hard = np.eye(resp.shape[1])[resp.argmax(axis=1)]
    return {"theta": _theta_from(X, hard, a - 1.0, a + b - 2.0)}


def _m_half_prior(X, resp, a, b) -> dict:
    return {"theta": _theta_from(X, resp, a - 1.0, a - 1.0)}


def _m_pi_counts(X, resp, a, b) -> dict:
    return {"pi": np.asarray(resp, dtype=np.float64).sum(axis=0)}


def _generate_m_step(rng: np.random.Generator) -> dict:
    K = int(rng.integers(2, 5))
    d = int(rng.integers(3, 13))
    n = int(rng.integers(10, 41))
    X = (rng.random((n, d)) < rng.uniform(0.1, 0.9, size=d)).astype(np.float64)
    resp = rng.dirichlet(np.full(K, 0.7), size=n)
    a, b = (float(v) for v in rng.choice([1.0, 1.5, 2.0, 3.0], size=2))
    return {"X": X, "resp": resp, "a": a, "b": b}


_M_X = np.array(
    [[1, 0, 1], [1, 1, 1], [0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.float64
)
_M_RESP = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.2, 0.8], [0.5, 0.5], [0.1, 0.9]])

BERNOULLI_M_STEP = Exercise(
    id="05.bernoulli-m-step",
    title="M-step of a Bernoulli mixture, with a Beta prior",
    points=3,
    kind="function",
    name="bernoulli_m_step",
    signature="bernoulli_m_step(X, resp, a, b)",
    equation="5.5-5.6",
    public_cases=(
        {"X": _M_X, "resp": _M_RESP, "a": 1.0, "b": 1.0},
        {"X": _M_X, "resp": _M_RESP, "a": 2.0, "b": 3.0},
    ),
    generate=_generate_m_step,
    n_hidden=4,
    reference=_bernoulli_m_step,
    compare=record({"pi": close(1e-9, 1e-12), "theta": close(1e-9, 1e-12)}, weights={"theta": 2.0}),
    mistakes=(
        Mistake(
            "divide-by-n",
            "theta_k is divided by n (plus the prior's terms) instead of N_k = sum_i r_ik, the "
            "effective number of samples of component k.",
            "5.5",
            _m_divide_by_n,
        ),
        Mistake(
            "no-prior",
            "the Beta(a, b) prior is ignored: the MAP update adds a - 1 to the numerator and "
            "a + b - 2 to the denominator.",
            "5.6",
            _m_no_prior,
        ),
        Mistake(
            "laplace-shift",
            "the update adds a and a + b (the posterior MEAN of a Beta); the M-step maximises, "
            "so it takes the posterior MODE: a - 1 and a + b - 2.",
            "5.6",
            _m_laplace_shift,
        ),
        Mistake(
            "half-prior",
            "the denominator adds only a - 1; the Beta(a, b) prior adds a - 1 pseudo-ones and "
            "b - 1 pseudo-zeros, so N_k + a + b - 2.",
            "5.6",
            _m_half_prior,
        ),
        Mistake(
            "hard-assignment",
            "each sample was given wholly to its most responsible component; the M-step weights "
            "every sample by r_ik.",
            "5.5",
            _m_hard,
        ),
        Mistake(
            "pi-unnormalised",
            "pi holds N_k = sum_i r_ik; the weights are N_k / n.",
            "3.5",
            _m_pi_counts,
        ),
    ),
    forbidden=(
        "emlib.bernoulli.m_step",
        "emlib.bernoulli._m_step",
        "emlib._fast.bernoulli.map_theta",
        "emlib.reference.bernoulli_m_step",
        "emlib.bernoulli.BernoulliMixture",
    ),
)


def _label_table(clusters, y, n_clusters: int, n_labels: int) -> np.ndarray:
    """Counts, shape (n_clusters, n_labels): how many samples of label c fell in cluster k."""
    table = np.zeros((n_clusters, n_labels), dtype=np.int64)
    np.add.at(table, (np.asarray(clusters, dtype=int), np.asarray(y, dtype=int)), 1)
    return table


def _majority(clusters, y, n_clusters: int, n_labels: int) -> np.ndarray:
    """Majority label of every cluster (ties: the smallest label), -1 for an empty cluster."""
    table = _label_table(clusters, y, n_clusters, n_labels)
    return np.where(table.sum(axis=1) > 0, table.argmax(axis=1), -1)


def _label_clusters(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    n_labels = int(max(np.max(train_y), np.max(test_y))) + 1
    labels = _majority(train_clusters, train_y, int(n_clusters), n_labels)
    predicted = labels[np.asarray(test_clusters, dtype=int)]
    return {"labels": labels, "accuracy": float(np.mean(predicted == np.asarray(test_y)))}


def _labels_no_mapping(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    labels = np.arange(int(n_clusters))
    return {
        "labels": labels,
        "accuracy": float(np.mean(labels[np.asarray(test_clusters)] == np.asarray(test_y))),
    }


def _labels_empty_zero(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    right = _label_clusters(train_clusters, train_y, test_clusters, test_y, n_clusters)
    labels = np.where(right["labels"] < 0, 0, right["labels"])
    predicted = labels[np.asarray(test_clusters, dtype=int)]
    return {"labels": labels, "accuracy": float(np.mean(predicted == np.asarray(test_y)))}


def _labels_from_test(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    return _label_clusters(test_clusters, test_y, test_clusters, test_y, n_clusters)


def _accuracy_on_train(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    right = _label_clusters(train_clusters, train_y, test_clusters, test_y, n_clusters)
    train_acc = np.mean(right["labels"][np.asarray(train_clusters)] == np.asarray(train_y))
    return {"accuracy": float(train_acc)}


def _accuracy_count(train_clusters, train_y, test_clusters, test_y, n_clusters) -> dict:
    right = _label_clusters(train_clusters, train_y, test_clusters, test_y, n_clusters)
    return {"accuracy": right["accuracy"] * len(test_y)}


def _generate_labels(rng: np.random.Generator) -> dict:
    n_labels = int(rng.integers(3, 11))
    K = int(rng.integers(2, 2 * n_labels + 1))
    home = rng.integers(n_labels, size=K)  # the label each cluster mostly holds

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        # Leave the last cluster out now and then, so that it can be empty in the training data.
        clusters = rng.integers(K - (rng.random() < 0.3), size=n)
        noisy = rng.random(n) < 0.3
        y = np.where(noisy, rng.integers(n_labels, size=n), home[clusters])
        return clusters, y

    train_c, train_y = draw(int(rng.integers(20, 80)))
    test_c, test_y = draw(int(rng.integers(10, 40)))
    return {
        "train_clusters": train_c,
        "train_y": train_y,
        "test_clusters": test_c,
        "test_y": test_y,
        "n_clusters": K,
    }


CLUSTER_LABELS = Exercise(
    id="05.cluster-labels",
    title="Clusters as a classifier: majority labels and held-out accuracy",
    points=3,
    kind="function",
    name="label_clusters",
    signature="label_clusters(train_clusters, train_y, test_clusters, test_y, n_clusters)",
    equation="5.4",
    public_cases=(
        {
            "train_clusters": np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 0]),
            "train_y": np.array([3, 3, 1, 0, 0, 2, 2, 1, 1, 3]),
            "test_clusters": np.array([0, 1, 2, 3, 0, 1]),
            "test_y": np.array([3, 0, 1, 1, 1, 2]),
            "n_clusters": 4,
        },
        _generate_labels(np.random.default_rng(5)),
    ),
    generate=_generate_labels,
    n_hidden=4,
    reference=_label_clusters,
    compare=record({"labels": integers(), "accuracy": close(1e-12, 1e-12)}),
    mistakes=(
        Mistake(
            "no-mapping",
            "the cluster numbers were used as digit labels; EM numbers its components in no "
            "particular order, so each cluster must first be given the majority label of its "
            "training samples.",
            "5.4",
            _labels_no_mapping,
        ),
        Mistake(
            "empty-label",
            "a cluster with no training sample got label 0 (np.argmax of an empty count); "
            "it has no majority, so its label is -1 and its test samples count as wrong.",
            "5.4",
            _labels_empty_zero,
        ),
        Mistake(
            "labels-from-test",
            "the clusters were labelled with the TEST labels, which the classifier may not see; "
            "take the majority among the training samples.",
            "5.9",
            _labels_from_test,
        ),
        Mistake(
            "train-accuracy",
            "the accuracy is measured on the training samples; the exercise asks for the held-out "
            "accuracy on the test samples.",
            "5.9",
            _accuracy_on_train,
        ),
        Mistake(
            "count-not-fraction",
            "the accuracy is a count of correct test samples; it is their fraction.",
            "5.9",
            _accuracy_count,
        ),
    ),
)

EXERCISES = (DIGITS_DIMS, BERNOULLI_E_STEP, BERNOULLI_M_STEP, CLUSTER_LABELS, DIGITS_FIT, MAP_SHRINKAGE)
