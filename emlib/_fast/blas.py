"""Threads: one BLAS thread for thin, memory-bound loops, and how many threads numpy work may use.

Module-level state: the threadpoolctl controller (created on first use) and the count of open
:func:`one_blas_thread` contexts, guarded by a lock, so that only the outermost sets the limit.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading

# The cores this process may run on, and the threads that share rows of X among them (at most
# 4: the Python between numpy calls holds the GIL, so more threads only wait).
_CPUS = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
THREADS = min(4, len(_CPUS))


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_lock = threading.Lock()
_depth = 0  # how many one_blas_thread contexts are open; only the outermost sets the limit
_limit = None


@contextlib.contextmanager
def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The products in Lloyd's loop and the Bernoulli E-step are thin (d and K small) and memory
    bound: extra BLAS threads gain little and, on a busy machine, spin against each other (a Lloyd
    fit ran 5x slower with two). Scikit-learn's Lloyd loop sets the same limit.

    Contexts nest: a fit opens one, and the steps inside it, which open their own, then cost
    nothing (setting the limit queries every BLAS library, 14 us here, twice per EM iteration).
    """
    global _depth, _limit
    with _lock:
        if _depth == 0:
            _limit = _controller().limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _limit.restore_original_limits()
                _limit = None
