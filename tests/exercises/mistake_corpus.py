"""Mistakes students make, written as a student would, for the corpus test.

Each :class:`Slip` is one plausible wrong answer to one exercise and the causes a message may name
for it (the slug of a declared :class:`~emlib.exercises.Mistake`, or a key of
:data:`emlib.exercises.relations.MESSAGES`, or one of ``CHECKER_CAUSES``); an empty ``causes``
means that no message should name a cause. The slips were written from the notebooks' equations,
not from the declared variants: some are slips of the formula, some of the last line (order,
dtype, a factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emlib import reference as R
from emlib.exercises import get


@dataclass(frozen=True)
class Slip:
    exercise: str
    what: str
    answer: object  # a function (function exercises) or a value
    causes: frozenset = frozenset()


SLIPS: list[Slip] = []


def slip(exercise: str, what: str, *causes: str):
    """Decorator: register a student function (or, for value exercises, a value factory)."""

    def register(f):
        answer = f() if get(exercise).kind != "function" else f
        SLIPS.append(Slip(exercise, what, answer, frozenset(causes)))
        return f

    return register


def last_line(exercise: str, what: str, change, *causes: str) -> None:
    """A student whose computation is right but whose returned value is ``change(right)``."""
    ex = get(exercise)
    if ex.kind != "function":
        SLIPS.append(Slip(exercise, what, change(ex.reference()), frozenset(causes)))
        return

    def answer(*args):
        return change(ex.reference(**dict(zip(ex.parameters, args, strict=True))))

    SLIPS.append(Slip(exercise, what, answer, frozenset(causes)))


def f32(value):
    if isinstance(value, dict):
        return {k: f32(v) for k, v in value.items()}
    return np.asarray(value, dtype=np.float32)


def swap2(d: dict) -> tuple:
    a, b = d.values()
    return b, a


# -- 01.jensen-gap: ln E[X] - E[ln X] ----------------------------------------------------------


@slip("01.jensen-gap", "ln E[X] only, the second term forgotten", "no-second-term")
def _(w, x):
    return np.log(w @ x)


@slip("01.jensen-gap", "E[ln X] as the plain mean of ln x", "unweighted")
def _(w, x):
    return np.log(w @ x) - np.mean(np.log(x))


@slip("01.jensen-gap", "log2 for ln", "log2")
def _(w, x):
    return np.log2(w @ x) - w @ np.log2(x)


@slip("01.jensen-gap", "the weights reversed (w[::-1]) in E[ln X]")
def _(w, x):
    return np.log(w @ x) - w[::-1] @ np.log(x)


last_line("01.jensen-gap", "float32 arrays", f32, "float32")

# -- 01.zero-gap: weights on (0, 1, 3, 5) with mean 4 and no mass left of the kink --------------

SLIPS += [
    Slip("01.zero-gap", "all mass on 5", np.array([0.0, 0.0, 0.0, 1.0]), frozenset({"mean"})),
    Slip("01.zero-gap", "weights not normalised", np.array([0.0, 0.0, 1.0, 1.0]),
         frozenset({"not-probabilities"})),
    Slip("01.zero-gap", "mass left of the kink", np.array([0.0, 0.25, 0.0, 0.75]),
         frozenset({"straddles"})),
    Slip("01.zero-gap", "three weights only", np.array([0.0, 0.5, 0.5]), frozenset()),
]

# -- 02.elbo-kl: (L, KL) ------------------------------------------------------------------------


def _lse(a, axis=1):
    m = a.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def _xlogx(q):
    return np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)


def _L(q, lj):
    return float((q * lj).sum() - _xlogx(q).sum())


def _KL(q, lj):
    return float(_xlogx(q).sum() - (q * (lj - _lse(lj))).sum())


@slip("02.elbo-kl", "returns (KL, L), swapped", "order")
def _(q, lj):
    return _KL(q, lj), _L(q, lj)


@slip("02.elbo-kl", "the entropy's sign flipped", "entropy-sign")
def _(q, lj):
    return float((q * lj).sum() + _xlogx(q).sum()), _KL(q, lj)


@slip("02.elbo-kl", "both divided by n", "over-n", "half")
def _(q, lj):
    return _L(q, lj) / len(q), _KL(q, lj) / len(q)


@slip("02.elbo-kl", "KL = ln p(X) - L computed with a naive log of summed exps", "no-logsumexp")
def _(q, lj):
    with np.errstate(divide="ignore"):
        log_px = float(np.log(np.exp(lj).sum(axis=1)).sum())
    return _L(q, lj), log_px - _L(q, lj)


@slip("02.elbo-kl", "KL with the posterior normalised over the samples (axis 0)", "kl-wrong-axis")
def _(q, lj):
    log_post = lj - _lse(lj, axis=0)
    return _L(q, lj), float(_xlogx(q).sum() - (q * log_post).sum())


# -- 02.e-step-kl: q = p(Z | X) -------------------------------------------------------------------


@slip("02.e-step-kl", "softmax over all entries at once", "global-normaliser")
def _(lj):
    return np.exp(lj - _lse(lj.ravel()[None, :], axis=1)[0, 0])


@slip("02.e-step-kl", "subtract the row max but never normalise", "max-not-normalised")
def _(lj):
    return np.exp(lj - lj.max(axis=1, keepdims=True))


last_line("02.e-step-kl", "q transposed (K, n)", lambda q: q.T)
last_line("02.e-step-kl", "1 - q, the other way round", lambda q: 1 - q, "complement")
last_line("02.e-step-kl", "ln q returned, in base 10", lambda q: np.log10(q), "log")


@slip("02.e-step-kl", "hard assignments (argmax) for the posterior", "hard")
def _(lj):
    return np.eye(lj.shape[1])[np.argmax(lj, axis=1)]


# -- 02.em-gain ---------------------------------------------------------------------------------

last_line("02.em-gain", "the parts swapped in a tuple", lambda d: swap2(d), "order", "swapped")
last_line("02.em-gain", "bound gain with a flipped sign",
          lambda d: {**d, "bound_gain": -d["bound_gain"]}, "sign")
last_line("02.em-gain", "both per sample (divided by n = 5)",
          lambda d: {k: v / 5 for k, v in d.items()}, "per-sample")
last_line("02.em-gain", "kl_new reported as the total increase",
          lambda d: {**d, "kl_new": d["bound_gain"] + d["kl_new"]}, "kl-is-total")
last_line("02.em-gain", "rounded to 3 decimals", lambda d: {k: round(v, 3) for k, v in d.items()})

# -- 03.posterior-1d ----------------------------------------------------------------------------

last_line("03.posterior-1d", "sigma2_1 as the standard deviation, squared twice",
          lambda d: {**d, "sigma2_1": d["sigma2_1"] ** 2}, "square")
last_line("03.posterior-1d", "pi1 as N_1, not divided by n",
          lambda d: {**d, "pi1": d["pi1"] * 5}, "pi-not-divided")
last_line("03.posterior-1d", "resp1 rounded to 2 decimals",
          lambda d: {**d, "resp1": np.round(d["resp1"], 2)})
last_line("03.posterior-1d", "mu1 with the wrong sign", lambda d: {**d, "mu1": -d["mu1"]}, "sign")
last_line("03.posterior-1d", "a tuple in another order",
          lambda d: (d["pi1"], d["resp1"], d["mu1"], d["sigma2_1"]), "order")

# -- 03.e-step ----------------------------------------------------------------------------------


def _log_n(X, mu, S, logdet_factor=0.5, const=True, quad=0.5):
    d = X.shape[1]
    out = []
    for m, s in zip(mu, S, strict=True):
        diff = X - m
        maha = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(s), diff)
        c = 0.5 * d * np.log(2 * np.pi) if const else 0.0
        out.append(-quad * maha - logdet_factor * np.linalg.slogdet(s)[1] - c)
    return np.array(out).T


def _normalise(log_joint):
    return np.exp(log_joint - _lse(log_joint))


@slip("03.e-step", "log det without the 1/2 (a factor 2 too many)", "det-without-sqrt")
def _(X, pi, mu, S):
    return _normalise(np.log(pi) + _log_n(X, mu, S, logdet_factor=1.0))


@slip("03.e-step", "the Mahalanobis term without the 1/2", "missing-half")
def _(X, pi, mu, S):
    return _normalise(np.log(pi) + _log_n(X, mu, S, quad=1.0))


@slip("03.e-step", "no log det at all", "no-log-det")
def _(X, pi, mu, S):
    return _normalise(np.log(pi) + _log_n(X, mu, S, logdet_factor=0.0))


@slip("03.e-step", "Sigma used as its inverse (precision)", "sigma-as-precision")
def _(X, pi, mu, S):
    return _normalise(np.log(pi) + _log_n(X, mu, np.linalg.inv(S)))


last_line("03.e-step", "responsibilities transposed", lambda r: r.T)
last_line("03.e-step", "ln r returned", np.log, "log-resp")
last_line("03.e-step", "responsibilities of the other component (K = 2)", lambda r: 1 - r, "complement")

# -- 03.m-step ----------------------------------------------------------------------------------


def _m(X, resp, covariance_type, **changes):
    p = R.m_step(X, resp, covariance_type)
    return {"pi": p.pi, "mu": p.mu, "Sigma": p.Sigma, **changes}


@slip("03.m-step", "np.cov with its default ddof (N_k - 1)", "cov-ddof")
def _(X, resp, ct):
    out = _m(X, resp, ct)
    if ct == "full":
        Nk = resp.sum(0)
        out["Sigma"] = out["Sigma"] * (Nk / (Nk - 1))[:, None, None]
    return out


@slip("03.m-step", "Sigma around the origin (mean not subtracted)", "not-centred")
def _(X, resp, ct):
    out = _m(X, resp, ct)
    Nk = resp.sum(0)
    if ct == "full":
        out["Sigma"] = np.einsum("ik,ij,il->kjl", resp, X, X) / Nk[:, None, None]
    elif ct == "diag":
        out["Sigma"] = (resp.T @ X**2) / Nk[:, None]
    elif ct == "spherical":
        out["Sigma"] = (resp.T @ (X**2).sum(1)) / (Nk * X.shape[1])
    return out


@slip("03.m-step", "hard assignments (argmax of resp)", "hard")
def _(X, resp, ct):
    return _m(X, np.eye(resp.shape[1])[resp.argmax(1)], ct)


@slip("03.m-step", "spherical variance: std, not variance", "sqrt")
def _(X, resp, ct):
    out = _m(X, resp, ct)
    out["Sigma"] = np.sqrt(out["Sigma"]) if ct != "full" else out["Sigma"] * 1.5
    return out


last_line("03.m-step", "a tuple (mu, pi, Sigma)", lambda d: (d["mu"], d["pi"], d["Sigma"]), "order")
last_line("03.m-step", "mu transposed (d, K)", lambda d: {**d, "mu": d["mu"].T}, "transposed")

# -- 03.em-loop ---------------------------------------------------------------------------------


def _em(X, pi, mu, S, tol, max_iter, stop, keep_start=True, n_steps=None):
    resp, ll = R.e_step(X, pi, mu, S)
    lls = [ll]
    for _ in range(int(max_iter) if n_steps is None else n_steps):
        p = R.m_step(X, resp)
        pi, mu, S = p.pi, p.mu, p.Sigma
        resp, ll = R.e_step(X, pi, mu, S)
        lls.append(ll)
        if n_steps is None and stop(lls, len(X), tol):
            break
    lls = np.array(lls if keep_start else lls[1:])
    return {"pi": pi, "mu": mu, "Sigma": S, "log_likelihoods": lls}


@slip("03.em-loop", "stops on a relative change", "relative-change")
def _(X, pi, mu, S, tol, max_iter, m_step_fn=None):
    return _em(X, pi, mu, S, tol, max_iter, lambda l, n, t: abs(l[-1] - l[-2]) <= t * abs(l[-2]))


@slip("03.em-loop", "one iteration only (the loop returns inside)", "one-iteration")
def _(X, pi, mu, S, tol, max_iter, m_step_fn=None):
    return _em(X, pi, mu, S, tol, max_iter, None, n_steps=1)


@slip("03.em-loop", "Sigma of the last step as its square root", "sqrt")
def _(X, pi, mu, S, tol, max_iter, m_step_fn=None):
    out = _em(X, pi, mu, S, tol, max_iter, lambda l, n, t: l[-1] - l[-2] <= t * n)
    return {**out, "Sigma": np.sqrt(np.abs(out["Sigma"]))}


@slip("03.em-loop", "log-likelihoods per sample", "over-n")
def _(X, pi, mu, S, tol, max_iter, m_step_fn=None):
    out = _em(X, pi, mu, S, tol, max_iter, lambda l, n, t: l[-1] - l[-2] <= t * n)
    return {**out, "log_likelihoods": out["log_likelihoods"] / len(X)}


# -- 04.kmeans-plusplus -------------------------------------------------------------------------


def _seed(X, K, rng, weight, first=None):
    n = X.shape[0]
    chosen = [int(rng.integers(n)) if first is None else first]
    while len(chosen) < K:
        D2 = ((X[:, None] - X[chosen][None]) ** 2).sum(-1).min(1)
        w = weight(D2)
        chosen.append(int(rng.choice(n, p=w / w.sum())))
    return X[chosen]


@slip("04.kmeans-plusplus", "draws from np.random's global state", "seed")
def _(X, K, random_state):
    return _seed(X, K, np.random.default_rng(), lambda D2: D2)


@slip("04.kmeans-plusplus", "a fixed seed, random_state ignored", "seed")
def _(X, K, random_state):
    return _seed(X, K, np.random.default_rng(12345), lambda D2: D2)


@slip("04.kmeans-plusplus", "the first centre is always sample 0", "first-fixed")
def _(X, K, random_state):
    return _seed(X, K, np.random.default_rng(random_state), lambda D2: D2, first=0)


@slip("04.kmeans-plusplus", "D^4 weights (squared twice)", "d-fourth")
def _(X, K, random_state):
    return _seed(X, K, np.random.default_rng(random_state), lambda D2: D2**2)


@slip("04.kmeans-plusplus", "returns the indices, not the centres")
def _(X, K, random_state):
    rng = np.random.default_rng(random_state)
    return np.array(R.kmeans_plusplus(X, K, rng))


# -- 04.lloyd-step --------------------------------------------------------------------------------


def _assign(X, mu):
    return ((X[:, None] - mu[None]) ** 2).sum(-1).argmin(1)


def _lloyd(X, mu, labels=None, inertia_from=None):
    labels = _assign(X, mu) if labels is None else labels
    new = np.array([X[labels == k].mean(0) if (labels == k).any() else mu[k] for k in range(len(mu))])
    ref = new if inertia_from is None else inertia_from
    return {"mu": new, "labels": labels, "inertia": float(((X - mu[labels]) ** 2).sum())
            if inertia_from is None else float(((X - ref[labels]) ** 2).sum())}


@slip("04.lloyd-step", "labels from 1 to K (argmin + 1)", "plus-one")
def _(X, mu):
    out = _lloyd(X, mu)
    return {**out, "labels": out["labels"] + 1}


@slip("04.lloyd-step", "Manhattan distances for the assignment", "manhattan")
def _(X, mu):
    labels = np.abs(X[:, None] - mu[None]).sum(-1).argmin(1)
    return _lloyd(X, mu, labels=labels)


last_line("04.lloyd-step", "inertia in float32", lambda d: {**d, "inertia": np.float32(d["inertia"])},
          "float32")
last_line("04.lloyd-step", "inertia as the mean squared distance",
          lambda d: {**d, "inertia": d["inertia"] / 8}, "over-n")
last_line("04.lloyd-step", "a tuple (labels, mu, inertia)",
          lambda d: (d["labels"], d["mu"], d["inertia"]), "order")
last_line("04.lloyd-step", "labels as floats 0.0/1.0 but inertia halved",
          lambda d: {**d, "labels": d["labels"].astype(float), "inertia": d["inertia"] / 2},
          "half")

# -- 04.param-counts --------------------------------------------------------------------------------


@slip("04.param-counts", "covariances counted as d^2, weights as K", "covariance-d-squared",
      "weights-not-constrained")
def _(K, d):
    return {"n_gmm": K + K * d + K * d * d, "n_kmeans": K * d}


@slip("04.param-counts", "the means forgotten", "no-means")
def _(K, d):
    return {"n_gmm": K - 1 + K * d * (d + 1) // 2, "n_kmeans": K * d}


@slip("04.param-counts", "one shared covariance (tied)", "tied")
def _(K, d):
    return {"n_gmm": K - 1 + K * d + d * (d + 1) // 2, "n_kmeans": K * d}


@slip("04.param-counts", "k-means counted like a spherical GMM", "kmeans-as-gmm")
def _(K, d):
    return {"n_gmm": K - 1 + K * d + K * d * (d + 1) // 2, "n_kmeans": K - 1 + K * d + K}


@slip("04.param-counts", "a tuple (n_kmeans, n_gmm)", "order")
def _(K, d):
    return K * d, K - 1 + K * d + K * d * (d + 1) // 2


# -- 05.digits-dims -----------------------------------------------------------------------------

SLIPS += [
    Slip("05.digits-dims", "d as 28 (one side)", {"K": 10, "n": 100000, "d": 28}, frozenset({"d-side"})),
    Slip("05.digits-dims", "K as 9", {"K": 9, "n": 100000, "d": 784}, frozenset()),
    Slip("05.digits-dims", "n as the test set", {"K": 10, "n": 10000, "d": 784}, frozenset()),
    Slip("05.digits-dims", "a tuple (n, K, d)", (100000, 10, 784), frozenset({"order"})),
]

# -- 05.bernoulli-e-step ------------------------------------------------------------------------


def _log_bern(X, theta, c=1.0):
    return X @ np.log(theta).T + c * (1 - X) @ np.log1p(-theta).T


def _bern(log_joint):
    return {"resp": _normalise(log_joint), "log_likelihood": float(_lse(log_joint).sum())}


@slip("05.bernoulli-e-step", "the (1 - x) ln(1 - theta) term forgotten", "no-failure-term")
def _(X, pi, theta):
    return _bern(np.log(pi) + _log_bern(X, theta, c=0.0))


@slip("05.bernoulli-e-step", "theta and 1 - theta swapped", "theta-swapped")
def _(X, pi, theta):
    return _bern(np.log(pi) + _log_bern(X, 1 - theta))


@slip("05.bernoulli-e-step", "log-likelihood as the sum of the max log joint", "max-not-lse")
def _(X, pi, theta):
    lj = np.log(pi) + _log_bern(X, theta)
    return {"resp": _normalise(lj), "log_likelihood": float(lj.max(1).sum())}


last_line("05.bernoulli-e-step", "a tuple (log_likelihood, resp)",
          lambda d: (d["log_likelihood"], d["resp"]), "order")
last_line("05.bernoulli-e-step", "log-likelihood in base 10",
          lambda d: {**d, "log_likelihood": d["log_likelihood"] / np.log(10)}, "log10")

# -- 05.bernoulli-m-step ------------------------------------------------------------------------


def _bm(X, resp, a, b, shift_a=-1.0, shift_b=-1.0, hard=False):
    if hard:
        resp = np.eye(resp.shape[1])[resp.argmax(1)]
    Nk = resp.sum(0)
    theta = (resp.T @ X + a + shift_a) / (Nk[:, None] + a + b + shift_a + shift_b)
    return {"pi": Nk / len(X), "theta": theta}


@slip("05.bernoulli-m-step", "prior counts a and b, not a - 1 and b - 1", "laplace-shift")
def _(X, resp, a, b):
    return _bm(X, resp, a, b, 0.0, 0.0)


@slip("05.bernoulli-m-step", "only a - 1 added, b - 1 forgotten", "half-prior")
def _(X, resp, a, b):
    return _bm(X, resp, a, b, -1.0, -b)


last_line("05.bernoulli-m-step", "theta transposed (D, K)",
          lambda d: {**d, "theta": d["theta"].T})
last_line("05.bernoulli-m-step", "pi as N_k", lambda d: {**d, "pi": d["pi"] * 6}, "pi-unnormalised",
          "times-n")
last_line("05.bernoulli-m-step", "a tuple (theta, pi)", lambda d: (d["theta"], d["pi"]), "order")

# -- 05.cluster-labels --------------------------------------------------------------------------


def _majority(clusters, y, K, fill=-1):
    out = np.full(K, fill)
    for k in range(K):
        if (clusters == k).any():
            out[k] = np.bincount(y[clusters == k]).argmax()
    return out


@slip("05.cluster-labels", "empty clusters labelled 0 instead of -1", "empty-label")
def _(tc, ty, sc, sy, K):
    labels = _majority(tc, ty, K, fill=0)
    return {"labels": labels, "accuracy": float(np.mean(labels[sc] == sy))}


@slip("05.cluster-labels", "accuracy as a percentage", "percent")
def _(tc, ty, sc, sy, K):
    labels = _majority(tc, ty, K)
    return {"labels": labels, "accuracy": 100 * float(np.mean(labels[sc] == sy))}


@slip("05.cluster-labels", "error rate instead of accuracy", "complement")
def _(tc, ty, sc, sy, K):
    labels = _majority(tc, ty, K)
    return {"labels": labels, "accuracy": 1 - float(np.mean(labels[sc] == sy))}


last_line("05.cluster-labels", "a tuple (accuracy, labels)",
          lambda d: (d["accuracy"], d["labels"]), "order")

# -- 05.digits-fit ------------------------------------------------------------------------------


def _fit_with(X, X_test, pi, theta, a, b, n_iter, m_step=None, start_ll=False, per_pixel=False):
    """EM on the digits as a student writes it; the keywords switch one slip on."""
    m_step = m_step or (lambda X, resp, a, b: tuple(R.bernoulli_m_step(X, resp, a, b)))
    start = (pi, theta)
    for _ in range(n_iter):
        resp, _ = R.bernoulli_e_step(X, pi, theta)
        pi, theta = m_step(X, resp, a, b)
    scored = start if start_ll else (pi, theta)
    mean = R.bernoulli_e_step(X_test, *scored)[1] / len(X_test)
    return pi, theta, mean / X.shape[1] if per_pixel else mean


@slip("05.digits-fit", "held-out likelihood of the start, not of the fit", "start-likelihood")
def _(X, Xt, pi, theta, a, b, n_iter):
    return _fit_with(X, Xt, pi, theta, a, b, n_iter, start_ll=True)


@slip("05.digits-fit", "mean log-likelihood per pixel", "over-d")
def _(X, Xt, pi, theta, a, b, n_iter):
    return _fit_with(X, Xt, pi, theta, a, b, n_iter, per_pixel=True)


@slip("05.digits-fit", "the M-step without the prior (maximum likelihood)")
def _(X, Xt, pi, theta, a, b, n_iter):
    def ml(X, resp, a, b):
        N_k = resp.sum(axis=0)
        return N_k / len(X), np.clip(resp.T @ X / N_k[:, None], 1e-12, 1 - 1e-12)

    return _fit_with(X, Xt, pi, theta, a, b, n_iter, m_step=ml)


@slip("05.digits-fit", "pi kept at the start, only theta updated", "pi-fixed")
def _(X, Xt, pi, theta, a, b, n_iter):
    return _fit_with(X, Xt, pi, theta, a, b, n_iter,
                     m_step=lambda X, resp, a, b: (pi, R.bernoulli_m_step(X, resp, a, b).theta))


last_line("05.digits-fit", "a tuple (theta, pi, test_log_p)",
          lambda d: (d["theta"], d["pi"], d["test_log_p"]), "order")

# -- 06.choose-k-bic ------------------------------------------------------------------------------


def _bic_with(X, k_max, random_state, penalty, factor=2.0, argbest=np.argmin, count=None):
    from emlib.gmm import GaussianMixture

    n, d = X.shape
    bics = []
    for K in range(1, k_max + 1):
        gm = GaussianMixture(K, n_init=3, random_state=random_state).fit(X)
        p = (K - 1 + K * d + K * d * (d + 1) // 2) if count is None else count(K, d)
        bics.append(-factor * gm.score(X) * n + penalty(p, n))
    bics = np.array(bics)
    return int(argbest(bics)), bics


@slip("06.choose-k-bic", "argmin without + 1", "minus-one")
def _(X, k_max, random_state):
    return _bic_with(X, k_max, random_state, lambda p, n: p * np.log(n))


@slip("06.choose-k-bic", "BIC without the factor 2", "without-2")
def _(X, k_max, random_state):
    K, bics = _bic_with(X, k_max, random_state, lambda p, n: p * np.log(n), factor=1.0)
    return K + 1, bics


@slip("06.choose-k-bic", "log10 n in the penalty", "log10-penalty")
def _(X, k_max, random_state):
    K, bics = _bic_with(X, k_max, random_state, lambda p, n: p * np.log10(n))
    return K + 1, bics


@slip("06.choose-k-bic", "covariances counted as d^2", "d-squared")
def _(X, k_max, random_state):
    K, bics = _bic_with(X, k_max, random_state, lambda p, n: p * np.log(n),
                        count=lambda K, d: K - 1 + K * d + K * d * d)
    return K + 1, bics


# -- 06.collapse --------------------------------------------------------------------------------


@slip("06.collapse", "largest eigenvalue below the threshold", "largest")
def _(Sigma, m):
    return np.flatnonzero(np.linalg.eigvalsh(Sigma)[:, -1] < m)


@slip("06.collapse", "trace below the threshold", "trace")
def _(Sigma, m):
    return np.flatnonzero(np.trace(Sigma, axis1=1, axis2=2) < m)


@slip("06.collapse", "1-based indices")
def _(Sigma, m):
    return np.flatnonzero(np.linalg.eigvalsh(Sigma)[:, 0] < m) + 1


@slip("06.collapse", "healthy components returned (the test inverted)")
def _(Sigma, m):
    return np.flatnonzero(np.linalg.eigvalsh(Sigma)[:, 0] >= m)


# -- 06.restarts ----------------------------------------------------------------------------------


def _restarts(X, K, seeds, last=-1, pick=np.argmax, **kw):
    from emlib.gmm import GaussianMixture

    lls = np.array([GaussianMixture(K, random_state=int(s), **kw).fit(X).log_likelihoods_[last]
                    for s in seeds])
    return lls, int(seeds[int(pick(lls))])


@slip("06.restarts", "no init=\"random_from_data\"", "default-init")
def _(X, K, seeds):
    return _restarts(X, K, seeds)


@slip("06.restarts", "the seed of the lowest run", "argmin")
def _(X, K, seeds):
    return _restarts(X, K, seeds, pick=np.argmin, init="random_from_data")


last_line("06.restarts", "a tuple (best_seed, log_likelihoods)",
          lambda d: (d["best_seed"], d["log_likelihoods"]), "order")
last_line("06.restarts", "log-likelihoods as -2 ln p",
          lambda d: {**d, "log_likelihoods": -2 * d["log_likelihoods"]}, "deviance")


# -- more slips of the last line and of the formula -----------------------------------------------

last_line("01.jensen-gap", "the gap squared", lambda g: g**2, "square")
last_line("02.elbo-kl", "ELBO and KL as -2 times", lambda d: {k: -2 * v for k, v in d.items()},
          "deviance")
last_line("03.e-step", "ln r in base 10", lambda r: np.log10(r))
last_line("03.m-step", "pi as a percentage", lambda d: {**d, "pi": 100 * d["pi"]}, "percent")
last_line("04.lloyd-step", "inertia as the root of the sum of squares",
          lambda d: {**d, "inertia": np.sqrt(d["inertia"])}, "sqrt")
last_line("05.bernoulli-e-step", "responsibilities transposed (K, n)",
          lambda d: {**d, "resp": d["resp"].T})
last_line("05.cluster-labels", "labels from 1 (+ 1)", lambda d: {**d, "labels": d["labels"] + 1},
          "plus-one")
last_line("06.choose-k-bic", "BIC values as -BIC", lambda d: (d["K"], -d["bics"]), "sign")
last_line("06.restarts", "log-likelihoods per sample", lambda d: {**d, "log_likelihoods":
          d["log_likelihoods"] / 200}, "mean-per-sample", "over-n")
last_line("02.em-gain", "kl_new as a percentage of the gain",
          lambda d: {**d, "kl_new": 100 * d["kl_new"]}, "percent")
