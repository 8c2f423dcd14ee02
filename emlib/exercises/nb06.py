"""Exercises of notebook 06 (EM in practice).

``06.choose-k-bic`` (function): ``choose_k_bic(X, k_max, random_state)`` fits
``emlib.gmm.GaussianMixture(K, n_init=3, random_state=random_state)`` for K = 1..k_max, computes
BIC (eq. (6.1)) from the fitted log-likelihood and the parameter count, and returns
``(K_best, bics)``: the K with the lowest BIC and the k_max BIC values.

``06.collapse`` (function): ``collapsing_components(Sigma, min_eigenvalue)`` returns the sorted
indices of the components whose covariance (K, d, d) has an eigenvalue below
``min_eigenvalue``: the components collapsing onto a point or a line (eq. (6.3)).

``06.restarts`` (function): ``compare_restarts(X, n_components, seeds)`` fits
``GaussianMixture(n_components, init="random_from_data", random_state=s)`` for every seed and
returns ``(log_likelihoods, best_seed)``: the final total log-likelihood of every run and the
seed of the best one (the first on a tie).

``06.practice`` (choice): which statements about EM in practice are true, e.g. ``{"a", "c"}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ..datasets import make_mixture
from ..exceptions import ConvergenceWarning, EmptyComponentWarning
from ..gmm import GaussianMixture
from .compare import choice_set, close, misclassified, record, whole_number
from .spec import Exercise, Mistake, Verdict

# ---------------------------------------------------------------------------------------------
# 06.choose-k-bic
# ---------------------------------------------------------------------------------------------

N_INIT_BIC = 3  # restarts per K in 06.choose-k-bic


def _fits(X, k_max, random_state) -> list[GaussianMixture]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", EmptyComponentWarning)
        return [
            GaussianMixture(K, n_init=N_INIT_BIC, random_state=random_state).fit(X)
            for K in range(1, int(k_max) + 1)
        ]


def _criterion(X, k_max, random_state, penalty: Callable[[float, int], float], scale=1.0) -> dict:
    """Criterion -2 ll / scale + penalty(p, n) for K = 1..k_max, and its argmin."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    values = []
    for gm in _fits(X, k_max, random_state):
        ll = gm.score(X) * n  # the total log-likelihood of the fitted parameters
        values.append(-2.0 * ll / scale + penalty(gm.params_.n_parameters(), n))
    values = np.asarray(values)
    return {"K": int(np.argmin(values)) + 1, "bics": values}


def _choose_k_bic(X, k_max, random_state) -> dict:
    """The reference: emlib's own BIC (eq. (6.1)) for every K."""
    X = np.asarray(X, dtype=np.float64)
    bics = np.array([gm.bic(X) for gm in _fits(X, k_max, random_state)])
    return {"K": int(np.argmin(bics)) + 1, "bics": bics}


def _bic_aic(X, k_max, random_state) -> dict:
    return _criterion(X, k_max, random_state, lambda p, n: 2.0 * p)


def _bic_argmax(X, k_max, random_state) -> dict:
    return {"K": int(np.argmax(_choose_k_bic(X, k_max, random_state)["bics"])) + 1}


def _bic_mean_ll(X, k_max, random_state) -> dict:
    return _criterion(X, k_max, random_state, lambda p, n: p * np.log(n), scale=np.shape(X)[0])


def _bic_k_weights(X, k_max, random_state) -> dict:
    right = _choose_k_bic(X, k_max, random_state)
    n = np.shape(X)[0]
    bics = right["bics"] + np.log(n)  # K free weights instead of K - 1
    return {"bics": bics}


def _bic_without_2(X, k_max, random_state) -> dict:
    return _criterion(X, k_max, random_state, lambda p, n: p * np.log(n), scale=2.0)


def _bic_log10(X, k_max, random_state) -> dict:
    return _criterion(X, k_max, random_state, lambda p, n: p * np.log10(n))


