"""Random covariances for the density and mixture tests."""

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
