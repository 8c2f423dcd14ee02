"""Comparators: ``compare(answer, expected, inputs) -> Verdict`` for exercise declarations.

API stable. Each factory returns a comparator that never raises on a student's answer (None, a
string, NaN, a wrong shape, a list of lists, ...) and whose messages say where the answer is
wrong, never what the expected value is.

- :func:`close` for numbers and arrays (tolerances, or significant digits; optionally invariant
  to relabelling the mixture components along one axis),
- :func:`record` for several named parts (a dict, a tuple in field order, or an object with those
  attributes such as ``GMMParams``), with weights and one relabelling shared by all parts,
- :func:`whole_number` for counts and dimensions,
- :func:`choice_set` for "which statements are true" exercises,
- :func:`distribution_test` for distributional exercises (random functions called many times
  with consecutive seeds): a chi-square test of the outcomes against exact probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Any

import numpy as np
from scipy import stats
from scipy.optimize import linear_sum_assignment

from .relations import message as relation_message
from .relations import relation
from .spec import Verdict, choice_labels

Comparator = Callable[[Any, Any, Mapping[str, Any]], Verdict]


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _as_float_array(answer) -> tuple[np.ndarray | None, str]:
    """The answer as a float array, or None and the reason it is not one."""
    if answer is None:
        return None, "got None: did the function forget to `return` its result?"
    if answer is Ellipsis:
        return None, "not given yet (still `...`)"
    if isinstance(answer, (str, bytes, Mapping, set, frozenset)) or callable(answer):
        return None, f"expected numbers; got a {type(answer).__name__}"
    try:
        arr = np.asarray(answer, dtype=np.float64)
    except Exception:  # the student's object may raise anything from __array__ or __len__
        return None, f"expected numbers; got a {type(answer).__name__} numpy cannot read as floats"
    return arr, ""


def _permutation(a: np.ndarray, e: np.ndarray, axis: int) -> np.ndarray:
    """The relabelling of ``a``'s components (along ``axis``) closest to ``e``'s."""
    A = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
    E = np.moveaxis(e, axis, 0).reshape(e.shape[axis], -1)
    cost = np.abs(A[:, None, :] - E[None, :, :]).sum(axis=2)
    cost = np.where(np.isfinite(cost), cost, np.finfo(np.float64).max / (cost.size + 1))
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty_like(rows)
    perm[cols] = rows  # expected component k is answer component perm[k]
    return perm


#: How far a float32 result may stray from the float64 one (a few units of its last digit).
_FLOAT32_RTOL = 1e-5


def _same_non_finite(a: np.ndarray, e: np.ndarray) -> bool:
    """``a`` equals ``e`` entrywise where ``e`` is infinite or NaN (NaN matching NaN)."""
    return bool(((a == e) | (np.isnan(a) & np.isnan(e))).all())


def _single_precision(answer) -> bool:
    dtype = getattr(answer, "dtype", None)
    if dtype is None and isinstance(answer, (tuple, list)):
        dtype = getattr(np.asarray(answer), "dtype", None)
    return dtype is not None and dtype in (np.float32, np.float16)


def _tolerance(e: np.ndarray, rtol: float, atol: float, sig_digits: int | None) -> np.ndarray:
    if sig_digits is None:
        return atol + rtol * np.abs(e)
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.abs(e)))
    # One unit in the last significant digit: a correctly rounded answer is within half of it.
    return np.where(np.isfinite(exponent), 10.0 ** (exponent - sig_digits + 1), atol)


def close(
    rtol: float = 1e-6,
    atol: float = 1e-9,
    *,
    sig_digits: int | None = None,
    component_axis: int | None = None,
) -> Comparator:
    """Numbers or arrays equal to the reference within a tolerance.

    Parameters
    ----------
    rtol, atol : the test ``|answer - expected| <= atol + rtol |expected|`` entrywise
    sig_digits : if given, the test is instead "equal to this many significant digits"
        (within one unit of the last digit, so that a correctly rounded answer passes)
    component_axis : if given, the answer may list the mixture components along this axis in any
        order (the best relabelling is found by linear assignment)

    A scalar reference accepts any single number (a float, a 0-d or one-element array). An
    infinite or NaN entry of the reference (a mistake variant such as "no log-sum-exp") matches
    only the same value in the same place. A float32 answer that is right to single precision is
    told so.
    """

    def compare(answer, expected, inputs=None) -> Verdict:
        a, why = _as_float_array(answer)
        if a is None:
            return Verdict.wrong(why)
        e = np.asarray(expected, dtype=np.float64)
        if e.ndim == 0 and a.size == 1:
            a = a.reshape(())
        if a.shape != e.shape:
            want = "a single number" if e.ndim == 0 else f"shape {_shape(e.shape)}"
            return Verdict.wrong(f"has shape {_shape(a.shape)}; expected {want}")
        # An infinite or NaN reference (a mistake variant's) matches only itself: with it the
        # tolerance would be infinite and any number would pass.
        e_odd = ~np.isfinite(e)
        a_bad = ~np.isfinite(a) & ~e_odd
        if a_bad.any():
            idx = np.argwhere(a_bad)[0]
            where = f" (first at index {tuple(int(i) for i in idx)})" if a.ndim else ""
            return Verdict.wrong(
                f"contains {int(a_bad.sum())} NaN or infinite value(s){where}: compute in log "
                f"space, with log-sum-exp, so that far points stay finite"
            )
        if e_odd.any() and not _same_non_finite(a[e_odd], e[e_odd]):
            return Verdict.wrong("differs where the reference is infinite or undefined")
        if component_axis is not None and a.ndim > component_axis and not e_odd.any():
            a = np.take(a, _permutation(a, e, component_axis), axis=component_axis)
        with np.errstate(invalid="ignore"):
            off = ~(np.abs(a - e) <= _tolerance(e, rtol, atol, sig_digits)) & ~e_odd
        if not off.any():
            return Verdict.ok()
        if _single_precision(answer) and not (np.abs(a - e) > _FLOAT32_RTOL * np.abs(e) + atol).any():
            return Verdict.wrong(
                "is right to about 7 significant digits only: it was computed in single "
                "precision (float32); compute in float64, numpy's default (drop the "
                "astype(np.float32) or dtype=np.float32)"
            )
        if not e_odd.any():
            tol = _tolerance(e, rtol, atol, sig_digits)
            key = relation(a, e, lambda x, y: bool((np.abs(x - y) <= tol).all()), inputs)
            if key is not None:
                return Verdict(0.0, "wrong", relation_message(key), key)
        how = (
            f"to {sig_digits} significant digits"
            if sig_digits
            else (f"within the tolerance (rtol={rtol:g}, atol={atol:g})")
        )
        if a.ndim == 0:
            return Verdict.wrong(f"is not equal to the reference {how}")
        first = tuple(int(i) for i in np.argwhere(off)[0])
        return Verdict.wrong(
            f"{int(off.sum())} of {off.size} entries are not equal to the reference {how} "
            f"(first at index {first})"
        )

    return compare


def whole_number(*, index_based: bool = False) -> Comparator:
    """An integer count or dimension, equal to the reference exactly (``1e5`` counts as 100000).

    ``index_based``: the number comes from an index (K = argmin + 1), so an answer off by one is
    told that Python counts from 0.
    """

    def compare(answer, expected, inputs=None) -> Verdict:
        if answer is Ellipsis:
            return Verdict.wrong("not given yet (still `...`)")
        ok_type = isinstance(answer, (int, float, np.integer, np.floating))
        if isinstance(answer, bool) or not ok_type or not float(answer).is_integer():
            return Verdict.wrong(f"expected a whole number; got {answer!r}")
        if int(answer) == int(expected):
            return Verdict.ok()
        if index_based and abs(int(answer) - int(expected)) == 1:
            key = "plus-one" if int(answer) > int(expected) else "minus-one"
            return Verdict(0.0, "wrong", relation_message(key), key)
        return Verdict.wrong("is not right")

    return compare


def integers(what: str = "labels") -> Comparator:
    """An array of whole numbers (cluster labels, indices) equal to the reference entry by entry.

    Floats holding whole numbers (``2.0``) count as those numbers; the message counts the
    ``what`` that differ and where the first one is, with no tolerance wording.
    """

    def compare(answer, expected, inputs=None) -> Verdict:
        a, why = _as_float_array(answer)
        if a is None:
            return Verdict.wrong(why)
        e = np.asarray(expected)
        if a.shape != e.shape:
            return Verdict.wrong(f"has shape {_shape(a.shape)}; expected {what} of shape {_shape(e.shape)}")
        if not (np.isfinite(a) & (a == np.round(a))).all():
            return Verdict.wrong(f"expected whole numbers ({what}); got fractions or NaN")
        off = a != e
        if not off.any():
            return Verdict.ok()
        same = lambda x, y: bool(np.array_equal(x, y))  # noqa: E731
        key = relation(a, e.astype(np.float64), same, inputs, integer=True)
        if key is not None:
            return Verdict(0.0, "wrong", relation_message(key), key)
        first = tuple(int(i) for i in np.argwhere(off)[0])
        at = f"index {first[0]}" if len(first) == 1 else f"index {first}"
        return Verdict.wrong(f"{int(off.sum())} of {off.size} {what} differ (first at {at})")

    return compare


def _parts(value, fields: Sequence[str]) -> dict | None:
    """A dict, a tuple in field order, or an object with the fields as attributes -> dict."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, list)) and len(value) == len(fields):
        return dict(zip(fields, value, strict=True))
    if all(hasattr(value, f) for f in fields):
        return {f: getattr(value, f) for f in fields}
    return None