def _bic_d_squared(X, k_max, random_state) -> dict:
    right = _choose_k_bic(X, k_max, random_state)
    n, d = np.shape(X)
    K = np.arange(1, int(k_max) + 1)
    return {"bics": right["bics"] + K * d * (d - 1) / 2 * np.log(n)}


def _well_separated(rng: np.random.Generator, K: int, n: int):
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(K) / max(K, 1)
    mu = 6.0 * np.column_stack([np.cos(angles), np.sin(angles)]) * (K > 1)
    Sigma = []
    for _ in range(K):
        a = rng.uniform(0, np.pi)
        R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        Sigma.append(R @ np.diag(rng.uniform(0.3, 1.2, size=2)) @ R.T)
    return make_mixture(n, np.full(K, 1.0 / K), mu, np.array(Sigma), random_state=rng)


def _generate_bic(rng: np.random.Generator) -> dict:
    K = int(rng.integers(1, 5))
    sample = _well_separated(rng, K, int(rng.integers(200, 301)))
    return {"X": sample.X, "k_max": 5, "random_state": int(rng.integers(1000))}


CHOOSE_K_BIC = Exercise(
    id="06.choose-k-bic",
    title="Choose K by BIC",
    points=3,
    kind="function",
    name="choose_k_bic",
    signature="choose_k_bic(X, k_max, random_state)",
    equation="6.1",
    public_cases=(
        {"X": _well_separated(np.random.default_rng(6), 3, 300).X, "k_max": 5, "random_state": 0},
    ),
    generate=_generate_bic,
    n_hidden=2,
    reference=_choose_k_bic,
    compare=record(
        {"K": whole_number(index_based=True), "bics": close(1e-6, 1e-6)}, weights={"K": 2.0}
    ),
    mistakes=(
        Mistake(
            "aic",
            "this is AIC, with a penalty of 2 per parameter; BIC charges ln n per parameter.",
            "6.1",
            _bic_aic,
        ),
        Mistake(
            "mean-log-likelihood",
            "the log-likelihood in the criterion is the mean per sample (GaussianMixture.score); "
            "BIC uses the total, sum_i ln p(x_i), so multiply by n.",
            "6.1",
            _bic_mean_ll,
        ),
        Mistake(
            "argmax",
            "K is the one with the HIGHEST BIC; BIC is -2 ln p(X | theta) + p ln n, and lower "
            "is better.",
            "6.1",
            _bic_argmax,
        ),
        Mistake(
            "without-2",
            "the criterion is -ln p(X | theta) + p ln n: BIC doubles the log-likelihood, "
            "-2 ln p(X | theta) + p ln n.",
            "6.1",
            _bic_without_2,
        ),
        Mistake(
            "log10-penalty",
            "the penalty uses log10 n; BIC charges the natural logarithm, p ln n.",
            "6.1",
            _bic_log10,
        ),
        Mistake(
            "d-squared",
            "each covariance was counted as d^2 parameters; it is symmetric, d(d + 1)/2.",
            "6.1",
            _bic_d_squared,
        ),
        Mistake(
            "k-weights",
            "the parameter count has K free weights; they sum to one, so only K - 1 are free.",
            "6.1",
            _bic_k_weights,
        ),
    ),
    forbidden=(
        "emlib.gmm.GaussianMixture.bic",
        "emlib.gmm.GaussianMixture.aic",
        "emlib.gmm.GMMParams.n_parameters",
        "sklearn.mixture.GaussianMixture",
    ),
)

# ---------------------------------------------------------------------------------------------
# 06.collapse
# ---------------------------------------------------------------------------------------------


def _collapsing(Sigma, min_eigenvalue) -> np.ndarray:
    smallest = np.linalg.eigvalsh(np.asarray(Sigma, dtype=np.float64))[:, 0]
    return np.flatnonzero(smallest < float(min_eigenvalue))


