"""Shared test helpers: random covariances, and the static view of a widget."""

import numpy as np


def random_spd(rng, d, scale=1.0):
    """A random symmetric positive definite d x d matrix with condition number below ~50."""
    A = rng.normal(size=(d, d))
    Q, _ = np.linalg.qr(A)
    eig = scale * rng.uniform(0.2, 10.0, size=d)
    return (Q * eig) @ Q.T


def random_sigma(rng, covariance_type, K, d, scale=1.0):
    """Random covariances of the shape each covariance type needs."""
    if covariance_type == "full":
        return np.stack([random_spd(rng, d, scale) for _ in range(K)])
    if covariance_type == "tied":
        return random_spd(rng, d, scale)
    if covariance_type == "diag":
        return scale * rng.uniform(0.2, 3.0, size=(K, d))
    return scale * rng.uniform(0.2, 3.0, size=K)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_static_view(explorer):
    """The explorer holds a drawn figure, shown as a PNG, whose axes are titled and labelled.

    This figure is what a saved notebook shows where no kernel runs. Image panels (pixels) need a
    title only; colour bars are skipped.
    """
    assert explorer.figure is not None
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)
    for ax in explorer.figure.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title(), "missing title"
        if ax.images:
            continue
        assert ax.get_xlabel(), "missing x label"
        assert ax.get_ylabel(), "missing y label"
