"""Exercises of notebook 02 (latent variables, the ELBO and the KL decomposition).

``02.elbo-kl`` (function): ``elbo_kl(q, log_joint) -> (L, KL)``, eqs. (2.2)-(2.3), whose sum must
be ``ln p(X | theta)`` (eq. (2.4)).

``02.e-step-kl`` (function): ``e_step_q(log_joint) -> q``, the posterior of eq. (2.5), computed in
log space; with it KL(q || p(Z | X, theta)) = 0.

``02.em-statements`` (choice): true statements about the bound, the E-step and the M-step.

``02.em-gain`` (value): on the five points of ``EM_GAIN_X`` and the start ``EM_GAIN_THETA0``, one
EM step raises ln p by ``bound_gain + kl_new``; the student gives both parts.

``02.monotonicity`` (derivation): the chain (2.7); the numeric consequence is the log-likelihood
path of five EM iterations on the same data, ``loglik_path`` (6 numbers, non-decreasing).

``02.elbo-at-posterior`` (expression): L(q, theta) of eq. (2.2) at the posterior (2.5), for one
sample and two components with joint terms ``a`` and ``b``; declared in
:mod:`emlib.exercises.derived`.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import bounds, reference
from ..densities import logsumexp
from ..em import run_em
from .compare import choice_set, close, record
from .derived import ELBO_AT_POSTERIOR
from .spec import Exercise, Mistake, Verdict

# -- shared helpers -----------------------------------------------------------------------------


def _posterior(log_joint) -> np.ndarray:
    """``p(z_i = k | x_i, theta)`` from ``ln p(x_i, z_i = k | theta)``, eq. (2.5), in log space."""
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))


def _log_posterior(log_joint) -> np.ndarray:
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return log_joint - logsumexp(log_joint, axis=1, keepdims=True)


def _with_zeros(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """Set some entries of each row of ``q`` to exactly 0 (keeping one positive) and renormalise."""
    q = q.copy()
    drop = rng.random(q.shape) < 0.3
    drop[np.arange(q.shape[0]), rng.integers(0, q.shape[1], q.shape[0])] = False
    q[drop] = 0.0
    return q / q.sum(axis=1, keepdims=True)


# -- 02.elbo-kl ---------------------------------------------------------------------------------


def _elbo_kl(q, log_joint) -> dict:
    d = bounds.decompose(q, log_joint)
    return {"elbo": d.elbo, "kl": d.kl}


def _q_term_only(q, log_joint) -> dict:
    """The student computed Q = sum q ln p(x, z) and forgot the entropy of q."""
    q = np.asarray(q, dtype=np.float64)
    return {"elbo": float((q * np.asarray(log_joint)).sum()), "kl": _elbo_kl(q, log_joint)["kl"]}


def _kl_reversed(q, log_joint) -> dict:
    """KL(p || q) instead of KL(q || p)."""
    post = _posterior(log_joint)
    with np.errstate(divide="ignore"):
        kl = float(bounds.kl(post, np.log(np.asarray(q, dtype=np.float64))))
    return {"elbo": _elbo_kl(q, log_joint)["elbo"], "kl": kl}


def _kl_against_joint(q, log_joint) -> dict:
    """KL measured against the joint ln p(x, z) instead of the posterior: it equals -L."""
    elbo = _elbo_kl(q, log_joint)["elbo"]
    return {"elbo": elbo, "kl": -elbo}


def _naive_zero_log_zero(q, log_joint) -> dict:
    """``q * log(q)`` without the convention 0 ln 0 = 0: NaN as soon as q has a zero."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        elbo = float((q * (np.asarray(log_joint) - log_q)).sum())
        kl = float((q * (log_q - _log_posterior(log_joint))).sum())
    return {"elbo": elbo, "kl": kl}


def _naive_normaliser(q, log_joint) -> dict:
    """The posterior as exp(ln p(x, z)) / sum_k exp(ln p(x, z)): 0 / 0 = NaN on far rows."""
    q = np.asarray(q, dtype=np.float64)
    p = np.exp(np.asarray(log_joint, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_post = np.log(p / p.sum(axis=1, keepdims=True))
        kl = float(np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - log_post), 0.0).sum())
    return {"elbo": _elbo_kl(q, log_joint)["elbo"], "kl": kl}


