"""Normalising in log space, fast: log-sum-exp and responsibilities with one ``exp``.

:func:`emlib.reference.logsumexp` is eq. (3.10) of notebook 03 as written; the versions here add
what makes them fast on (K, n) arrays: one ``exp`` for both the sums and the responsibilities,
and a floor that keeps ``exp`` away from subnormal results.
"""

from __future__ import annotations

import numpy as np

# exp(-600) is ~1e-261: below it, exp returns subnormals that are slow to compute with and that
# no sum containing 1.0 (a log-sum-exp, a row of responsibilities) can tell from 0.
LOG_FLOOR = -600.0


def logsumexp(a: np.ndarray, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(a), axis))`` of a float array; an all ``-inf`` slice gives ``-inf``.

    Subtracting the maximum before ``exp`` keeps every term in [0, 1], so nothing overflows and at
    least one term is exactly 1 (eq. (3.10) of notebook 03).
    """
    m = np.max(a, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(m), m, 0.0)
    e = a - shift
    # Terms below exp(-600) ~ 1e-261 cannot change a sum that contains 1.0; clamping them keeps
    # exp away from subnormal results, which are tens of times slower to compute with.
    np.maximum(e, LOG_FLOOR, out=e)
    np.exp(e, out=e)
    out = np.log(np.sum(e, axis=axis, keepdims=True))
    out += shift
    np.copyto(out, m, where=np.isneginf(m))  # an all -inf slice (clamped above) stays -inf
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def normalize_log_inplace(log_resp: np.ndarray, floor: float | None = LOG_FLOOR) -> np.ndarray:
    """Turn a (K, m) array of weighted log probabilities into responsibilities in place; return
    ``log p(x_i)`` of its m samples (not finite for a sample that no component can explain,
    whose column is then left as it came).

    One ``exp`` serves both results: ``e_ki = exp(a_ki - max_j a_ji)`` gives the sums ``s_i``
    over components (so ``log p(x_i) = max_j a_ji + log s_i``, eq. (3.10)) and the
    responsibilities ``e_ki / s_i``. Components are rows, so each reduction over k adds K
    contiguous rows.

    ``a_ki - max_j a_ji`` is clamped at ``floor`` before ``exp``: below about -708, ``exp``
    returns subnormal numbers, tens of times slower to compute and to multiply (in the M-step's
    products with resp), and no sum containing 1.0 can see terms below exp(-600) ~ 1e-261.
    ``floor=None`` skips the clamp, so that a component with log probability -inf keeps a
    responsibility of exactly 0 (the Bernoulli mixture's impossible pixels).
    """
    col_max = log_resp.max(axis=0)
    if not np.isfinite(col_max).all():
        return col_max
    log_resp -= col_max
    if floor is not None:
        np.maximum(log_resp, floor, out=log_resp)
    np.exp(log_resp, out=log_resp)
    total = log_resp.sum(axis=0)
    log_resp *= 1.0 / total  # K multiplications per sample cost less than K divisions
    np.log(total, out=total)
    total += col_max
    return total
