"""Datasets: mixture samples against their truth (and scipy.stats), the IDX reader on files
written here, the binarized digits, the five-point problem, and every error message."""

import gzip
import re
import struct

import numpy as np
import pytest
from _helpers import random_sigma
from scipy import stats
from sklearn.datasets import load_digits

from emlib.datasets import (
    FivePoints,
    MixtureSample,
    five_points,
    load_binary_digits,
    make_mixture,
    read_idx,
)
from emlib.gmm import GMMParams, full_covariances

TYPES = ["full", "diag", "spherical", "tied"]


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


# ---------------------------------------------------------------- make_mixture


@pytest.mark.parametrize("covariance_type", TYPES)
def test_make_mixture_recovers_its_parameters(rng, covariance_type):
    K, d, n = 3, 3, 150_000
    pi = np.array([0.2, 0.3, 0.5])
    mu = rng.normal(scale=5.0, size=(K, d))
    Sigma = random_sigma(rng, covariance_type, K, d)
    sample = make_mixture(n, pi, mu, Sigma, covariance_type, random_state=1)
    assert isinstance(sample, MixtureSample) and isinstance(sample.params, GMMParams)
    assert sample.X.shape == (n, d) and sample.z.shape == (n,)
    N_k = np.bincount(sample.z, minlength=K)
    # Weights, means and covariances within 5 standard errors of the truth.
    assert (np.abs(N_k / n - pi) <= 5 * np.sqrt(pi * (1 - pi) / n)).all()
    S = full_covariances(Sigma, covariance_type, K, d)
    for k in range(K):
        Xk = sample.X[sample.z == k]
        se_mean = np.sqrt(np.diag(S[k]) / N_k[k])
        assert (np.abs(Xk.mean(axis=0) - mu[k]) <= 5 * se_mean).all()
        se_cov = np.sqrt((np.outer(np.diag(S[k]), np.diag(S[k])) + S[k] ** 2) / N_k[k])
        assert (np.abs(np.cov(Xk, rowvar=False) - S[k]) <= 5 * se_cov).all()
        # Squared Mahalanobis distances of a Gaussian follow chi-square with d degrees of freedom.
        D = Xk - mu[k]
        maha = np.einsum("nd,nd->n", D @ np.linalg.inv(S[k]), D)
        assert stats.kstest(maha, stats.chi2(d).cdf).pvalue > 1e-3


def test_mahalanobis_check_rejects_a_wrong_covariance():
    """The Mahalanobis check above has power: it rejects a covariance off by 10%."""
    Sigma = np.array([[[2.0, 0.5], [0.5, 1.0]]])
    s = make_mixture(50_000, [1.0], [[0.0, 0.0]], Sigma, random_state=2)
    maha = np.einsum("nd,nd->n", s.X @ np.linalg.inv(1.1 * Sigma[0]), s.X)
    assert stats.kstest(maha, stats.chi2(2).cdf).pvalue < 1e-6


def test_make_mixture_is_seeded_and_accepts_one_feature():
    a = make_mixture(50, [0.5, 0.5], [-3.0, 2.0], [4.0, 4.0], random_state=3)
    b = make_mixture(50, [0.5, 0.5], [-3.0, 2.0], [4.0, 4.0], random_state=3)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.z, b.z)
    assert a.X.shape == (50, 1)
    gen = np.random.default_rng(3)
    c = make_mixture(50, [0.5, 0.5], [-3.0, 2.0], [4.0, 4.0], random_state=gen)
    d = make_mixture(50, [0.5, 0.5], [-3.0, 2.0], [4.0, 4.0], random_state=gen)
    assert not np.array_equal(c.X, d.X)