def _kl_not_finite_on_far_rows(answer, inputs) -> bool:
    """A non-finite KL where some row of log_joint is far below 0 (exp underflows to 0)."""
    far = np.asarray(inputs["log_joint"]).max(axis=1).min() < -700
    try:
        kl = answer["kl"] if isinstance(answer, dict) else answer[1]
        return bool(far and not np.isfinite(float(kl)))
    except (TypeError, ValueError, KeyError, IndexError):
        return False


def _entropy_sign(q, log_joint) -> dict:
    """L = sum q ln p(x, z) + sum q ln q: the entropy entered with the wrong sign."""
    q = np.asarray(q, dtype=np.float64)
    right = _elbo_kl(q, log_joint)
    q_term = _q_term_only(q, log_joint)["elbo"]
    return {"elbo": 2.0 * q_term - right["elbo"], "kl": right["kl"]}


def _kl_wrong_axis(q, log_joint) -> dict:
    """The posterior normalised over the samples (axis 0) inside the KL."""
    q = np.asarray(q, dtype=np.float64)
    log_joint = np.asarray(log_joint, dtype=np.float64)
    log_post = log_joint - logsumexp(log_joint, axis=0, keepdims=True)
    kl = float(np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - log_post), 0.0).sum())
    return {"elbo": _elbo_kl(q, log_joint)["elbo"], "kl": kl}


def _generate_elbo_kl(rng: np.random.Generator) -> dict:
    n, K = int(rng.integers(2, 21)), int(rng.integers(2, 6))
    log_joint = rng.normal(-3.0, 2.0, (n, K))
    if rng.random() < 0.3:
        log_joint[rng.integers(0, n)] -= 900.0
    q = rng.dirichlet(np.ones(K), size=n)
    if rng.random() < 0.4:
        q = _with_zeros(rng, q)
    return {"q": q, "log_joint": log_joint}


_LJ1 = np.array([[-1.0, -2.0], [-0.5, -3.0], [-4.0, -1.5]])
_LJ2 = np.array([[-2.0, -1.0, -3.5], [-0.2, -2.5, -1.0], [-3.0, -3.0, -0.1], [-1.2, -1.1, -1.3]])
_LJ3 = np.array([[-2.0, -1.0], [-3.0, -0.5], [-1.0, -1.0]])
_LJ4 = np.array([[-800.0, -801.0, -805.0], [-1.0, -2.0, -0.5]])

ELBO_KL = Exercise(
    id="02.elbo-kl",
    title="The ELBO and the KL for a given q, and the identity (2.4)",
    points=4,
    kind="function",
    name="elbo_kl",
    signature="elbo_kl(q, log_joint)",
    equation="2.2-2.4",
    reference=_elbo_kl,
    compare=record({"elbo": close(rtol=1e-8, atol=1e-10), "kl": close(rtol=1e-8, atol=1e-10)}),
    public_cases=(
        {"q": np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]), "log_joint": _LJ1},
        {
            "q": np.exp(_LJ2 - np.log(np.exp(_LJ2).sum(axis=1, keepdims=True))),
            "log_joint": _LJ2,
        },
        {"q": np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), "log_joint": _LJ3},
        {"q": np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), "log_joint": _LJ4},
    ),
    case_names=("n = 3, K = 2", "q the posterior, K = 3", "q with zeros", "ln p(x, z) near -800"),
    generate=_generate_elbo_kl,
    n_hidden=8,
    mistakes=(
        Mistake(
            "zero-log-zero",
            "a q with exact zeros gives NaN: 0 * ln 0 is NaN in floating point, but the term "
            "q ln q is 0 where q = 0 (skip those entries, e.g. with np.where or a mask).",
            "2.2",
            _naive_zero_log_zero,
        ),
        Mistake(
            "no-logsumexp",
            "the KL is not finite where every ln p(x_i, z_i = k) is around -800: exp underflows "
            "to 0, so normalise in log space, ln p(z | x) = ln p(x, z) - logsumexp_k ln p(x, z).",
            "2.5",
            _naive_normaliser,
            matches=_kl_not_finite_on_far_rows,
        ),
        Mistake(
            "entropy-missing",
            "L is sum q ln p(x, z), which is Q; the ELBO also subtracts sum q ln q (the entropy "
            "of q enters with a plus sign).",
            "2.2",
            _q_term_only,
        ),
        Mistake(
            "entropy-sign",
            "L adds sum q ln q instead of subtracting it: L = sum q ln p(x, z) - sum q ln q, "
            "the entropy of q entering with a plus sign.",
            "2.2",
            _entropy_sign,
        ),
        Mistake(
            "kl-wrong-axis",
            "the posterior inside the KL is normalised over the samples (axis 0); "
            "p(z_i = k | x_i) divides by the sum over k, axis 1.",
            "2.3",
            _kl_wrong_axis,
        ),
        Mistake(
            "kl-reversed",
            "the KL has its arguments swapped: the decomposition needs KL(q || p(Z | X, theta)) "
            "= sum q ln(q / p), weighted by q.",
            "2.3",
            _kl_reversed,
        ),
        Mistake(
            "kl-against-joint",
            "the KL compares q with the joint p(x, z | theta) instead of the posterior "
            "p(z | x, theta) = p(x, z | theta) / p(x | theta); that gives -L, not the KL.",
            "2.3",
            _kl_against_joint,
        ),
    ),
    forbidden=(
        "emlib.bounds.elbo",
        "emlib.bounds.kl",
        "emlib.bounds.decompose",
        "emlib.elbo",
        "emlib.kl",
        "emlib.decompose",
        "emlib.reference.elbo",
        "emlib.reference.kl",
        "emlib.reference.decompose",
    ),
)