def record(
    fields: Mapping[str, Comparator],
    *,
    weights: Mapping[str, float] | None = None,
    component_axes: Mapping[str, int] | None = None,
) -> Comparator:
    """Several named parts, each with its own comparator, scored by weight (equal by default).

    The answer may be a dict with these keys, a tuple or list in the order of ``fields``, or an
    object with these attributes (e.g. a ``GMMParams``). Only the keys of ``expected`` are
    compared, so a comparator can also be asked about some of the parts. With
    ``component_axes`` (field -> axis), the answer's components are relabelled once, by the first
    field listed, and the same relabelling is applied to every listed field: a student may number
    the clusters differently, but must do so consistently.
    """
    names = tuple(fields)
    weights = {k: float((weights or {}).get(k, 1.0)) for k in names}

    def compare(answer, expected, inputs=None) -> Verdict:
        exp = _parts(expected, names)
        ans = _parts(answer, names)
        if ans is None:
            listed = ", ".join(names)
            return Verdict.wrong(
                f"expected a dict with keys {listed} (or a tuple in that order); got "
                f"{type(answer).__name__}"
            )
        exp = {k: v for k, v in exp.items() if k in fields}
        if component_axes:
            ans = _relabel(ans, exp, component_axes)
        missing = [k for k in exp if k not in ans]
        total = sum(weights[k] for k in exp)
        earned, notes = 0.0, []
        for k in exp:
            if k in missing:
                notes.append(f"{k}: missing")
                continue
            v = fields[k](ans[k], exp[k], inputs)
            earned += weights[k] * v.fraction
            if v.status != "ok":
                notes.append(f"{k}: {v.message}")
        extra = sorted(set(ans) - set(fields), key=str)
        if extra:
            notes.append(f"unexpected key(s) {', '.join(map(repr, extra))} ignored")
        if notes and _reordered(answer, exp, names, fields, inputs):
            return Verdict(
                0.0, "wrong", f"the parts are in the wrong order: return ({', '.join(names)})", "order"
            )
        return Verdict.graded(earned / total if total else 1.0, "; ".join(notes) or "correct")

    return compare


