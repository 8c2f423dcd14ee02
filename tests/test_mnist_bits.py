"""The 28 x 28 MNIST digits shipped as packed bits: what the loader returns and how it fails."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from emlib import datasets
from emlib.data.convert_mnist import convert, to_bits
from emlib.datasets import MNIST_BITS, load_mnist_bits

COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def test_ten_thousand_binary_images_of_784_pixels():
    X, y = load_mnist_bits()
    assert X.shape == (10_000, 784) and X.dtype == np.float64
    assert set(np.unique(X)) == {0.0, 1.0}
    assert np.bincount(y).tolist() == COUNTS
    assert 0.10 < X.mean() < 0.16  # about one pixel in seven carries ink
    # a digit is ink in the middle and none in the frame: the 2-pixel border is almost empty
    images = X.reshape(-1, 28, 28)
    assert images[:, 2:-2, 2:-2].mean() > 10 * images[:, :2, :].mean()


def test_a_subset_of_classes_and_the_images_without_labels():
    X, y = load_mnist_bits(digits=(2, 3, 4))
    assert sorted(set(y.tolist())) == [2, 3, 4] and len(y) == 991 + 1032 + 980
    np.testing.assert_array_equal(load_mnist_bits(digits=[4, 2, 3], return_labels=False), X)


def test_the_classes_differ_as_digits_do():
    X, y = load_mnist_bits()
    means = np.stack([X[y == k].mean(axis=0) for k in range(10)])
    # a one is thin: less ink than any other class; a zero's centre is empty
    assert means[1].sum() == means.sum(axis=1).min()
    centre = means[:, 14 * 28 + 14]
    assert centre[0] < 0.1 < centre[1]


@pytest.mark.parametrize("digits", [(), (10,), (-1, 2), ("a",)])
def test_bad_classes_are_named(digits):
    with pytest.raises(ValueError, match=re.escape(f"digits must be classes among 0..9, e.g. "
                                                   f"(2, 3, 4); got {list(digits)!r}. Fix:")):
        load_mnist_bits(digits=digits)


def test_a_missing_or_damaged_file_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MNIST_BITS", tmp_path / "mnist_bits.npz")
    with pytest.raises(FileNotFoundError, match=r"the MNIST digits are missing: expected the file "
                                                r".*mnist_bits.npz\. Fix: reinstall emlib"):
        load_mnist_bits()
    np.savez(tmp_path / "mnist_bits.npz", bits=np.zeros((10, 98), np.uint8),
             labels=np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match=re.escape("holds bits of shape (10, 98) (uint8) and labels "
                                                   "of shape (10,); expected (10000, 98) uint8")):
        load_mnist_bits()


def test_the_converter_packs_the_packages_grey_levels(tmp_path, rng):
    grey = {k: rng.random((3, 784)).round(3) for k in range(10)}
    for k, images in grey.items():
        (tmp_path / f"{k}.json").write_text(json.dumps({"data": images.ravel().tolist()}))
    convert(tmp_path, tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as data:
        bits, labels = data["bits"], data["labels"]
    expected = np.concatenate([grey[k] for k in range(10)]) > 0.5
    np.testing.assert_array_equal(np.unpackbits(bits, axis=1).astype(bool), expected)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 3))
    assert to_bits(np.array([[0.5, 0.501] + [0.0] * 782])).tolist()[0][:1] == [0b01000000]


def test_the_shipped_file_is_the_one_converted():
    # the bits and labels made by convert_mnist.py from mnist 1.1.0 (a change shows here first)
    with np.load(MNIST_BITS) as data:
        digest = hashlib.sha256(data["bits"].tobytes() + data["labels"].tobytes()).hexdigest()
    assert digest == DIGEST


DIGEST = "a1a6499dad3202b6b0a9b653007561c0615962ea198f1ad9b15a91dcd06d385f"