# -- 02.e-step-kl -------------------------------------------------------------------------------

_CLOSE_Q = close(rtol=1e-7, atol=1e-12)


def _compare_q(answer, expected, inputs) -> Verdict:
    """The posterior, entry by entry; when right, report the KL it leaves (0 up to rounding)."""
    verdict = _CLOSE_Q(answer, expected, inputs)
    if verdict.status != "ok":
        return verdict
    kl = bounds.kl(np.asarray(answer, dtype=np.float64), _log_posterior(inputs["log_joint"]))
    return Verdict.ok(f"correct: with this q, KL(q || p(Z | X, theta)) = {abs(kl):.1e}")


def _wrong_axis(log_joint):
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return np.exp(log_joint - logsumexp(log_joint, axis=0, keepdims=True))


def _naive_softmax(log_joint):
    p = np.exp(np.asarray(log_joint, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def _hard_q(log_joint):
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return np.eye(log_joint.shape[1])[np.argmax(log_joint, axis=1)]


def _max_shifted(log_joint):
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return np.exp(log_joint - log_joint.max(axis=1, keepdims=True))


def _global_normaliser(log_joint):
    log_joint = np.asarray(log_joint, dtype=np.float64)
    return np.exp(log_joint - logsumexp(log_joint.ravel()))


def _generate_q(rng: np.random.Generator) -> dict:
    n, K = int(rng.integers(2, 16)), int(rng.integers(2, 6))
    log_joint = rng.normal(-3.0, 2.0, (n, K))
    # Every hidden case has the public regime: one row whose exponentials all underflow.
    log_joint[rng.integers(0, n)] -= 900.0
    return {"log_joint": log_joint}


E_STEP_KL = Exercise(
    id="02.e-step-kl",
    title="The E-step: q = p(Z | X, theta), which sets the KL to zero",
    points=3,
    kind="function",
    name="e_step_q",
    signature="e_step_q(log_joint)",
    equation="2.5",
    reference=_posterior,
    compare=_compare_q,
    public_cases=(
        {"log_joint": _LJ1},
        {"log_joint": _LJ2},
        {"log_joint": np.array([[-1000.0, -1001.0], [-2.0, -3.0], [-0.5, -0.5]])},
    ),
    case_names=("n = 3, K = 2", "n = 4, K = 3", "a row near -1000"),
    generate=_generate_q,
    n_hidden=8,
    mistakes=(
        Mistake(
            "wrong-axis",
            "q is normalised over the samples (axis 0) instead of over the values of z "
            "(axis 1): each row q[i] is a distribution over k.",
            "2.5",
            _wrong_axis,
        ),
        Mistake(
            "no-logsumexp",
            "rows far below 0 give NaN: exp(-1000) is 0.0, and 0 / 0 is NaN. Subtract the row "
            "maximum (or use logsumexp) before exponentiating.",
            "2.5",
            _naive_softmax,
        ),
        Mistake(
            "unnormalised",
            "q is exp(ln p(x, z)), the joint; divide each row by its sum p(x_i | theta).",
            "2.5",
            lambda log_joint: np.exp(np.asarray(log_joint, dtype=np.float64)),
        ),
        Mistake(
            "hard",
            "q puts all its mass on the most likely k (argmax): the E-step keeps the whole "
            "posterior, q(z_i = k) = p(x_i, z_i = k) / sum_j p(x_i, z_i = j).",
            "2.5",
            _hard_q,
        ),
        Mistake(
            "max-not-normalised",
            "the row maximum is subtracted, which keeps exp finite, but the rows are not "
            "divided by their sums afterwards: each row must sum to 1.",
            "2.5",
            _max_shifted,
        ),
        Mistake(
            "global-normaliser",
            "q is divided by the sum over ALL entries; each row i is normalised on its own, "
            "over k.",
            "2.5",
            _global_normaliser,
        ),
        Mistake(
            "log-q",
            "this is ln q, the log posterior; return the probabilities themselves.",
            "2.5",
            _log_posterior,
        ),
    ),
    forbidden=(
        "emlib.gmm.e_step",
        "emlib.bernoulli.e_step",
        "emlib.reference.e_step",
        "emlib.reference.bernoulli_e_step",
    ),
)

# -- 02.em-statements ---------------------------------------------------------------------------

EM_STATEMENTS_CHOICES = {
    "a": "For every distribution q over Z, L(q, theta) <= ln p(X | theta).",
    "b": "Right after the E-step, L(q, theta_old) = ln p(X | theta_old).",
    "c": "The M-step keeps KL(q || p(Z | X, theta)) at zero.",
    "d": "With q = p(Z | X, theta_old), maximising Q(theta, theta_old) and maximising L(q, theta) "
    "over theta give the same theta_new.",
    "e": "Every EM iteration increases ln p(X | theta) strictly.",
    "f": "An M-step that only increases Q(theta, theta_old), without maximising it, still never "
    "lowers ln p(X | theta).",
}

EM_STATEMENTS = Exercise(
    id="02.em-statements",
    title="The bound, the E-step and the M-step: which statements are true?",
    points=3,
    kind="choice",
    name="em_statements",
    equation="2.4-2.7",
    choices=EM_STATEMENTS_CHOICES,
    reference=lambda: frozenset({"a", "b", "d", "f"}),
    compare=choice_set(tuple(EM_STATEMENTS_CHOICES)),
    mistakes=(
        Mistake(
            "kl-after-m-step",
            "(c) was taken as true: the M-step moves theta away from theta_old while q stays "
            "p(Z | X, theta_old), which is in general not the posterior under theta_new, so the "
            "KL becomes positive again; the next E-step closes it.",
            "2.4",
            lambda: {"a", "b", "c", "d", "f"},
            matches=lambda answer, inputs: "c" in answer,
        ),
        Mistake(
            "strict-increase",
            "(e) was taken as true: the chain (2.7) gives >=, and at a fixed point of EM (a "
            "stationary point of the likelihood) an iteration changes nothing.",
            "2.7",
            lambda: {"a", "b", "d", "e", "f"},
            matches=lambda answer, inputs: "e" in answer,
        ),
        Mistake(
            "entropy-depends-on-theta",
            "(d) was left out: L(q, theta) = Q(theta, theta_old) + H(q), and the entropy H(q) of "
            "the fixed q does not depend on theta.",
            "2.6",
            lambda: {"a", "b", "f"},
            matches=lambda answer, inputs: "d" not in answer,
        ),
    ),
)

# -- 02.em-gain and 02.monotonicity: five points, two components --------------------------------

EM_GAIN_X = np.array([-2.0, -1.0, 0.5, 2.5, 3.0])
EM_GAIN_THETA0 = {"pi": (0.5, 0.5), "mu": (-1.0, 1.0), "sigma2": (1.0, 1.0)}


def _theta0() -> reference.GaussianParams:
    t = EM_GAIN_THETA0
    return reference.GaussianParams(np.array(t["pi"]), np.array(t["mu"])[:, None], np.array(t["sigma2"]))


def _log_joint(params: reference.GaussianParams) -> np.ndarray:
    """``ln p(x_i, z_i = k | theta) = ln pi_k + ln N(x_i | mu_k, sigma_k^2)`` for the five points."""
    return reference.log_joint(EM_GAIN_X[:, None], *params, "spherical")


def _E_STEP(X, params: reference.GaussianParams):
    """Eq. (3.4) for the spherical mixture, by :func:`emlib.reference.e_step`."""
    return reference.e_step(X, *params, "spherical")


_M_STEP = partial(reference.m_step, covariance_type="spherical", reg_covar=0.0)


def _em_gain() -> dict:
    """The two parts of ln p(theta_1) - ln p(theta_0): the M-step's gain on the bound, the new KL."""
    theta0 = _theta0()
    q, _ = _E_STEP(EM_GAIN_X[:, None], theta0)
    theta1 = _M_STEP(EM_GAIN_X[:, None], q)
    J0, J1 = _log_joint(theta0), _log_joint(theta1)
    return {
        "bound_gain": bounds.elbo(q, J1) - bounds.elbo(q, J0),
        "kl_new": bounds.decompose(q, J1).kl,
    }


def _total_as_bound_gain() -> dict:
    right = _em_gain()
    return {"bound_gain": right["bound_gain"] + right["kl_new"], "kl_new": right["kl_new"]}


def _swapped() -> dict:
    right = _em_gain()
    return {"bound_gain": right["kl_new"], "kl_new": right["bound_gain"]}


EM_GAIN = Exercise(
    id="02.em-gain",
    title="Where one EM step's gain comes from: the bound and the new KL",
    points=3,
    kind="value",
    name="em_gain",
    equation="2.7",
    reference=_em_gain,
    compare=record(
        {"bound_gain": close(rtol=1e-6, atol=1e-9), "kl_new": close(rtol=1e-6, atol=1e-9)}
    ),
    mistakes=(
        Mistake(
            "total-as-bound-gain",
            "bound_gain holds the whole increase ln p(X | theta_1) - ln p(X | theta_0); the "
            "bound only rises by L(q, theta_1) - L(q, theta_0), the rest is the new KL.",
            "2.7",
            _total_as_bound_gain,
        ),
        Mistake(
            "swapped",
            "the two numbers are swapped.",
            "2.7",
            _swapped,
        ),
        Mistake(
            "per-sample",
            "both numbers are divided by n = 5; ln p(X | theta) and L are sums over the "
            "samples.",
            "2.7",
            lambda: {k: v / len(EM_GAIN_X) for k, v in _em_gain().items()},
        ),
        Mistake(
            "kl-is-total",
            "kl_new holds the whole increase ln p(X | theta_1) - ln p(X | theta_0); the new KL "
            "is only what is left after the bound's gain.",
            "2.7",
            lambda: {**_em_gain(), "kl_new": sum(_em_gain().values())},
        ),
        Mistake(
            "kl-with-new-posterior",
            "kl_new is 0: it must compare the old q = p(Z | X, theta_0) with the new posterior "
            "p(Z | X, theta_1), not the new posterior with itself.",
            "2.7",
            lambda: {**_em_gain(), "kl_new": 0.0},
        ),
    ),
)


def _loglik_path() -> np.ndarray:
    """ln p(X | theta_t) for t = 0..5 of EM from theta_0 on the five points."""
    X = EM_GAIN_X[:, None]
    return run_em(X, _theta0(), _E_STEP, _M_STEP, max_iter=5, tol=-1.0).log_likelihoods


MONOTONICITY = Exercise(
    id="02.monotonicity",
    title="Derive the chain (2.7): EM never lowers the likelihood",
    points=4,
    kind="derivation",
    name="loglik_path",
    equation="2.7",
    reference=_loglik_path,
    compare=close(rtol=1e-6, atol=1e-9),
    mistakes=(
        Mistake(
            "no-e-step",
            "after the first iteration the path stays flat: q must be recomputed (E-step) from "
            "the new theta before every M-step; an M-step on the old q returns the same theta.",
            "2.5",
            lambda: np.concatenate([_loglik_path()[:2], np.repeat(_loglik_path()[1], 4)]),
        ),
    ),
)

EXERCISES = (ELBO_KL, E_STEP_KL, EM_STATEMENTS, EM_GAIN, MONOTONICITY, ELBO_AT_POSTERIOR)