def _reordered(answer, exp: dict, names, fields, inputs) -> bool:
    """A tuple answer whose parts, put in another order, are all right."""
    if not isinstance(answer, (tuple, list)) or len(answer) != len(names) or len(exp) != len(names):
        return False
    for order in permutations(range(len(names))):
        if order == tuple(range(len(names))):
            continue
        parts = dict(zip(names, (answer[i] for i in order), strict=True))
        try:
            if all(fields[k](parts[k], exp[k], inputs).status == "ok" for k in names):
                return True
        except Exception:  # a part of the wrong kind for another field's comparator
            continue
    return False


def _relabel(ans: dict, exp: dict, component_axes: Mapping[str, int]) -> dict:
    first = next(iter(component_axes))
    axis = component_axes[first]
    if first not in ans or first not in exp:
        return ans
    a, _ = _as_float_array(ans[first])
    e = np.asarray(exp[first], dtype=np.float64)
    if a is None or a.shape != e.shape or a.ndim <= axis or not np.isfinite(a).all():
        return ans
    perm = _permutation(a, e, axis)
    out = dict(ans)
    for k, ax in component_axes.items():
        arr, _ = _as_float_array(out.get(k))
        if arr is not None and arr.ndim > ax and arr.shape[ax] == perm.size:
            out[k] = np.take(arr, perm, axis=ax)
    return out


def choice_set(labels: Sequence[str]) -> Comparator:
    """A set of statement labels; each statement classified right (chosen or not) scores 1/n.

    The answer is a set, frozenset, list or tuple of labels such as ``{"a", "c"}``; an empty set
    says that no statement is true. Labels are read as :func:`.spec.choice_labels` reads them
    (``"A"``, ``"(a)"`` and ``" a "`` are ``"a"``).
    """
    labels = tuple(labels)

    def compare(answer, expected, inputs=None) -> Verdict:
        if answer is Ellipsis:
            return Verdict.wrong("not given yet (still `...`)")
        chosen = choice_labels(answer)
        if chosen is None:
            return Verdict.wrong(
                f"expected a set of labels such as {{{', '.join(map(repr, labels[:2]))}}}; got "
                f"{type(answer).__name__} {answer!r}"
            )
        unknown = sorted(chosen - set(labels), key=str)
        if unknown:
            return Verdict.wrong(
                f"unknown label(s) {', '.join(map(repr, unknown))}; the statements are "
                f"labelled {', '.join(map(repr, labels))}"
            )
        truth = set(expected)
        right = sum((x in chosen) == (x in truth) for x in labels)
        return Verdict.graded(
            right / len(labels),
            "correct"
            if right == len(labels)
            else f"{right} of {len(labels)} statements classified correctly",
        )

    return compare


