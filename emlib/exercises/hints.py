"""``hint(exercise_id, level=1)``: help for a student stuck before a first output.

API stable. Every function exercise has three hints, each more specific than the one before:
first the shapes and conventions of the data, then the equation of the notebook and how it splits
into steps, then the NumPy or SciPy calls that do those steps. A hint never holds the answer (no
solution line, no expected value): ``check`` is still what says whether the code is right.

``hint("03.e-step")`` shows the first hint; ``hint("03.e-step", 2)`` the first two, and so on. It
keeps no state, so a notebook run top to bottom shows the same hints again, and the level a
student asked for is written in the notebook: :func:`hints_used` reads it back from the code
cells, and the grader reports it when the instructor asks for it (``emlib grade --report-hints``).
"""

from __future__ import annotations

import ast
import html
from collections.abc import Iterable
from dataclasses import dataclass

from .registry import get

HINTS: dict[str, tuple[str, ...]] = {
    "01.jensen-gap": (
        "weights and points are 1-D arrays of the same length m; the weights sum to 1 and every"
        " point is positive. The answer is one number (a float).",
        "E[X] is the weighted sum of the points, and E[ln X] the weighted sum of their "
        "logarithms; the gap of (1.4) is the logarithm of the first minus the second.",
        "np.dot (or np.sum of a product) gives each weighted sum, np.log the logarithms. Return"
        " a float; it is never negative, by (1.4).",
    ),
    "02.elbo-kl": (
        "q and log_joint are both (n, K); each row of q sums to 1 and may hold exact zeros. "
        "Return the pair (L, KL), in that order, two floats summed over all n rows.",
        "The posterior's logarithm is ln p(z_i = k | x_i) = log_joint[i, k] minus the "
        "log-sum-exp of row i (2.5). Then L sums q (log_joint - ln q) (2.2) and KL sums q (ln q"
        " - ln posterior) (2.3), with 0 ln 0 = 0 wherever q is 0.",
        "emlib.densities.logsumexp(log_joint, axis=1, keepdims=True) gives the row totals "
        "without overflow; np.where(q > 0, ..., 0.0) keeps the zero entries out of the "
        "logarithm. L + KL must equal the sum of the row totals (2.4): test it yourself.",
    ),
    "02.e-step-kl": (
        "log_joint is (n, K), row i holding ln p(x_i, z_i = k | theta) for k = 1..K. The answer"
        " is an (n, K) matrix whose rows sum to 1.",
        "By (2.5) each row is the joint normalised over k. Do it in logs: subtract the row's "
        "log-sum-exp, then exponentiate; exponentiating first turns a row like (-1000, -1001) "
        "into 0/0.",
        "emlib.densities.logsumexp (or scipy.special.logsumexp) with axis=1 and keepdims=True, "
        "then np.exp of the difference.",
    ),
    "03.e-step": (
        "X is (n, d), pi (K,), mu (K, d), Sigma (K, d, d). The answer resp is (n, K), and each "
        "row sums to 1 over the K components.",
        "Build the (n, K) matrix ln pi_k + ln N(x_i | mu_k, Sigma_k) one component at a time "
        "with (3.1), then normalise each row with log-sum-exp (3.10) as in (3.4): one public "
        "point is so far away that every density underflows to 0.",
        "For component k, with the Cholesky factor L of Sigma[k] (np.linalg.cholesky), the "
        "columns of scipy.linalg.solve_triangular(L, (X - mu[k]).T, lower=True), squared and "
        "summed, are the Mahalanobis terms, and ln det Sigma_k is 2 * "
        "np.sum(np.log(np.diag(L))). Then scipy.special.logsumexp over axis=1.",
    ),
    "03.m-step": (
        "X is (n, d), resp (n, K). Return (pi, mu, Sigma): pi (K,), mu (K, d), and Sigma (K, d,"
        " d) for 'full', (K, d) for 'diag', (K,) for 'spherical'. No reg_covar is added.",
        "First N_k, the column sums of resp (3.5); then the weights N_k / n, mu_k = the "
        "resp-weighted mean (3.6), and the covariance of each type from the deviations x_i - "
        "mu_k: (3.7) full, (3.8) diag, (3.9) spherical, where the spherical variance averages "
        "over the d dimensions too.",
        "resp.sum(axis=0) for N_k, resp.T @ X for the weighted sums; for component k, D = X - "
        "mu[k] and (resp[:, k, None] * D).T @ D is the weighted scatter. The diag type keeps "
        "the diagonal (or sums resp * D**2 over the samples), the spherical one its mean.",
    ),
    "03.em-loop": (
        "Return (pi, mu, Sigma, log_likelihoods) where log_likelihoods is a 1-D array that "
        "starts with the log-likelihood of the start, before any iteration, and has one more "
        "entry per iteration.",
        "Each iteration: resp = your e_step (3.4), new parameters = your m_step (3.5)-(3.7) (or"
        " m_step_fn(X, resp) when it is given), then the log-likelihood (3.3) of the new "
        "parameters. Stop when the rise divided by n is at most tol (6.4), or after max_iter "
        "iterations; assert after each iteration that it did not fall by more than 1e-9 of its "
        "size (2.7).",
        "(3.3) is the sum over i of scipy.special.logsumexp over k of ln pi_k + "
        "scipy.stats.multivariate_normal(mu[k], Sigma[k]).logpdf(X). A for loop over range(1, "
        "max_iter + 1) with a break carries the stopping rule; np.asarray turns the list of "
        "values into the array.",
    ),
    "04.kmeans-plusplus": (
        "X is (n, d). Return an (n_clusters, d) array whose rows are distinct rows of X. Every "
        "random draw comes from one generator, np.random.default_rng(random_state): the same "
        "seed must give the same centres.",
        "The first centre is a row drawn uniformly. Then, until there are n_clusters centres: "
        "D(x_i)^2 is the squared distance from x_i to its nearest centre chosen so far, and the"
        " next centre is row i with probability (4.4), D(x_i)^2 over the sum of all of them.",
        "rng.integers(n) for the first index; ((X[:, None, :] - centres[None]) ** "
        "2).sum(-1).min(1) for the D^2 of every row; rng.choice(n, p=D2 / D2.sum()) for the "
        "next index.",
    ),
    "04.lloyd-step": (
        "X is (n, d), mu (K, d). Return (mu_new, labels, inertia): mu_new (K, d), labels an "
        "integer array (n,), inertia a float. The cases never leave a cluster empty.",
        "Assignment (4.2): each sample goes to its nearest centre of mu. Update (4.3): each new"
        " centre is the mean of its samples. inertia is J (4.1) of the centres passed in, not "
        "of mu_new.",
        "The (n, K) matrix of squared distances is ((X[:, None, :] - mu[None]) ** 2).sum(-1); "
        "np.argmin over axis=1 gives labels (ties go to the lowest index); X[labels == "
        "k].mean(0) gives centre k.",
    ),
    "04.param-counts": (
        "Return a tuple of two integers (n_gmm, n_kmeans) for K components in d dimensions.",
        "Count per block: the K weights lose one number to their sum being 1; each mean has d "
        "numbers; a symmetric d x d covariance is fixed by its diagonal and the entries on one "
        "side of it. k-means has only its centres, the mu_k of (4.1).",
        "A symmetric d x d matrix has d (d + 1) / 2 free entries: use integer division (//) so "
        "that the counts stay integers.",
    ),
    "05.bernoulli-e-step": (
        "X is (n, d) of 0 and 1, pi (K,), theta (K, d) strictly inside (0, 1). Return (resp, "
        "log_likelihood): resp (n, K) with rows summing to 1, and one float.",
        "ln p(x_i | theta_k) is the sum over pixels of x ln theta + (1 - x) ln(1 - theta) "
        "(5.1). Add ln pi_k, then normalise each row with log-sum-exp (5.4). Never form the "
        "product of 784 probabilities: it is 0.0 in floating point. The log-likelihood is the "
        "sum of the row totals.",
        "X @ np.log(theta).T + (1 - X) @ np.log1p(-theta).T is the (n, K) matrix of log "
        "densities; scipy.special.logsumexp(..., axis=1, keepdims=True) the row totals.",
    ),
    "05.bernoulli-m-step": (
        "X is (n, d) of 0 and 1, resp (n, K), a and b at least 1. Return (pi, theta): pi (K,) "
        "and theta (K, d).",
        "N_k is the column sum of resp and pi_k = N_k / n. theta_k is the MAP update (5.6): the"
        " resp-weighted count of ones plus a - 1, over N_k plus a + b - 2; a = b = 1 gives the "
        "maximum-likelihood mean (5.5).",
        "resp.T @ X is the (K, d) matrix of weighted counts of ones; resp.sum(axis=0)[:, None] "
        "broadcasts N_k over the d pixels.",
    ),
    "05.cluster-labels": (
        "The four arrays are 1-D integer arrays; cluster numbers run from 0 to n_clusters - 1. "
        "Return (labels, accuracy): labels an int array (n_clusters,), accuracy a float in [0, "
        "1].",
        "A cluster's label is the most common true label among the training images in it (the "
        "smallest on a tie, -1 when it has none); an image's cluster is the k with the largest "
        "responsibility (5.4). The accuracy counts the test images whose cluster's label is "
        "their own label.",
        "np.bincount(train_y[train_clusters == k]) counts the labels of cluster k and np.argmax"
        " returns the smallest of the most common ones; labels[test_clusters] maps each test "
        "image to its cluster's label, and np.mean of a boolean array is a fraction.",
    ),
    "05.digits-fit": (
        "X is (n, 784) and X_test (m, 784), both of 0 and 1; pi (K,) and theta (K, 784) are the "
        "start. Return (pi, theta, test_log_p): the parameters after exactly n_iter iterations, "
        "and one float.",
        "One iteration is your E-step (5.4) on X, then your MAP M-step (5.6) with a and b, "
        "starting from the pi and theta passed in. Only X enters the fit; X_test is used once "
        "at the end, for the mean of ln p(x_i) over its m images.",
        "A for loop over range(n_iter) that reassigns pi and theta; your bernoulli_e_step on "
        "X_test returns the total log-likelihood as its second value: divide by len(X_test).",
    ),
    "06.choose-k-bic": (
        "Return (K_best, bics): K_best an int between 1 and k_max, bics a float array of length"
        " k_max whose entry K - 1 belongs to K components.",
        "BIC (6.1) is -2 times the fitted total log-likelihood plus p ln n, where p counts the "
        "free parameters of a full-covariance mixture (exercise 04.param-counts). The lowest "
        "BIC wins.",
        "The fitted estimator's score(X) is the mean log-likelihood per sample: multiply by n "
        "for the total. np.argmin(bics) + 1 turns an index into a K.",
    ),
    "06.collapse": (
        "Sigma is (K, d, d), each a symmetric covariance matrix. Return the indices of the "
        "collapsing components, sorted, as a 1-D integer array (empty when there is none).",
        "A component collapses when its Gaussian shrinks in some direction (6.3): its smallest "
        "eigenvalue tends to 0, whatever the size of the others. Diagonal entries can stay "
        "large for a thin component lying along a diagonal.",
        "np.linalg.eigvalsh is made for symmetric matrices and returns each matrix's "
        "eigenvalues in ascending order; it takes the whole (K, d, d) stack at once. "
        "np.flatnonzero turns a boolean mask into indices.",
    ),
    "06.restarts": (
        "Return (log_likelihoods, best_seed): a float array with one entry per seed, in the "
        "order of seeds, and one of the seeds.",
        "Fit one mixture per seed with init='random_from_data' and random_state equal to that "
        "seed; each run's total log-likelihood (3.3) is what ends it. The best seed is the one "
        "whose run ended highest; the first one on a tie.",
        "score(X) is the mean per sample: multiply by len(X) for the total. np.argmax returns "
        "the first index of the maximum; map it back through seeds.",
    ),
}


