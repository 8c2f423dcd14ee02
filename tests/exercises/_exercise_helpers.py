"""A function exercise declared the way notebook authors declare theirs, for the check() tests.

``01.test-resp``: the responsibilities of a 1-D Gaussian mixture, ``responsibilities(x, pi, mu,
sigma2)``, with three known mistakes (wrong axis, no log-sum-exp, standard deviation for variance).
It is not in the registry: check() accepts the Exercise object itself.
"""

import numpy as np

from emlib import reference as reference_layer
from emlib.exercises import Exercise, Mistake
from emlib.exercises.compare import close


def reference(x, pi, mu, sigma2):
    # emlib.reference, not the forbidden emlib.gmm.e_step: check() would flag the latter
    X = np.asarray(x, dtype=np.float64)[:, None]
    return reference_layer.e_step(X, pi, np.asarray(mu, dtype=np.float64)[:, None], sigma2, "spherical")[0]


def _joint(x, pi, mu, sigma2):
    """pi_k N(x_i | mu_k, sigma2_k) without logs: underflows to 0 for far points."""
    return pi * np.exp(-((x[:, None] - mu) ** 2) / (2 * sigma2)) / np.sqrt(2 * np.pi * sigma2)


def wrong_axis(x, pi, mu, sigma2):
    joint = _joint(x, pi, mu, sigma2)
    return joint / joint.sum(axis=0, keepdims=True)


def no_logsumexp(x, pi, mu, sigma2):
    joint = _joint(x, pi, mu, sigma2)
    with np.errstate(all="ignore"):
        return joint / joint.sum(axis=1, keepdims=True)


def std_for_variance(x, pi, mu, sigma2):
    return reference(x, pi, mu, np.asarray(sigma2) ** 2)


def generate(rng):
    K = int(rng.integers(2, 4))
    return {
        "x": rng.normal(0.0, 3.0, size=int(rng.integers(5, 12))),
        "pi": rng.dirichlet(np.ones(K)),
        "mu": rng.normal(0.0, 3.0, size=K),
        "sigma2": rng.uniform(0.5, 4.0, size=K),
    }


FIVE = {
    "x": np.array([0.2, -0.9, -1.0, 1.2, 1.8]),
    "pi": np.array([0.5, 0.5]),
    "mu": np.array([-3.0, 2.0]),
    "sigma2": np.array([4.0, 4.0]),
}
FAR = {
    "x": np.array([-1.0, 0.5, 60.0]),
    "pi": np.array([0.3, 0.7]),
    "mu": np.array([0.0, 1.0]),
    "sigma2": np.array([0.5, 2.0]),
}

TEST_RESP = Exercise(
    id="01.test-resp",
    title="Responsibilities in 1-D",
    points=3,
    kind="function",
    name="responsibilities",
    signature="responsibilities(x, pi, mu, sigma2)",
    equation="3.4",
    public_cases=(FIVE, FAR),
    case_names=("five points", "a far point"),
    generate=generate,
    n_hidden=4,
    reference=reference,
    compare=close(rtol=1e-6, atol=1e-9, component_axis=1),
    mistakes=(
        Mistake(
            "wrong-axis",
            "the responsibilities are normalised over the samples instead of over the components.",
            "3.4",
            wrong_axis,
        ),
        Mistake(
            "no-logsumexp",
            "the densities are summed without log-sum-exp, so a far point gives 0 / 0 = NaN.",
            "3.10",
            no_logsumexp,
        ),
        Mistake(
            "std-for-variance", "sigma2 was used as a standard deviation.", "3.1", std_for_variance
        ),
    ),
    forbidden=("emlib.gmm.e_step",),
)


def numbers_in(value) -> list[float]:
    """Every number inside an answer (arrays, dicts, tuples), flattened."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in numbers_in(v)]
    if isinstance(value, (tuple, list)) and not all(np.isscalar(v) for v in value):
        return [x for v in value for x in numbers_in(v)]
    if isinstance(value, (set, frozenset, str)):
        return []
    try:
        return [float(x) for x in np.ravel(np.asarray(value, dtype=np.float64))]
    except (TypeError, ValueError):
        return [float(x) for v in vars(value).values() for x in numbers_in(v)]


def renderings(x: float) -> list[str]:
    """How a non-trivial expected number could show in a message (4+ significant characters)."""
    if x == int(x) and abs(x) < 1e4:
        return []  # small whole numbers (K, shapes, indices) show up for other reasons
    forms = {f"{x:.4g}", f"{x:.5g}", f"{x:.6g}", f"{x:.4f}", repr(x)}
    return [f for f in forms if len(f.strip("-0.")) >= 3]