def _as_indices(answer, K: int) -> tuple[set[int] | None, str]:
    if answer is None:
        return None, "got None: did the function forget to `return` its result?"
    try:
        arr = np.asarray(answer)
        if arr.dtype == bool and arr.shape == (K,):
            arr = np.flatnonzero(arr)
        values = [float(v) for v in np.ravel(arr)]
    except (TypeError, ValueError):
        return None, f"expected a list or array of component indices; got {type(answer).__name__}"
    if any(not v.is_integer() or not 0 <= v < K for v in values):
        return None, f"expected component indices between 0 and {K - 1}"
    return {int(v) for v in values}, ""


def _compare_indices(answer, expected, inputs) -> Verdict:
    K = np.shape(inputs["Sigma"])[0]
    chosen, why = _as_indices(answer, K)
    if chosen is None:
        return Verdict.wrong(why)
    truth = {int(k) for k in np.ravel(expected)}
    right = sum((k in chosen) == (k in truth) for k in range(K))
    if right == K:
        return Verdict.ok()
    return Verdict.graded(right / K, f"{right} of {K} components classified correctly")


def _by_diagonal(Sigma, min_eigenvalue) -> np.ndarray:
    diag = np.diagonal(np.asarray(Sigma, dtype=np.float64), axis1=1, axis2=2)
    return np.flatnonzero(diag.min(axis=1) < min_eigenvalue)


def _by_largest(Sigma, min_eigenvalue) -> np.ndarray:
    return np.flatnonzero(np.linalg.eigvalsh(np.asarray(Sigma, dtype=np.float64))[:, -1] < min_eigenvalue)


def _by_trace(Sigma, min_eigenvalue) -> np.ndarray:
    return np.flatnonzero(np.trace(np.asarray(Sigma, dtype=np.float64), axis1=1, axis2=2) < min_eigenvalue)


def _by_determinant(Sigma, min_eigenvalue) -> np.ndarray:
    return np.flatnonzero(np.linalg.det(np.asarray(Sigma, dtype=np.float64)) < min_eigenvalue)


def _spd(rng: np.random.Generator, eigenvalues) -> np.ndarray:
    d = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    S = Q @ np.diag(eigenvalues) @ Q.T
    return (S + S.T) / 2


def _generate_collapse(rng: np.random.Generator) -> dict:
    K = int(rng.integers(3, 7))
    d = int(rng.integers(2, 5))
    kinds = rng.permutation(["healthy", "needle", "point", "small"] + ["healthy"] * (K - 4))[:K]
    Sigma = []
    for kind in kinds:
        if kind == "needle":  # thin in one direction only: the diagonal hides it
            ev = np.concatenate([[10 ** rng.uniform(-9, -6)], rng.uniform(1, 6, d - 1)])
        elif kind == "point":
            ev = 10 ** rng.uniform(-10, -6, d)
        elif kind == "small":  # small but round: a tiny determinant, yet healthy
            ev = np.full(d, 10 ** rng.uniform(-2.5, -1.5))
        else:
            ev = rng.uniform(0.2, 4, d)
        Sigma.append(_spd(rng, ev))
    return {"Sigma": np.array(Sigma), "min_eigenvalue": 1e-4}


def _public_collapse() -> dict:
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    R = np.array([[c, -s], [s, c]])
    needle = R @ np.diag([1e-7, 4.0]) @ R.T  # diagonal entries about 2, yet one eigenvalue 1e-7
    return {
        "Sigma": np.array(
            [
                [[1.0, 0.3], [0.3, 0.5]],
                (needle + needle.T) / 2,
                np.diag([2e-3, 2e-3]),
                np.diag([1e-8, 2e-8]),
                np.diag([1e-5, 1.0]),  # thin along an axis: small diagonal, large trace
                np.diag([6e-5, 6e-5]),  # a point: both eigenvalues small, their sum not
            ]
        ),
        "min_eigenvalue": 1e-4,
    }


