"""Every user-facing input check of emlib, in one place.

Each error names the argument, says what came, what was expected and how to fix it, so that a
student reading a traceback in a notebook knows what to change. Tests pin every message
(``tests/test_validation.py``). Nothing here silently coerces: a 1-D ``X`` is the one documented
reshape (``n`` samples of one feature, as in notebook 03's five-point problem).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
GMM_INITS = ("kmeans++", "kmeans", "random", "random_from_data")
KMEANS_INITS = ("kmeans++", "random")


def _shape(a) -> str:
    return "x".join(str(s) for s in np.shape(a)) or "scalar"


def check_X(X, name: str = "X", *, binary: bool = False, finite: bool = True) -> np.ndarray:
    """Return ``X`` as a C-contiguous float64 array of shape (n, d).

    A 1-D array of length n is accepted as n samples of one feature (n x 1). Raises ``ValueError``
    for other dimensions, for an empty array, for NaN or infinite values (how many, and the first
    row that has one), and, with ``binary=True``, for values other than 0 and 1.

    ``finite=False`` skips the pass over X that looks for NaN and infinities; it is for callers
    whose results are non-finite whenever X is, and which call ``check_X(X)`` again to name the
    problem when they see one (the Gaussian E- and M-steps, run on the same X every iteration).
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be an array of numbers; got {type(X).__name__} that numpy cannot "
            f"convert to float ({exc}). Fix: pass a numeric array of shape (n_samples, n_features)."
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features); got a {arr.ndim}-D array of "
            f"shape {_shape(arr)}. Fix: reshape it, e.g. {name}.reshape(len({name}), -1) "
            f"for images."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {_shape(arr)}); expected at least one sample and one "
            f"feature. Fix: check how {name} was loaded or filtered."
        )
    if finite and not (ok := np.isfinite(arr)).all():
        bad_rows = np.flatnonzero(~ok.all(axis=1))
        n_bad = int((~ok).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value{'s' if n_bad != 1 else ''} "
            f"(first in row {bad_rows[0]}); expected only finite numbers. Fix: drop or impute "
            f"those rows, e.g. {name} = {name}[np.isfinite({name}).all(axis=1)]."
        )
    if binary:
        nonbinary = (arr != 0) & (arr != 1)
        if nonbinary.any():
            row, col = np.argwhere(nonbinary)[0]
            raise ValueError(
                f"{name} must contain only 0 and 1 for a Bernoulli mixture; got "
                f"{int(nonbinary.sum())} other value{'s' if nonbinary.sum() != 1 else ''} "
                f"(first {float(arr[row, col])!r} at row {row}, column {col}). Fix: binarize it, "
                f"e.g. ({name} > threshold).astype(float)."
            )
    return np.ascontiguousarray(arr)


def check_n_components(n_components, n_samples: int, name: str = "n_components") -> int:
    """Return ``n_components`` as an int in [1, n_samples] or raise with the fix."""
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise TypeError(
            f"{name} must be an integer; got {n_components!r} of type "
            f"{type(n_components).__name__}. Fix: pass a whole number such as 3."
        )
    if n_components < 1:
        raise ValueError(
            f"{name} must be at least 1; got {n_components}. Fix: ask for one or more components."
        )
    if n_components > n_samples:
        raise ValueError(
            f"{name}={n_components} is larger than the number of samples ({n_samples}); expected "
            f"at most {n_samples}. Fix: use fewer components or more data."
        )
    return int(n_components)


