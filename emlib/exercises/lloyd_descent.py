"""``04.lloyd-descent``: why Lloyd's algorithm never raises J (a derivation with a numeric part).

The student proves that each half of a Lloyd iteration lowers J (4.1) or leaves it unchanged:
the assignment (4.2) minimises J over r with the centres fixed, and the update (4.3) over the
centres with r fixed, by the identity of (4.3),

    sum_n r_nk ||x_n - m||^2 = sum_n r_nk ||x_n - mu_k||^2 + N_k ||m - mu_k||^2.

The written proof is marked by hand. The numeric consequence, checked at once, is the dict
``lloyd_drops = {"assignment": J(r_old, mu_old) - J(r_new, mu_old),
"update": J(r_new, mu_old) - J(r_new, mu_new)}`` for six points on a line, a stale assignment
``LABELS_OLD`` and the centres ``MU_OLD``: by the identity the update's drop is
``sum_k N_k (mu_old_k - mu_new_k)^2``. Declared in its own module so that ``nb04.py`` stays small;
``nb04.EXERCISES`` lists it.
"""

from __future__ import annotations

import numpy as np

from .compare import close, record
from .spec import Exercise, Mistake

X_LINE = np.array([0.0, 1.0, 2.0, 6.0, 7.0, 11.0])  # six samples, d = 1
MU_OLD = np.array([1.5, 7.5])  # the centres before the iteration
LABELS_OLD = np.array([0, 0, 1, 1, 1, 1])  # the stale partition the centres came with


def _J(labels: np.ndarray, mu: np.ndarray) -> float:
    """J of (4.1) for one-hot r given by labels."""
    return float(np.sum((X_LINE - mu[labels]) ** 2))


def _step() -> tuple[np.ndarray, np.ndarray]:
    """The new labels (4.2) under MU_OLD and the new centres (4.3) under them."""
    labels = np.argmin((X_LINE[:, None] - MU_OLD[None, :]) ** 2, axis=1)
    mu_new = np.array([X_LINE[labels == k].mean() for k in range(len(MU_OLD))])
    return labels, mu_new


def _drops() -> dict:
    labels, mu_new = _step()
    return {
        "assignment": _J(LABELS_OLD, MU_OLD) - _J(labels, MU_OLD),
        "update": _J(labels, MU_OLD) - _J(labels, mu_new),
    }


def _moves_without_counts() -> dict:
    _, mu_new = _step()
    return {"update": float(np.sum((MU_OLD - mu_new) ** 2))}


def _update_with_old_labels() -> dict:
    _, mu_new = _step()
    return {"update": _J(LABELS_OLD, MU_OLD) - _J(LABELS_OLD, mu_new)}


def _assignment_against_new_centres() -> dict:
    labels, mu_new = _step()
    return {"assignment": _J(LABELS_OLD, mu_new) - _J(labels, mu_new)}


LLOYD_DESCENT = Exercise(
    id="04.lloyd-descent",
    title="Derive why a Lloyd iteration never raises J",
    points=3,
    kind="derivation",
    name="lloyd_drops",
    equation="4.3",
    reference=_drops,
    compare=record({"assignment": close(1e-9, 1e-12), "update": close(1e-9, 1e-12)}),
    mistakes=(
        Mistake(
            "moves-without-counts",
            "the update's drop sums the squared moves of the centres without their counts; "
            "by the identity of (4.3) centre k's move costs N_k ||mu_old_k - mu_new_k||^2, "
            "once per sample it holds.",
            "4.3",
            _moves_without_counts,
        ),
        Mistake(
            "old-labels-in-update",
            "the update's drop is measured with the stale labels; the update follows the "
            "assignment, so both J values of the update use the NEW labels.",
            "4.2",
            _update_with_old_labels,
        ),
        Mistake(
            "assignment-new-centres",
            "the assignment's drop is measured against the new centres; the assignment comes "
            "first, with the centres mu_old fixed.",
            "4.2",
            _assignment_against_new_centres,
        ),
    ),
)
