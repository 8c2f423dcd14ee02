"""Every user-facing error names the argument, what came, what was expected and the fix."""

import re

import numpy as np
import pytest

from emlib import _validation as v
from emlib.densities import log_bernoulli, log_gaussian
from emlib.gmm import GaussianMixture, GMMParams, m_step


def raises(exc, message):
    return pytest.raises(exc, match=re.escape(message))


def test_three_dimensional_X():
    with raises(
        ValueError,
        "X must be 2-D with shape (n_samples, n_features); got a 3-D array of "
        "shape 2x3x4. Fix: reshape it, e.g. X.reshape(len(X), -1) for images.",
    ):
        GaussianMixture(2).fit(np.zeros((2, 3, 4)))


def test_one_dimensional_X_is_n_by_one():
    assert v.check_X([1.0, 2.0, 3.0]).shape == (3, 1)


def test_nan_and_inf_are_counted_with_the_first_row():
    X = np.zeros((5, 2))
    X[3, 1] = np.nan
    X[4, 0] = np.inf
    with raises(
        ValueError,
        "X contains 2 NaN or infinite values (first in row 3); expected only "
        "finite numbers. Fix: drop or impute those rows, e.g. "
        "X = X[np.isfinite(X).all(axis=1)].",
    ):
        GaussianMixture(2).fit(X)


def test_empty_and_non_numeric_X():
    with raises(
        ValueError, "X is empty (shape 0x2); expected at least one sample and one feature."
    ):
        v.check_X(np.zeros((0, 2)))
    with raises(TypeError, "X must be an array of numbers; got list that numpy cannot convert"):
        v.check_X([["a", "b"]])


def test_n_components_bounds():
    X = np.zeros((4, 2))
    with raises(
        ValueError, "n_components must be at least 1; got 0. Fix: ask for one or more components."
    ):
        GaussianMixture(0).fit(X)
    with raises(
        ValueError,
        "n_components=5 is larger than the number of samples (4); expected at "
        "most 4. Fix: use fewer components or more data.",
    ):
        GaussianMixture(5).fit(X)
    with raises(TypeError, "n_components must be an integer; got 2.5 of type float."):
        GaussianMixture(2.5).fit(X)


def test_non_binary_X_for_bernoulli():
    X = np.array([[0.0, 1.0], [0.5, 1.0]])
    with raises(
        ValueError,
        "X must contain only 0 and 1 for a Bernoulli mixture; got 1 other value "
        "(first 0.5 at row 1, column 0). Fix: binarize it, e.g. "
        "(X > threshold).astype(float).",
    ):
        log_bernoulli(X, np.full((1, 2), 0.5))


def test_weights_negative_or_not_summing_to_one():
    with raises(
        ValueError,
        "pi must be non-negative; got pi[1] = -0.2. Fix: weights are "
        "probabilities, e.g. np.full(K, 1 / K).",
    ):
        GMMParams([1.2, -0.2], [[0.0], [1.0]], [1.0, 1.0], "spherical")
    with raises(ValueError, "pi must sum to 1; got a sum of 0.9. Fix: normalise, pi / pi.sum()."):
        GMMParams([0.5, 0.4], [[0.0], [1.0]], [1.0, 1.0], "spherical")
    with raises(
        ValueError, "pi must have shape (2,); got shape 3. Fix: pass one weight per component."
    ):
        GMMParams([0.2, 0.4, 0.4], [[0.0], [1.0]], [1.0, 1.0], "spherical")


def test_covariance_not_symmetric_or_not_positive_definite():
    mu = np.zeros((1, 2))
    with raises(
        ValueError,
        "Sigma[0] is not symmetric (largest |S - S.T| = 1); expected a "
        "symmetric positive definite matrix. Fix: symmetrise, (S + S.T) / 2.",
    ):
        log_gaussian(np.zeros((3, 2)), mu, [[[1.0, 1.0], [0.0, 1.0]]])
    with raises(
        ValueError,
        "Sigma[0] is not positive definite (smallest eigenvalue -1); expected a "
        "symmetric positive definite matrix. Fix: add a small multiple of the identity",
    ):
        log_gaussian(np.zeros((3, 2)), mu, [[[1.0, 2.0], [2.0, 1.0]]])
    with raises(ValueError, "Sigma must be positive (variances); got Sigma[0, 1] = -1.0."):
        log_gaussian(np.zeros((3, 2)), mu, [[1.0, -1.0]], "diag")
    with raises(
        ValueError, "Sigma for covariance_type='tied' must have shape (2, 2); got shape 1x2x2."
    ):
        log_gaussian(np.zeros((3, 2)), mu, np.eye(2)[None], "tied")


def test_unknown_covariance_type_and_init_list_the_valid_ones():
    with raises(
        ValueError,
        "covariance_type='round' is not supported; expected one of 'full', "
        "'diag', 'spherical', 'tied'. Fix: pass one of those strings.",
    ):
        GaussianMixture(2, covariance_type="round")
    with raises(
        ValueError,
        "init='kmeans+' is not supported; expected one of 'kmeans++', "
        "'kmeans', 'random', 'random_from_data'. Fix: pass one of those strings.",
    ):
        GaussianMixture(2, init="kmeans+")


def test_resp_rows_must_sum_to_one():
    with raises(
        ValueError,
        "each row of resp must sum to 1 over components; row 0 sums to 0.5. "
        "Fix: normalise along axis=1",
    ):
        m_step(np.zeros((2, 1)), np.array([[0.25, 0.25], [0.5, 0.5]]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -0.25])
def test_resp_must_hold_finite_non_negative_probabilities(bad):
    resp = np.full((3, 2), 0.5)
    resp[1, 0] = bad
    with raises(
        ValueError,
        "resp must contain finite, non-negative probabilities. "
        "Fix: compute it in log space with e_step.",
    ):
        m_step(np.zeros((3, 1)), resp)


def test_features_must_match_the_fit():
    model = GaussianMixture(1, init="random", random_state=0).fit(
        np.random.default_rng(0).normal(size=(20, 2))
    )
    with raises(
        ValueError,
        "X has 3 features but the fitted mixture has 2; expected shape "
        "(n_samples, 2). Fix: pass data with the same columns as the data it was fitted on.",
    ):
        model.predict(np.zeros((4, 3)))


def test_unfitted_model():
    with raises(
        RuntimeError, "this GaussianMixture is not fitted yet. Fix: call .fit(X) before using it."
    ):
        GaussianMixture(2).predict(np.zeros((3, 1)))