def check_choice(value, name: str, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``; otherwise list the valid choices."""
    valid = tuple(valid)
    if not isinstance(value, str) or value not in valid:
        listed = ", ".join(repr(v) for v in valid)
        raise ValueError(
            f"{name}={value!r} is not supported; expected one of {listed}. "
            f"Fix: pass one of those strings."
        )
    return value


def check_weights(pi, n_components: int | None = None, name: str = "pi") -> np.ndarray:
    """Return mixing weights as float64 (K,), non-negative and summing to 1 within 1e-8."""
    arr = np.asarray(pi, dtype=np.float64)
    if arr.ndim != 1 or (n_components is not None and arr.shape[0] != n_components):
        want = f"({n_components},)" if n_components is not None else "(n_components,)"
        raise ValueError(
            f"{name} must have shape {want}; got shape {_shape(arr)}. "
            f"Fix: pass one weight per component."
        )
    if not np.isfinite(arr).all() or (arr < 0).any():
        k = int(np.flatnonzero(~(arr >= 0))[0])
        raise ValueError(
            f"{name} must be non-negative; got {name}[{k}] = {float(arr[k])!r}. "
            f"Fix: weights are probabilities, e.g. np.full(K, 1 / K)."
        )
    total = arr.sum()
    if abs(total - 1.0) > 1e-8:
        raise ValueError(
            f"{name} must sum to 1; got a sum of {total:.10g}. Fix: normalise, {name} / {name}.sum()."
        )
    return arr


def check_means(mu, n_components: int, n_features: int, name: str = "mu") -> np.ndarray:
    """Return component means as float64 (K, d)."""
    arr = np.asarray(mu, dtype=np.float64)
    if n_features == 1 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape != (n_components, n_features):
        raise ValueError(
            f"{name} must have shape ({n_components}, {n_features}) (n_components, n_features); "
            f"got shape {_shape(arr)}. Fix: one row per component, one column per feature."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values. Fix: pass finite means.")
    return arr


def covariance_shape(covariance_type: str, n_components: int, n_features: int) -> tuple:
    """The shape of ``Sigma`` for each covariance type (full, diag, spherical, tied)."""
    return {
        "full": (n_components, n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
        "tied": (n_features, n_features),
    }[covariance_type]


def check_covariances(
    Sigma, covariance_type: str, n_components: int, n_features: int, name: str = "Sigma"
) -> np.ndarray:
    """Return ``Sigma`` as float64 of the shape its type needs, symmetric positive definite.

    Shapes: ``full`` (K, d, d), ``diag`` (K, d), ``spherical`` (K,), ``tied`` (d, d).
    """
    check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
    arr = np.asarray(Sigma, dtype=np.float64)
    want = covariance_shape(covariance_type, n_components, n_features)
    if covariance_type == "full" and n_features == 1 and arr.shape == (n_components,):
        arr = arr.reshape(want)
    if arr.shape != want:
        raise ValueError(
            f"{name} for covariance_type={covariance_type!r} must have shape {want}; got shape "
            f"{_shape(arr)}. Fix: see the shapes in the docstring of emlib.densities.log_gaussian."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values. Fix: pass finite covariances.")
    if covariance_type in ("diag", "spherical"):
        if (arr <= 0).any():
            idx = tuple(int(i) for i in np.argwhere(arr <= 0)[0])
            raise ValueError(
                f"{name} must be positive (variances); got {name}{list(idx)} = {float(arr[idx])!r}. "
                f"Fix: variances are squared scales, so pass values > 0 (add reg_covar)."
            )
        return arr
    mats = arr[None] if covariance_type == "tied" else arr
    asym = np.abs(mats - np.swapaxes(mats, -1, -2)).max(axis=(-1, -2))
    scale = np.abs(mats).max(axis=(-1, -2))
    bad = np.flatnonzero(asym > 1e-10 * np.maximum(scale, 1e-300))
    where = "" if covariance_type == "tied" else f"[{bad[0]}]" if bad.size else ""
    if bad.size:
        raise ValueError(
            f"{name}{where} is not symmetric (largest |S - S.T| = {asym[bad[0]]:.3g}); expected a "
            f"symmetric positive definite matrix. Fix: symmetrise, (S + S.T) / 2."
        )
    for k, S in enumerate(mats):
        try:
            np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            where = "" if covariance_type == "tied" else f"[{k}]"
            smallest = np.linalg.eigvalsh(S)[0]
            raise ValueError(
                f"{name}{where} is not positive definite (smallest eigenvalue {smallest:.3g}); "
                f"expected a symmetric positive definite matrix. Fix: add a small multiple of the "
                f"identity, e.g. S + 1e-6 * np.eye(d) (GaussianMixture's reg_covar does this)."
            ) from None
    return arr


def check_probabilities(theta, n_features: int, name: str = "theta") -> np.ndarray:
    """Return Bernoulli means as float64 (K, d), each in [0, 1]."""
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != n_features:
        raise ValueError(
            f"{name} must have shape (n_components, {n_features}); got shape {_shape(arr)}. "
            f"Fix: one row of pixel probabilities per component."
        )
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(
            f"{name} must lie in [0, 1] (Bernoulli means); got values from {float(np.nanmin(arr))!r} to "
            f"{float(np.nanmax(arr))!r}. Fix: clip or re-estimate them with bernoulli.m_step."
        )
    return arr


def check_resp(resp, n_samples: int, name: str = "resp") -> np.ndarray:
    """Return responsibilities as float64 (n, K): entries in [0, 1], rows summing to 1."""
    arr = np.asarray(resp, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples}, n_components), one row per sample; got shape "
            f"{_shape(arr)}. Fix: pass the (n, K) matrix returned by e_step."
        )
    # One pass for the minimum (NaN if any entry is NaN) and one for the row sums (infinite if
    # an entry is): the M-step checks resp on every call. The sums as a product with a vector of
    # ones: BLAS reads resp once, about 1.5x faster than numpy's sum over its short rows.
    sums = arr @ np.ones(arr.shape[1])
    if not arr.min() >= 0 or not np.isfinite(sums).all():
        raise ValueError(
            f"{name} must contain finite, non-negative probabilities. "
            f"Fix: compute it in log space with e_step."
        )
    rows = np.abs(sums - 1.0)
    if rows.max() > 1e-6:
        i = int(rows.argmax())
        raise ValueError(
            f"each row of {name} must sum to 1 over components; row {i} sums to "
            f"{arr[i].sum():.6g}. Fix: normalise along axis=1, {name} / {name}.sum(axis=1, "
            f"keepdims=True)."
        )
    return arr


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, positive (or non-negative with ``allow_zero``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number; got {value!r}. Fix: pass e.g. 1e-6.") from None
    ok = v >= 0 if allow_zero else v > 0
    if not np.isfinite(v) or not ok:
        want = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{name} must be a finite {want} number; got {value!r}. Fix: pass e.g. 1e-6."
        )
    return v


def check_beta_prior(value, name: str) -> float:
    """Return a Beta prior parameter (``a`` or ``b``) as a float >= 1.

    From 1 upwards the MAP update of eq. (5.6) of notebook 05 is the posterior mode and stays in
    [0, 1]; below 1 the Beta density is infinite at 0 and 1 and the update can leave [0, 1].
    """
    if isinstance(value, (bool, str)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be a number; got {value!r}. Fix: pass e.g. {name}=1.01.")
    v = float(value)
    if not np.isfinite(v) or v < 1:
        raise ValueError(
            f"{name} (a parameter of the Beta(a, b) prior) must be a finite number >= 1, so that "
            f"the MAP update of eq. (5.6) stays in [0, 1]; got {value!r}. Fix: pass {name}=1 for "
            f"maximum likelihood or e.g. {name}=1.01 for light smoothing."
        )
    return v


def check_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}; got {value!r}. Fix: pass e.g. {max(minimum, 100)}."
        )
    return int(value)


def check_random_state(random_state, name: str = "random_state") -> np.random.Generator:
    """Return ``np.random.default_rng(random_state)`` for None, an int >= 0 or a Generator.

    A Generator is returned as it is (its stream continues); anything else raises with the fix.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, (int, np.integer))
        or random_state < 0
    ):
        raise ValueError(
            f"{name} must be None, a non-negative integer or a numpy Generator; got "
            f"{random_state!r} of type {type(random_state).__name__}. Fix: pass a seed such as "
            f"0, or np.random.default_rng(0)."
        )
    return np.random.default_rng(int(random_state))


def check_n_features(X: np.ndarray, n_features: int, fitted_on: str, name: str = "X") -> None:
    """Raise unless the validated 2-D ``X`` has ``n_features`` columns, as ``fitted_on`` had."""
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} feature{'s' if X.shape[1] != 1 else ''} but {fitted_on} "
            f"has {n_features}; expected shape (n_samples, {n_features}). Fix: pass data with "
            f"the same columns as the data it was fitted on."
        )


def check_in_interval(value, name: str, low: float, high: float, why: str, example: float) -> float:
    """Return ``value`` as a float in the half-open interval [low, high), or raise with the fix.

    ``why`` says where the bounds come from, ``example`` is a valid value to suggest.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{name} must be a number in [{low:g}, {high:g}); got {value!r} of type "
            f"{type(value).__name__}. Fix: pass e.g. {example:g}."
        )
    if not low <= value < high:
        raise ValueError(
            f"{name} must lie in [{low:g}, {high:g}) ({why}); got {value!r}. "
            f"Fix: pass e.g. {example:g}."
        )
    return float(value)