def _public_collapse_3d() -> dict:
    """d = 3: the first eigenvalue np.linalg.eigvals lists, the diagonal and the determinant
    each pick a different set of components from the smallest eigenvalue's."""
    rng = np.random.default_rng(0)
    eigenvalues = ([3.0, 1e-7, 2.0], [0.5, 1.5, 4.0], [2.0, 5.0, 1e-8], [1e-2, 1e-2, 1e-2])
    Sigma = [_spd(rng, ev) for ev in eigenvalues] + [np.diag([1e-5, 1.0, 1.0]), 5e-5 * np.eye(3)]
    return {"Sigma": np.array(Sigma), "min_eigenvalue": 1e-4}


def _by_first_eigvals(Sigma, min_eigenvalue) -> np.ndarray:
    first = np.linalg.eigvals(np.asarray(Sigma, dtype=np.float64))[:, 0].real
    return np.flatnonzero(first < min_eigenvalue)


COLLAPSE = Exercise(
    id="06.collapse",
    title="Detect collapsing components",
    points=2,
    kind="function",
    name="collapsing_components",
    signature="collapsing_components(Sigma, min_eigenvalue)",
    equation="6.3",
    public_cases=(_public_collapse(), _public_collapse_3d()),
    generate=_generate_collapse,
    n_hidden=4,
    reference=_collapsing,
    compare=_compare_indices,
    mistakes=(
        Mistake(
            "diagonal",
            "the test looks at the diagonal of Sigma_k; a component squeezed along a DIAGONAL "
            "direction keeps large diagonal entries. The smallest eigenvalue is the variance in "
            "the thinnest direction.",
            "6.3",
            _by_diagonal,
        ),
        Mistake(
            "eigvals-unsorted",
            "the test reads the first eigenvalue np.linalg.eigvals returns, but eigvals lists "
            "them in no particular order; take the smallest (np.linalg.eigvalsh sorts them in "
            "ascending order, or use .min()).",
            "6.3",
            _by_first_eigvals,
        ),
        Mistake(
            "largest",
            "the test looks at the LARGEST eigenvalue (eigvalsh sorts them in ascending "
            "order, so [:, -1] is the largest); a collapse is one small eigenvalue, [:, 0].",
            "6.3",
            _by_largest,
        ),
        Mistake(
            "trace",
            "the test uses the trace, the sum of the eigenvalues: one direction can collapse "
            "while the others keep the sum large. Use the smallest eigenvalue.",
            "6.3",
            _by_trace,
        ),
        Mistake(
            "determinant",
            "the test uses det(Sigma_k): a long thin needle can have a large determinant, and a "
            "small round component a tiny one. Use the smallest eigenvalue.",
            "6.3",
            _by_determinant,
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# 06.restarts
# ---------------------------------------------------------------------------------------------


def _runs(X, n_components, seeds) -> list[GaussianMixture]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", EmptyComponentWarning)
        return [
            GaussianMixture(int(n_components), init="random_from_data", random_state=int(s)).fit(X)
            for s in np.ravel(seeds)
        ]


def _compare_restarts(X, n_components, seeds) -> dict:
    lls = np.array([gm.log_likelihoods_[-1] for gm in _runs(X, n_components, seeds)])
    return {"log_likelihoods": lls, "best_seed": int(np.ravel(seeds)[int(np.argmax(lls))])}


def _restarts_mean(X, n_components, seeds) -> dict:
    right = _compare_restarts(X, n_components, seeds)
    return {"log_likelihoods": right["log_likelihoods"] / np.shape(X)[0]}


def _restarts_first(X, n_components, seeds) -> dict:
    lls = np.array([gm.log_likelihoods_[0] for gm in _runs(X, n_components, seeds)])
    return {"log_likelihoods": lls, "best_seed": int(np.ravel(seeds)[int(np.argmax(lls))])}


def _restarts_argmin(X, n_components, seeds) -> dict:
    lls = _compare_restarts(X, n_components, seeds)["log_likelihoods"]
    return {"log_likelihoods": lls, "best_seed": int(np.ravel(seeds)[int(np.argmin(lls))])}


def _restarts_index(X, n_components, seeds) -> dict:
    lls = _compare_restarts(X, n_components, seeds)["log_likelihoods"]
    return {"log_likelihoods": lls, "best_seed": int(np.argmax(lls))}


def _best_of_own(pick: Callable) -> Callable:
    """``Mistake.matches``: best_seed is ``pick(seeds, the answer's own log-likelihoods)``, and
    not the seed of their maximum (so that wrong log-likelihoods are never read as a wrong pick)."""

    def matches(answer, inputs) -> bool:
        try:
            lls = np.asarray(answer["log_likelihoods"] if isinstance(answer, dict) else answer[0], float)
            best = int(answer["best_seed"] if isinstance(answer, dict) else answer[1])
        except (TypeError, ValueError, KeyError, IndexError):
            return False
        seeds = np.ravel(inputs["seeds"])
        if lls.shape != seeds.shape or not np.isfinite(lls).all():
            return False
        return best == int(pick(seeds, lls)) and best != int(seeds[int(np.argmax(lls))])

    return matches


def _restarts_default_init(X, n_components, seeds) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", EmptyComponentWarning)
        runs = [GaussianMixture(int(n_components), random_state=int(s)).fit(X) for s in np.ravel(seeds)]
    return {"log_likelihoods": np.array([gm.log_likelihoods_[-1] for gm in runs])}


def _overlapping(rng: np.random.Generator, K: int, n: int):
    mu = rng.uniform(-3, 3, size=(K, 2))
    Sigma = []
    for _ in range(K):
        a = rng.uniform(0, np.pi)
        R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        Sigma.append(R @ np.diag(rng.uniform(0.1, 1.0, size=2)) @ R.T)
    return make_mixture(n, rng.dirichlet(np.full(K, 5.0)), mu, np.array(Sigma), random_state=rng)


def _generate_restarts(rng: np.random.Generator) -> dict:
    K = int(rng.integers(3, 5))
    X = _overlapping(rng, K, int(rng.integers(150, 251))).X
    return {"X": X, "n_components": K, "seeds": rng.choice(1000, size=6, replace=False)}


RESTARTS = Exercise(
    id="06.restarts",
    title="Compare restarts",
    points=3,
    kind="function",
    name="compare_restarts",
    signature="compare_restarts(X, n_components, seeds)",
    equation="3.3",
    public_cases=(
        {
            "X": _overlapping(np.random.default_rng(60), 4, 200).X,
            "n_components": 4,
            "seeds": np.array([3, 14, 15, 92, 65, 35]),
        },
    ),
    generate=_generate_restarts,
    n_hidden=2,
    reference=_compare_restarts,
    compare=record(
        {"log_likelihoods": close(1e-8, 1e-6), "best_seed": whole_number()},
        weights={"log_likelihoods": 2.0},
    ),
    mistakes=(
        Mistake(
            "mean-per-sample",
            "the log-likelihoods are means per sample (score); the exercise asks for the total "
            "ln p(X | theta) = sum_i ln p(x_i | theta), the last entry of log_likelihoods_.",
            "3.3",
            _restarts_mean,
        ),
        Mistake(
            "first-iteration",
            "these are the log-likelihoods of the INITIAL parameters (log_likelihoods_[0]); "
            "compare the runs where they end, log_likelihoods_[-1].",
            "3.3",
            _restarts_first,
        ),
        Mistake(
            "default-init",
            "the runs start from GaussianMixture's default initialisation; the exercise compares "
            'restarts from random samples, init="random_from_data", one run per seed.',
            "3.3",
            _restarts_default_init,
        ),
        Mistake(
            "argmin",
            "best_seed is the run with the LOWEST log-likelihood of your list; EM maximises it.",
            "3.3",
            _restarts_argmin,
            matches=_best_of_own(lambda seeds, lls: seeds[int(np.argmin(lls))]),
            explains=("best_seed",),
        ),
        Mistake(
            "index-not-seed",
            "best_seed is the position of the best run in seeds; return the seed itself, seeds[i].",
            "3.3",
            _restarts_index,
            matches=_best_of_own(lambda seeds, lls: int(np.argmax(lls))),
            explains=("best_seed",),
        ),
    ),
    forbidden=("sklearn.mixture.GaussianMixture",),
)

# ---------------------------------------------------------------------------------------------
# 06.practice
# ---------------------------------------------------------------------------------------------

PRACTICE_CHOICES = {
    "a": "For a Gaussian mixture fitted by maximum likelihood (reg_covar = 0), no EM iteration "
    "lowers the log-likelihood.",
    "b": "Started from k-means++, EM reaches the global maximum of the likelihood.",
    "c": "With K >= 2 full-covariance components and no regularisation, the likelihood of a "
    "Gaussian mixture has no maximum: a component shrinking onto one sample drives it to "
    "+infinity.",
    "d": "A larger reg_covar always makes a collapsed component leave the sample it sits on.",
    "e": "A tolerance of 1e-3 on the change of the total log-likelihood stops EM at the same "
    "iteration as a tolerance of 1e-3 on the change of the log-likelihood per sample.",
    "f": "As soon as n >= 8, BIC charges each parameter more than AIC does.",
    "g": "Kleinberg's impossibility theorem shows that the k-means objective cannot be minimised "
    "in polynomial time.",
    "h": "EM applies unchanged to any latent-variable model, including those whose posterior "
    "p(z | x, theta) has no closed form.",
}
_PRACTICE_TRUE = frozenset({"a", "c", "f"})

_PRACTICE_FEEDBACK = {
    "a": "It is true: with exact M-steps the log-likelihood never falls (eq. (2.7) of notebook "
    "02); only reg_covar > 0 turns the M-step into something else.",
    "b": "It is false: k-means++ gives a good start, not a guarantee; section 1 shows runs from "
    "it ending at different optima.",
    "c": "It is true (eq. (6.3)): the density of a component at its own mean grows like "
    "sigma^(-d) as sigma -> 0 while the other components keep the rest of the likelihood finite.",
    "d": "It is false: reg_covar bounds the density, and with it the likelihood, but a "
    "component can stay on its sample with the smallest covariance allowed (section 3).",
    "e": "It is false: the total changes n times as much as the average, so a total tolerance "
    "is n times stricter (eq. (6.4)).",
    "f": "It is true: BIC charges ln n per parameter, AIC 2, and ln 8 = 2.08 > 2.",
    "g": "It is false: the theorem is about properties (scale-invariance, richness, "
    "consistency) that no clustering function has together, not about running time.",
    "h": "It is false: the E-step needs p(z | x, theta); without a closed form one turns to "
    "variational or Monte Carlo approximations (section 6).",
}


def _misclassified(label: str) -> Callable:
    return misclassified(label, _PRACTICE_TRUE)


PRACTICE = Exercise(
    id="06.practice",
    title="True or false: EM in practice",
    points=4,
    kind="choice",
    name="practice",
    equation="6.1-6.4",
    choices=PRACTICE_CHOICES,
    reference=lambda: _PRACTICE_TRUE,
    compare=choice_set(tuple(PRACTICE_CHOICES)),
    mistakes=tuple(
        Mistake(
            f"statement-{label}",
            f"statement ({label}) is classified wrongly. {_PRACTICE_FEEDBACK[label]}",
            {"a": "2.7", "c": "6.3", "e": "6.4", "f": "6.1"}.get(label, "6.1"),
            (lambda label=label: set(_PRACTICE_TRUE ^ {label})),
            matches=_misclassified(label),
        )
        for label in PRACTICE_CHOICES
    ),
)

EXERCISES = (CHOOSE_K_BIC, COLLAPSE, RESTARTS, PRACTICE)