def misclassified(label: str, truth) -> Callable[[Any, Any], bool]:
    """``Mistake.matches`` for a choice exercise: statement ``label`` classified the wrong way
    (chosen though false, or left out though true) in a well-formed answer."""
    truth = frozenset(truth)

    def matches(answer, inputs) -> bool:
        chosen = choice_labels(answer)
        return chosen is not None and (label in chosen) != (label in truth)

    return matches


# -- distributional exercises ------------------------------------------------------------------

#: Outcomes expected fewer times than this are pooled into one cell (chi-square validity).
MIN_EXPECTED = 5.0


def chi_square_p_value(outcomes: Sequence[Hashable], probs: Mapping[Hashable, float]) -> float:
    """p-value of the observed ``outcomes`` against the exact probabilities ``probs``.

    0 if some outcome is impossible under ``probs``; outcomes expected fewer than
    ``MIN_EXPECTED`` times are pooled into one cell; 1 when fewer than two cells remain.
    """
    N = len(outcomes)
    counts: dict = {}
    for o in outcomes:
        counts[o] = counts.get(o, 0) + 1
    if any(probs.get(o, 0.0) <= 0.0 for o in counts):
        return 0.0
    obs, exp = [], []
    pooled_o, pooled_e = 0.0, 0.0
    for k in sorted(probs, key=lambda k: -probs[k]):
        e = N * probs[k]
        if e >= MIN_EXPECTED:
            obs.append(counts.get(k, 0))
            exp.append(e)
        else:
            pooled_o += counts.get(k, 0)
            pooled_e += e
    if pooled_e > 0:
        obs.append(pooled_o)
        exp.append(pooled_e)
    if len(obs) < 2:
        return 1.0
    obs, exp = np.asarray(obs, float), np.asarray(exp, float)
    exp *= obs.sum() / exp.sum()
    return float(stats.chisquare(obs, exp).pvalue)


@dataclass(frozen=True)
class DistributionTest:
    """A comparator for the list of outputs of ``n_calls`` seeded calls (see
    :func:`distribution_test`); :meth:`fits` serves ``Mistake.matches`` for a wrong law."""

    outcomes: Callable[[list, Mapping[str, Any]], tuple[list | None, str]]
    calls: str
    law: str
    hint: str
    p_value: float
    invalid: Callable[[list], str] | None

    def __call__(self, outputs, expected: Mapping[Hashable, float], inputs) -> Verdict:
        if not isinstance(outputs, list):
            return Verdict.wrong("expected the outputs of several seeded calls (the checker's job)")
        found, why = self.outcomes(outputs, inputs)
        if found is None:
            return Verdict.wrong(why)
        why = self.invalid(found) if self.invalid is not None else ""
        if why:
            return Verdict.wrong(why)
        p = chi_square_p_value(found, expected)
        if p >= self.p_value:
            return Verdict.ok(f"correct: {len(found)} {self.calls} follow {self.law} (p = {p:.2g})")
        return Verdict.wrong(
            f"the {len(found)} {self.calls} do not follow {self.law} (chi-square test, "
            f"p = {p:.2g}): {self.hint}"
        )

    def fits(self, outputs, probs: Mapping[Hashable, float], inputs) -> bool:
        """Whether the outputs pass the test against ``probs`` (e.g. a mistake's law)."""
        found, _ = self.outcomes(outputs, inputs)
        return found is not None and chi_square_p_value(found, probs) >= self.p_value


def distribution_test(
    outcomes: Callable[[list, Mapping[str, Any]], tuple[list | None, str]],
    *,
    calls: str,
    law: str,
    hint: str,
    p_value: float = 1e-4,
    invalid: Callable[[list], str] | None = None,
) -> DistributionTest:
    """Compare the outputs of many seeded calls with exact probabilities by a chi-square test.

    ``expected`` (the exercise's reference) maps every possible outcome to its probability.
    ``outcomes(outputs, inputs)`` turns the outputs into hashable outcomes, or returns
    ``(None, why)`` for outputs that cannot be read; ``invalid(outcomes)``, if given, names
    outcomes that no correct function produces ("" if none). The verdict is correct when the
    p-value is at least ``p_value`` (a correct function fails one case in 1 / p_value, and
    the seeds are fixed); its messages name the ``calls`` ("seedings"), the ``law``
    ("D² sampling") and, when wrong, the ``hint`` (the rule in words), never a probability.
    """
    return DistributionTest(outcomes, calls, law, hint, p_value, invalid)