@dataclass(frozen=True)
class Hint:
    """The hints of one exercise up to ``level``; displayed as HTML in a notebook, text elsewhere."""

    exercise_id: str
    title: str
    shown: tuple[str, ...]
    available: int

    def __repr__(self) -> str:
        lines = [f"{self.exercise_id} · {self.title} · hints {len(self.shown)} of {self.available}"]
        lines += [f"  {i}. {text}" for i, text in enumerate(self.shown, start=1)]
        lines.append(f"  {self._next_step()}")
        return "\n".join(lines)

    __str__ = __repr__

    def _next_step(self) -> str:
        level = len(self.shown)
        if level < self.available:
            return (
                f'A more specific hint: hint("{self.exercise_id}", {level + 1}). '
                f'Then check("{self.exercise_id}", ...) says whether the code is right.'
            )
        return (
            f'That was the last hint. check("{self.exercise_id}", ...) says which case fails and '
            "why; reread the equation it names."
        )

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(text)}</li>" for text in self.shown)
        header = html.escape(repr(self).splitlines()[0])
        return (
            f'<div class="emlib-hint"><div style="font-weight:bold">{header}</div>'
            f"<ol>{items}</ol><div>{html.escape(self._next_step())}</div></div>"
        )


def hint(exercise_id: str, level: int = 1) -> Hint:
    """The first ``level`` hints of a function exercise, the most general first.

    Parameters
    ----------
    exercise_id : str, the id in the exercise's ``check`` cell, e.g. ``"03.e-step"``
    level : int, 1 (shapes and conventions), 2 (the equation, step by step) or 3 (the calls
        that do each step)

    Examples
    --------
    >>> hint("04.param-counts").shown[0][:32]
    'Return a tuple of two integers (n'
    """
    ex = get(exercise_id)
    hints = HINTS.get(ex.id)
    if hints is None:
        raise ValueError(
            f"exercise {ex.id!r} is a {ex.kind} exercise; hints are written for the function "
            f"exercises. Fix: reread the notebook's equation ({ex.equation or 'see its text'}) and "
            f'try check("{ex.id}", ...), whose feedback names what it found.'
        )
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= len(hints):
        raise ValueError(
            f"level must be an integer from 1 to {len(hints)} for {ex.id!r}; got {level!r}. "
            f'Fix: hint("{ex.id}") for the first hint, hint("{ex.id}", 2) for the next.'
        )
    return Hint(ex.id, ex.title, hints[:level], len(hints))


def hints_used(sources: Iterable[str]) -> dict[str, int]:
    """The highest hint level asked for per exercise in these code cells (read, never run).

    A call ``hint("<id>")`` counts as level 1 and ``hint("<id>", k)`` (or ``level=k``) as level
    k; a call whose arguments are not plain constants, or a cell that does not parse, counts
    nothing. The grader runs this on a submission's code cells for ``--report-hints``.
    """
    used: dict[str, int] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            found = _hint_call(node)
            if found is not None:
                exercise_id, level = found
                used[exercise_id] = max(used.get(exercise_id, 0), level)
    return used


def _hint_call(node: ast.AST) -> tuple[str, int] | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "hint" or not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    exercise_id = node.args[0].value
    level_node = node.args[1] if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "level":
            level_node = keyword.value
    level = 1 if level_node is None else getattr(level_node, "value", None)
    if not isinstance(exercise_id, str) or isinstance(level, bool) or not isinstance(level, int):
        return None
    available = len(HINTS.get(exercise_id, ()))
    return (exercise_id, min(max(level, 1), available)) if available else None
