"""One BLAS thread for thin, memory-bound loops (k-means, Bernoulli EM)."""

from __future__ import annotations

import functools


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The products in Lloyd's loop and the Bernoulli E-step are thin (d and K small) and memory
    bound: extra BLAS threads gain little and, on a busy machine, spin against each other (a Lloyd
    fit ran 5x slower with two). Scikit-learn's Lloyd loop sets the same limit.
    """
    return _controller().limit(limits=1, user_api="blas")
