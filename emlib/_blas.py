"""Threads: one BLAS thread for thin, memory-bound loops, and how many threads numpy work may use."""

from __future__ import annotations

import functools
import os

# The cores this process may run on, and the threads that share rows of X among them (at most
# 4: the Python between numpy calls holds the GIL, so more threads only wait).
_CPUS = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
THREADS = min(4, len(_CPUS))


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
