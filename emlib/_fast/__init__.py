"""The fast path behind emlib's public functions: one private door.

Every public step validates its arguments, makes one call into this package and returns what
comes back (a named result). What makes the calls fast lives only here, each trick with its
reason next to it (see also benchmarks/README.md):

- ``blas``: BLAS on one thread (``one_blas_thread``), the number of threads numpy work may use;
- ``rows``: the one thread strategy of the package: rows of X shared among threads
  (``map_rows``), cache-sized blocks (``row_blocks``), per-thread reused buffers (``work_buffer``);
- ``logspace``: log-sum-exp and responsibilities with one ``exp``, no subnormals;
- ``gaussian``: the Gaussian log densities and E-step, one distance kernel per covariance type;
- ``cancellation``: the exact recomputation of squared distances that rounding spoiled;
- ``moments``: the Gaussian M-step's sums (shifted centres, symmetric rank-k scatter matrices);
- ``bernoulli``: the Bernoulli E-step and MAP update as matrix products;
- ``lloyd``: D² seeding and the Lloyd engine, on the E-step's row sharing.

The readable versions of the same computations, which the property tests hold these to, are in
:mod:`emlib.reference`. Module-level state (the thread pool, the per-thread buffers, the BLAS
limit) exists only in ``rows`` and ``blas``, documented where it is created.
"""

from . import bernoulli, gaussian, lloyd, moments
from .blas import one_blas_thread
from .logspace import logsumexp

__all__ = ["bernoulli", "gaussian", "lloyd", "logsumexp", "moments", "one_blas_thread"]
