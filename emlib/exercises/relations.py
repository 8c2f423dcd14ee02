"""Wrong answers that stand in a simple relation to the reference, named for the student.

Many slips change every entry the same way: a sign, a factor 2, a mean for a sum (a factor n or
d), a base-10 logarithm, a standard deviation for a variance, a transposed array. When a wrong
answer is the reference under one of these relations (entry by entry, within the comparator's
tolerance), :func:`relation` names it; the message says what the answer is, never a number of the
reference. Exercises still declare their own :class:`~.spec.Mistake` for slips specific to them;
those come first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: key -> (what the answer is, the likely cause), shown as "is <what>: <cause>".
MESSAGES = {
    "sign": ("minus the reference", "check the sign, e.g. the order of a subtraction"),
    "twice": ("twice the reference", "a factor 2 too many (e.g. -2 ln p where ln p is asked)"),
    "half": ("half the reference", "a factor 2 is missing (e.g. the 2 of -2 ln p, or a 1/2 "
             "applied twice)"),
    "times-n": ("n times the reference (n, the number of samples)", "a sum where the "
                "equation has a mean, or a division by n forgotten"),
    "over-n": ("the reference divided by n (n, the number of samples)", "a mean where the "
               "equation has a sum: do not divide by n"),
    "times-d": ("d times the reference (d, the dimension)", "a sum over the d coordinates "
                "where the equation has a mean"),
    "over-d": ("the reference divided by d (d, the dimension)", "a division by d too many"),
    "log10": ("in base-10 logarithms", "use the natural logarithm, np.log"),
    "log2": ("in base-2 logarithms", "use the natural logarithm, np.log"),
    "sqrt": ("the square root of the reference", "a standard deviation where a variance is "
             "asked, or an np.sqrt too many"),
    "square": ("the square of the reference", "a variance where a standard deviation is "
               "asked, or a square too many"),
    "transposed": ("the reference transposed", "rows and columns are swapped: check the "
                   "axes against the shapes in the docstring"),
    "deviance": ("-2 times the reference", "that is -2 ln p (the deviance of BIC and AIC); "
                 "the quantity itself is asked"),
    "percent": ("100 times the reference", "a percentage where a fraction in [0, 1] is asked"),
    "complement": ("1 minus the reference", "the complementary probability (the other "
                   "cluster, or the error rate for the accuracy)"),
    "log": ("the logarithm of the reference", "return the probabilities themselves, not "
            "their logarithm"),
    "plus-one": ("one more than the reference", "Python counts from 0: an index from "
                 "argmin/argmax needs no + 1"),
    "minus-one": ("one less than the reference", "argmin/argmax give an index from 0; a "
                  "count such as K = 1, 2, ... is that index + 1"),
}


def _sizes(inputs: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    """n and d of the exercise's data matrix (the first 2-d array among the inputs)."""
    for value in (inputs or {}).values():
        shape = np.shape(value) if isinstance(value, np.ndarray) else ()
        if len(shape) == 2:
            return shape[0], shape[1]
    return None, None


#: Relations of whole numbers (indices, counts), never said of a real number.
INTEGER_KEYS = ("plus-one", "minus-one")


def _maps(inputs) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    n, d = _sizes(inputs)
    maps = {
        "sign": lambda e: -e,
        "twice": lambda e: 2.0 * e,
        "half": lambda e: 0.5 * e,
        "log10": lambda e: e / np.log(10.0),
        "log2": lambda e: e / np.log(2.0),
        "sqrt": lambda e: np.sqrt(e),
        "square": lambda e: e**2,
        "transposed": lambda e: np.swapaxes(e, -1, -2),
        "deviance": lambda e: -2.0 * e,
        "percent": lambda e: 100.0 * e,
        "complement": lambda e: 1.0 - e,
        "log": lambda e: np.log(e),
        "plus-one": lambda e: e + 1.0,
        "minus-one": lambda e: e - 1.0,
    }
    if n and n > 2:
        maps["times-n"] = lambda e: n * e
        maps["over-n"] = lambda e: e / n
    if d and d > 2 and d != n:
        maps["times-d"] = lambda e: d * e
        maps["over-d"] = lambda e: e / d
    return maps


def relation(
    a: np.ndarray, e: np.ndarray, close_enough, inputs=None, *, integer: bool = False
) -> str | None:
    """The key of :data:`MESSAGES` that maps ``e`` onto ``a``, or None.

    ``close_enough(a, image)`` is the comparator's own test; a relation that leaves the
    reference unchanged at these values (all zeros, all ones for a square) names nothing.
    ``integer``: only the relations of whole numbers (:data:`INTEGER_KEYS`); otherwise only
    the others.
    """
    if not np.isfinite(e).all():
        return None
    with np.errstate(all="ignore"):
        for key, f in _maps(inputs).items():
            if (key in INTEGER_KEYS) != integer:
                continue
            if key == "transposed" and (e.ndim < 2 or e.shape[-1] != e.shape[-2]):
                continue
            image = f(e)
            if not np.isfinite(image).all() or close_enough(e, image):
                continue
            if close_enough(a, image):
                return key
    return None


def message(key: str) -> str:
    what, cause = MESSAGES[key]
    return f"is {what}: {cause}"
