"""The warnings emlib gives: a fit that stopped early, a component or cluster that emptied.

Both derive from ``UserWarning``, so ``warnings.simplefilter("error", ConvergenceWarning)``
turns one kind into an exception without touching the other.
"""


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the log-likelihood settled (or k-means before its
    assignment did)."""


class EmptyComponentWarning(UserWarning):
    """A component (or cluster) lost all its responsibility; the warning says what was done
    (re-seeded elsewhere, or kept with a weight of about zero)."""