def test_make_mixture_errors():
    with raises(ValueError, "n_samples must be an integer >= 1; got 0. Fix: pass e.g. 100."):
        make_mixture(0, [1.0], [[0.0]], [[[1.0]]])
    with raises(ValueError, "pi must sum to 1; got a sum of 0.9. Fix: normalise, pi / pi.sum()."):
        make_mixture(10, [0.5, 0.4], [0.0, 1.0], [1.0, 1.0])
    with raises(
        ValueError,
        "random_state must be None, a non-negative integer or a numpy Generator; got 1.5 of type "
        "float.",
    ):
        make_mixture(10, [1.0], [[0.0]], [[[1.0]]], random_state=1.5)


# ---------------------------------------------------------------- read_idx

IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(arr):
    """The IDX encoding, built with struct: magic, big-endian uint32 dims, big-endian data."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[arr.dtype], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, gz: bool):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def sample_array(rng, dtype, shape):
    if np.dtype(dtype).kind == "f":
        return rng.normal(scale=1e3, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("shape", [(7,), (4, 5, 3)], ids=["1d", "3d"])
@pytest.mark.parametrize("dtype", list(IDX_CODES), ids=lambda t: t.name)
def test_read_idx_round_trip(rng, tmp_path, gz, shape, dtype):
    arr = sample_array(rng, dtype, shape)
    # The name says nothing: compression is detected from the bytes.
    path = write(tmp_path / "data.bin", idx_bytes(arr), gz)
    out = read_idx(path)
    assert out.dtype == dtype and out.dtype.isnative and out.shape == shape
    assert out.flags.writeable
    np.testing.assert_array_equal(out, arr)


def test_read_idx_does_not_trust_the_file_name(rng, tmp_path):
    arr = sample_array(rng, np.uint8, (2, 28, 28))
    raw_named_gz = write(tmp_path / "images-idx3-ubyte.gz", idx_bytes(arr), gz=False)
    gz_named_raw = write(tmp_path / "images-idx3-ubyte", idx_bytes(arr), gz=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), arr)
    np.testing.assert_array_equal(read_idx(str(gz_named_raw)), arr)


def test_read_idx_mnist_label_layout(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    path = write(tmp_path / "labels", b"\x00\x00\x08\x01\x00\x00\x00\x05" + labels.tobytes(), True)
    np.testing.assert_array_equal(read_idx(path), labels)


REDOWNLOAD = "Fix: download the file again (a partial download or copy leaves it short)."


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_read_idx_bad_magic(tmp_path, gz):
    path = write(tmp_path / "f", b"\x01\x02\x08\x01\x00\x00\x00\x01\x07", gz)
    with raises(
        ValueError,
        f"{path} is not an IDX file: its magic number is 01 02 08 01, expected two zero bytes, a "
        f"type code and the number of dimensions (00 00 08 03 for MNIST images). Fix: pass an "
        f"IDX file such as train-images-idx3-ubyte, raw or gzipped.",
    ):
        read_idx(path)


def test_read_idx_unknown_type_code(tmp_path):
    path = write(tmp_path / "f", b"\x00\x00\x0a\x01\x00\x00\x00\x01\x07", False)
    with raises(
        ValueError,
        f"{path} has the unknown IDX type code 0x0A; expected one of 0x08 (uint8), 0x09 (int8), "
        f"0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64). Fix: check that this is "
        f"an IDX file and that it is not corrupted.",
    ):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_read_idx_truncated_data(rng, tmp_path, gz):
    arr = sample_array(rng, np.float64, (3, 2))
    path = write(tmp_path / "f", idx_bytes(arr)[:-1], gz)
    with raises(
        ValueError,
        f"{path} is truncated: shape (3, 2) of float64 needs 48 bytes of data after the 12-byte "
        f"header, but 47 follow. {REDOWNLOAD}",
    ):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = write(tmp_path / "f", b"\x00\x00\x08\x03\x00\x00\x00\x02\x00", False)
    with raises(
        ValueError,
        f"{path} is truncated: its header declares 3 dimension(s), 16 bytes of header, but the "
        f"file has 9 bytes. {REDOWNLOAD}",
    ):
        read_idx(path)


def test_read_idx_shorter_than_the_magic_number(tmp_path):
    path = write(tmp_path / "f", b"\x00\x00", False)
    with raises(
        ValueError,
        f"{path} is truncated: 2 byte(s), shorter than the 4-byte IDX magic number. {REDOWNLOAD}",
    ):
        read_idx(path)


def test_read_idx_extra_bytes(rng, tmp_path):
    arr = sample_array(rng, np.uint8, (4,))
    path = write(tmp_path / "f", idx_bytes(arr) + b"\x00\x00", False)
    with raises(
        ValueError,
        f"{path} is longer than its header declares: shape (4,) of uint8 needs 4 bytes of data "
        f"after the 8-byte header, but 6 follow. Fix: check that this is one IDX file, not "
        f"several joined or a corrupted one.",
    ):
        read_idx(path)


def test_read_idx_negative_dimension(tmp_path):
    path = write(tmp_path / "f", b"\x00\x00\x08\x01\xff\xff\xff\xfe", False)
    with raises(
        ValueError,
        f"{path} declares a negative dimension, shape (-2,). Fix: check that this is an IDX file "
        f"and that it is not corrupted.",
    ):
        read_idx(path)


def test_read_idx_broken_gzip(rng, tmp_path):
    data = gzip.compress(idx_bytes(sample_array(rng, np.uint8, (100,))))
    path = tmp_path / "f.gz"
    path.write_bytes(data[: len(data) // 2])
    with raises(ValueError, f"{path} starts like a gzip file but does not decompress ("):
        read_idx(path)
    with pytest.raises(ValueError, match=re.escape(REDOWNLOAD)):
        read_idx(path)


# ---------------------------------------------------------------- load_binary_digits


def test_binary_digits_shape_and_values():
    X, y = load_binary_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert set(np.unique(X).tolist()) == {0.0, 1.0}
    assert y.shape == (1797,) and set(np.unique(y).tolist()) == set(range(10))
    digits = load_digits()
    np.testing.assert_array_equal(X, (digits.data > 8.0).astype(float))
    np.testing.assert_array_equal(y, digits.target)


def test_binary_digits_threshold_and_no_labels():
    X0 = load_binary_digits(threshold=0.0, return_labels=False)
    X15 = load_binary_digits(threshold=15.5, return_labels=False)
    assert isinstance(X0, np.ndarray) and X0.shape == (1797, 64)
    np.testing.assert_array_equal(X0, load_digits().data > 0)
    assert X15.sum() < load_binary_digits(8.0, False).sum() < X0.sum()
    assert (X15 <= X0).all()


@pytest.mark.parametrize("bad", [16, -0.5, float("nan")])
def test_binary_digits_threshold_out_of_range(bad):
    with raises(
        ValueError,
        f"threshold must lie in [0, 16) (the digits' pixels run from 0 to 16); got {bad!r}. "
        f"Fix: pass e.g. 8.",
    ):
        load_binary_digits(bad)


@pytest.mark.parametrize("bad", ["8", True, None])
def test_binary_digits_threshold_not_a_number(bad):
    with raises(
        TypeError,
        f"threshold must be a number in [0, 16); got {bad!r} of type {type(bad).__name__}. "
        f"Fix: pass e.g. 8.",
    ):
        load_binary_digits(bad)


# ---------------------------------------------------------------- five_points


def test_five_points_are_the_worked_problem_of_notebook_03():
    fp = five_points()
    assert isinstance(fp, FivePoints)
    np.testing.assert_array_equal(fp.x, [0.2, -0.9, -1.0, 1.2, 1.8])
    np.testing.assert_array_equal(fp.pi, [0.5, 0.5])
    np.testing.assert_array_equal(fp.mu, [-3.0, 2.0])
    np.testing.assert_array_equal(fp.sigma2, [4.0, 4.0])
    # It builds a valid one-feature mixture.
    params = GMMParams(fp.pi, fp.mu, fp.sigma2, "spherical")
    assert params.mu.shape == (2, 1)


def test_five_points_are_fresh_arrays():
    fp = five_points()
    fp.x[0] = 99.0
    assert five_points().x[0] == 0.2
