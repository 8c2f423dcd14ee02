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


def _threads(setting: str | None, cpus: int) -> int:
    """The thread count: ``EMLIB_NUM_THREADS`` when set, else one per core, at most 4.

    The rows are summed in one part per thread, so the thread count decides the order of the
    additions: the tests set it to see that no checked output depends on it.
    """
    if setting is None or setting.strip() == "":
        return min(4, cpus)
    try:
        threads = int(setting)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(
            f"EMLIB_NUM_THREADS must be a whole number >= 1, got {setting!r}; set it to the "
            f"number of threads emlib may use (e.g. EMLIB_NUM_THREADS=1), or unset it to use "
            f"one per core (here {min(4, cpus)})."
        )
    return threads


THREADS = _threads(os.environ.get("EMLIB_NUM_THREADS"), len(_CPUS))


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
