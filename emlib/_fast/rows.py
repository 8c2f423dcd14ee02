"""Rows of X shared among threads, walked in cache-sized blocks through reused work buffers.

The one thread strategy of emlib: the Gaussian E- and M-steps (:mod:`emlib._fast.gaussian`,
:mod:`emlib._fast.moments`) and Lloyd's assignment (:mod:`emlib._fast.lloyd`) all use the three
tools here: :func:`map_rows` gives each thread a contiguous share of the rows, :func:`row_blocks`
cuts a share into blocks whose work arrays stay in a core's cache, and :func:`work_buffer` hands
each thread the same buffers call after call.

Module-level state, created here and nowhere else in emlib: the process's thread pool
(:func:`_pool`, created on first use, one per process id) and each thread's work buffers
(``_buffers``, a ``threading.local``).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .blas import THREADS, one_blas_thread

# Numbers per work buffer when a step walks X in blocks of rows (see row_blocks): a 2 MiB buffer
# stays in the cache between the product that fills it and the sums that read it. Measured here
# against scikit-learn in the same process (fits alternating with its fits), 2^18 ran 0-10%
# faster than 2^17 on the d = 2, 64 workloads, 2^15 and 2^19 up to 40% slower for d = 64; for
# d = 2 and d = 8, 2^17 ran 2x faster than unblocked (n, K d) temporaries.
BLOCK_ELEMENTS = 1 << 18

# The rows are shared among up to 4 threads (see map_rows), each given at least this many
# numbers of work: below it, handing a part to a thread costs more than it saves.
WORK_PER_THREAD = 1 << 18


def map_rows(fn, n: int, width: int) -> list:
    """``[fn(part) for part in parts]`` for contiguous slices ``part`` covering ``range(n)``,
    one per thread, ``width`` numbers of work per row deciding how many threads pay.

    BLAS runs on one thread meanwhile, and the threads share the rows instead: numpy lets go of
    the GIL in its products and ufuncs, so the cores work side by side and meet once per call.
    With two BLAS threads every one of the hundreds of block products of a step synchronises the
    pair, and on a busy machine a descheduled partner stalls each one: a d = 64 fit (benchmark
    W2) measured 3-30x slower whenever other work ran, and sharing the rows was as fast or
    faster when the machine was quiet.

    The calling thread takes the first part itself rather than wait: waking a pool thread cost
    45-80 us here, twice per EM iteration.
    """
    slices = shares(n, max(1, min(THREADS, n, n * width // WORK_PER_THREAD)))  # no empty share
    with one_blas_thread():
        futures = [_pool(os.getpid()).submit(fn, part) for part in slices[1:]]
        try:
            first = fn(slices[0])
        finally:  # the other parts write into the caller's arrays: let them finish first
            for future in futures:
                future.exception()
        return [first] + [future.result() for future in futures]


@functools.lru_cache(maxsize=64)
def shares(n: int, parts: int) -> tuple[slice, ...]:
    """``parts`` contiguous slices of ``range(n)`` of equal length (to within one row)."""
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return tuple(slice(int(a), int(b)) for a, b in itertools.pairwise(bounds))


@functools.cache
def _pool(pid: int) -> ThreadPoolExecutor:
    # Kept for the process (a step makes a few calls); keyed by pid, as a forked child cannot
    # use its parent's threads.
    return ThreadPoolExecutor(max(1, THREADS - 1), thread_name_prefix="emlib")


def row_blocks(rows: slice, width: int) -> tuple[int, list[slice]]:
    """Blocks of ``rows`` whose work arrays, ``width`` numbers per row, fit in a core's cache.

    Returns the largest block's length (to size the buffers) and the blocks. Blocks replace
    (n, width) temporaries by small buffers that stay in cache and are reused: a fresh 10 MB
    temporary costs more in page faults than the arithmetic done on it.
    """
    step = max(256, BLOCK_ELEMENTS // width)
    blocks = [slice(a, min(a + step, rows.stop)) for a in range(rows.start, rows.stop, step)]
    return min(step, rows.stop - rows.start), blocks


_buffers = threading.local()


def work_buffer(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float array of ``shape``, this thread's own, reused from call to call.

    Every use site passes its own ``name``. A buffer freshly allocated on every call is
    returned to the system when freed and faults its pages back in on the next: measured here,
    1,061 page faults per E-step on the calling thread, which ran 2.7x slower than the pool
    thread beside it. A buffer lives as long as its thread and is as large as the largest
    request under its name: BLOCK_ELEMENTS numbers (2 MiB) for most steps, 256 rows of work for
    the widest.
    """
    cache = _buffers.__dict__.setdefault("arrays", {})
    size = math.prod(shape)
    buffer = cache.get(name)
    if buffer is None or buffer.size < size:
        buffer = cache[name] = np.empty(size)
    return buffer[:size].reshape(shape)
