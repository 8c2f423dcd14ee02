"""Feedback that does not mislead: a non-finite reference matches only itself, choice labels are
read leniently and never diagnosed when unknown, a diagnosis leaves the other wrong parts
reported, labels are compared as whole numbers and float32 is named."""

import numpy as np
import pytest

from emlib.exercises import check, get
from emlib.exercises.compare import close, integers, whole_number
from emlib.exercises.spec import choice_labels


def test_an_infinite_reference_matches_only_itself():
    assert close()(12345.0, np.inf, {}).status == "wrong"
    assert close()(np.inf, np.inf, {}).status == "ok"
    assert close()(-np.inf, np.inf, {}).status == "wrong"
    assert close()(np.array([1.0, 2.0]), np.array([1.0, np.nan]), {}).status == "wrong"


def test_a_non_finite_variant_never_diagnoses_a_finite_answer():
    ex = get("02.elbo-kl")
    case = ex.public_cases[2]  # q has zeros: the reversed KL is infinite here
    right = ex.expected(case)
    verdict = ex.judge({"elbo": right["elbo"], "kl": 12345.0}, case)
    assert verdict.status == "partial"
    assert "swapped" not in verdict.message


def test_choice_labels_are_normalised():
    assert choice_labels({"A", "(c)", " d "}) == {"a", "c", "d"}
    assert choice_labels("ac") is None
    assert choice_labels(["a", 1]) == {"a", 1}


def test_an_unknown_label_is_reported_not_diagnosed():
    ex = get("02.em-statements")
    verdict = ex.judge({"a", "z"}, {})
    assert verdict.mistake is None
    assert verdict.message.startswith("unknown label(s) 'z'")
    upper = ex.judge({"A", "B", "D", "F"}, {})
    assert upper.status == "ok"


def test_a_choice_diagnosis_still_counts_the_other_statements():
    verdict = get("02.em-statements").judge({"A", "D", "E"}, {})
    assert verdict.mistake == "strict-increase"
    assert verdict.message.endswith("In all, 3 of 6 statements classified correctly.")


def test_a_diagnosis_leaves_the_other_wrong_keys_reported():
    ex = get("06.restarts")
    case = ex.public_cases[0]
    right = ex.expected(case)
    answer = {
        "log_likelihoods": right["log_likelihoods"] + 3.0,
        "best_seed": int(np.argmax(right["log_likelihoods"])),
    }
    verdict = ex.judge(answer, case)
    assert verdict.mistake == "index-not-seed", verdict.message
    assert "Besides, log_likelihoods: 6 of 6 entries" in verdict.message


def test_labels_are_compared_as_whole_numbers():
    cmp = integers()
    assert cmp(np.array([0, 1, 1]), np.array([0, 1, 1]), {}).status == "ok"
    assert cmp(np.array([0.0, 1.0, 1.0]), np.array([0, 1, 1]), {}).status == "ok"
    assert cmp(np.array([0, 2, 1]), np.array([0, 1, 1]), {}).message == (
        "1 of 3 labels differ (first at index 1)"
    )
    assert cmp(np.array([0.5, 1, 1]), np.array([0, 1, 1]), {}).message == (
        "expected whole numbers (labels); got fractions or NaN"
    )


def test_a_float32_answer_is_named():
    expected = np.float64(1.0) / 3.0
    verdict = close(1e-9, 1e-9)(np.float32(expected), expected, {})
    assert verdict.message.startswith("is right to about 7 significant digits only")
    assert "float32" in verdict.message


# -- forbidden implementations, found by check as the grader finds them ----------------------

FORBIDDEN_LINE = (
    "that is the library's implementation of what the exercise asks you to write. The grader "
    "gives 0 points to an answer that uses it; write it yourself."
)


def test_check_flags_a_forbidden_name_in_the_code():
    from emlib import gmm

    def e_step(X, pi, mu, Sigma):
        return gmm.e_step(X, gmm.GMMParams(pi, mu, Sigma))[0]

    result = check("03.e-step", e_step)
    status, text = result.lines[0]
    assert status == "wrong"
    assert text == f"`e_step` uses emlib.gmm.e_step (line 2 of `e_step`): {FORBIDDEN_LINE}"
    assert (result.status, result.earned) == ("wrong", 0.0)


def test_check_flags_a_forbidden_call_made_during_the_cases():
    import emlib.kmeans

    def lloyd_step(X, mu):
        return getattr(emlib.kmeans, "lloyd" + "_step")(X, mu)  # hidden from the reading

    result = check("04.lloyd-step", lloyd_step)
    assert result.lines[0][1].startswith("`lloyd_step` calls ")
    assert "calls emlib.kmeans.lloyd_step" in result.lines[0][1]
    assert result.earned == 0.0


def test_the_reference_inside_check_is_never_taken_for_the_students_call():
    result = check("03.e-step", get("03.e-step").model_answer())
    assert result.status == "ok"


# -- no false pass ------------------------------------------------------------------------------


def test_unsorted_eigvals_fail_a_public_case_of_06_collapse():
    def collapsing_components(Sigma, min_eigenvalue):
        return np.flatnonzero(np.linalg.eigvals(Sigma)[:, 0].real < min_eigenvalue)

    result = check("06.collapse", collapsing_components)
    assert result.status == "partial"
    assert get("06.collapse").public_cases[1]["Sigma"].shape == (6, 3, 3)
    assert "np.linalg.eigvals returns, but eigvals lists them in no particular order" in (
        result.lines[1][1]
    )


def _d2_seeding(X, n_clusters, draw):
    chosen = [int(draw(X.shape[0], None))]
    while len(chosen) < n_clusters:
        D2 = ((X[:, None] - X[chosen][None]) ** 2).sum(-1).min(1)
        chosen.append(int(draw(X.shape[0], D2 / D2.sum())))
    return X[chosen]


def test_a_seeding_from_the_global_state_fails():
    def kmeans_plusplus(X, n_clusters, random_state):
        return _d2_seeding(X, n_clusters, lambda n, p: np.random.choice(n, p=p))  # noqa: NPY002

    result = check("04.kmeans-plusplus", kmeans_plusplus)
    assert result.status == "wrong"
    assert result.lines[0][1] == (
        "case 1 (n = 7, d = 2, K = 2): two calls with the same random_state gave different results: draw every random "
        "number from rng = np.random.default_rng(random_state), never from np.random's global "
        "state, so that a seed reproduces its result"
    )


def test_a_seeding_that_ignores_its_seed_fails():
    def kmeans_plusplus(X, n_clusters, random_state):
        rng = np.random.default_rng(0)
        return _d2_seeding(X, n_clusters, lambda n, p: rng.choice(n, p=p))

    result = check("04.kmeans-plusplus", kmeans_plusplus)
    assert result.status == "wrong"
    assert "calls with different random_state all gave the same result" in result.lines[0][1]


def test_restarts_with_the_default_init_are_not_told_they_took_the_lowest():
    from emlib.gmm import GaussianMixture

    def compare_restarts(X, n_components, seeds):
        fits = [GaussianMixture(n_components, random_state=int(s)).fit(X) for s in seeds]
        lls = [gm.log_likelihoods_[-1] for gm in fits]
        return lls, int(seeds[int(np.argmax(lls))])

    message = check("06.restarts", compare_restarts).lines[0][1]
    assert "LOWEST" not in message
    assert message.startswith("Looks like the runs start from GaussianMixture's default")


# -- the messages that misled, pinned ---------------------------------------------------------------


def _lse(a):
    m = a.max(axis=1, keepdims=True)
    return m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))


def _xlogx(q):
    return np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)


def _elbo(q, lj):
    return float((q * lj).sum() - _xlogx(q).sum())


def _kl(q, lj):
    return float(_xlogx(q).sum() - (q * (lj - _lse(lj))).sum())


def test_elbo_kl_returned_swapped_is_told_the_order():
    def elbo_kl(q, log_joint):
        return _kl(q, log_joint), _elbo(q, log_joint)

    result = check("02.elbo-kl", elbo_kl)
    assert result.lines[0] == (
        "wrong", "case 1 (n = 3, K = 2): the parts are in the wrong order: return (elbo, kl)"
    )
    assert all("swapped" not in text for _, text in result.lines)


def test_elbo_kl_with_the_entropy_sign_flipped_is_told_so():
    def elbo_kl(q, log_joint):
        return float((q * log_joint).sum() + _xlogx(q).sum()), _kl(q, log_joint)

    text = check("02.elbo-kl", elbo_kl).lines[0][1]
    assert text == (
        "case 1 (n = 3, K = 2): Looks like L adds sum q ln q instead of subtracting it: L = sum "
        "q ln p(x, z) - sum q ln q, the entropy of q entering with a plus sign. See eq. (2.2) of "
        "notebook 02."
    )


def test_elbo_kl_divided_by_n_is_told_so():
    def elbo_kl(q, log_joint):
        n = len(q)
        return _elbo(q, log_joint) / n, _kl(q, log_joint) / n

    text = check("02.elbo-kl", elbo_kl).lines[0][1]
    assert text == (
        "case 1 (n = 3, K = 2): elbo: is the reference divided by n (n, the number of samples): "
        "a mean where the equation has a sum: do not divide by n; kl: is the reference divided "
        "by n (n, the number of samples): a mean where the equation has a sum: do not divide by n"
    )


def test_choice_answers_in_capitals_or_parentheses_are_read_as_labels():
    assert check("02.em-statements", {"(a)", "B", " d", "f "}).status == "ok"
    one = get("02.em-statements").judge({"A"}, {}).message  # the grader's feedback
    assert one.startswith("Looks like (d) was left out")
    assert one.endswith("In all, 3 of 6 statements classified correctly.")
    unknown = check("02.em-statements", {"a", "g"}).lines[0][1]
    assert unknown == (
        "unknown label(s) 'g'; the statements are labelled 'a', 'b', 'c', 'd', 'e', 'f'"
    )


def test_check_never_tells_which_statement_of_a_choice_is_wrong():
    """One bit per try: a wrong set reads the same whichever statement is wrong, with no count."""
    ex = get("06.practice")
    truth = set(ex.reference())
    texts = set()
    for label in ex.choices:
        result = check(ex.id, truth ^ {label})
        texts.add((result.lines[0][1], result.summary, result.earned))
    assert len(texts) == 1
    (text, summary, earned), = texts
    assert summary.endswith("the points, per statement, are counted at grading.")
    assert text == (
        "not yet: at least one statement is classified the wrong way. Reread eqs. (6.1)-(6.4) "
        "of notebook 06. For true-or-false statements check says only right or not yet, so that "
        "it cannot be used to find the answer one statement at a time; the grader gives 1/8 of "
        "the points for each statement classified right."
    )
    assert earned == 0.0
    assert check(ex.id, {"a", "zz"}).lines[0][1].startswith("unknown label(s) 'zz'")


def test_cases_have_short_names():
    assert [get("03.m-step").case_name(i) for i in range(3)] == [
        "full, n = 6, d = 2, K = 2",
        "spherical, n = 5, d = 3, K = 2",
        "diag, n = 5, d = 2, K = 3",
    ]
    assert get("05.bernoulli-m-step").case_name(1) == "n = 6, d = 3, K = 2, a = 2, b = 3"
    assert get("02.elbo-kl").case_name(2) == "q with zeros"


# -- relations: each message pinned --------------------------------------------------------------

RELATION_CASES = [
    ("sign", lambda e: -e, "is minus the reference: check the sign, e.g. the order of a subtraction"),
    ("twice", lambda e: 2 * e, "is twice the reference: a factor 2 too many (e.g. -2 ln p where "
     "ln p is asked)"),
    ("half", lambda e: e / 2, "is half the reference: a factor 2 is missing (e.g. the 2 of -2 ln p, "
     "or a 1/2 applied twice)"),
    ("times-n", lambda e: 5 * e, "is n times the reference (n, the number of samples): a sum where "
     "the equation has a mean, or a division by n forgotten"),
    ("over-n", lambda e: e / 5, "is the reference divided by n (n, the number of samples): a mean "
     "where the equation has a sum: do not divide by n"),
    ("times-d", lambda e: 3 * e, "is d times the reference (d, the dimension): a sum over the d "
     "coordinates where the equation has a mean"),
    ("over-d", lambda e: e / 3, "is the reference divided by d (d, the dimension): a division by d "
     "too many"),
    ("log10", lambda e: e / np.log(10), "is in base-10 logarithms: use the natural logarithm, np.log"),
    ("log2", lambda e: e / np.log(2), "is in base-2 logarithms: use the natural logarithm, np.log"),
    ("sqrt", np.sqrt, "is the square root of the reference: a standard deviation where a variance "
     "is asked, or an np.sqrt too many"),
    ("square", np.square, "is the square of the reference: a variance where a standard deviation "
     "is asked, or a square too many"),
    ("deviance", lambda e: -2 * e, "is -2 times the reference: that is -2 ln p (the deviance of BIC "
     "and AIC); the quantity itself is asked"),
    ("percent", lambda e: 100 * e, "is 100 times the reference: a percentage where a fraction in "
     "[0, 1] is asked"),
    ("complement", lambda e: 1 - e, "is 1 minus the reference: the complementary probability (the "
     "other cluster, or the error rate for the accuracy)"),
    ("log", np.log, "is the logarithm of the reference: return the probabilities themselves, not "
     "their logarithm"),
]


@pytest.mark.parametrize(("key", "change", "text"), RELATION_CASES, ids=[c[0] for c in RELATION_CASES])
def test_each_relation_is_named_with_its_message(key, change, text):
    inputs = {"X": np.zeros((5, 3))}  # n = 5, d = 3
    expected = np.array([[0.2, 0.3], [0.7, 0.45]])
    verdict = close(1e-9, 1e-12)(change(expected), expected, inputs)
    assert (verdict.mistake, verdict.message) == (key, text)


def test_off_by_one_is_named_for_indices_only():
    assert integers()(np.array([1, 2, 2]), np.array([0, 1, 1]), {}).message == (
        "is one more than the reference: Python counts from 0: an index from argmin/argmax needs "
        "no + 1"
    )
    assert whole_number(index_based=True)(2, 3, {}).message == (
        "is one less than the reference: argmin/argmax give an index from 0; a count such as "
        "K = 1, 2, ... is that index + 1"
    )
    assert whole_number()(9, 10, {}).message == "is not right"
    assert close()(np.array([1.5, 2.0]), np.array([0.5, 1.0]), {}).mistake is None


def test_a_seeding_that_returns_a_tuple_is_told_the_shape_not_the_seed():
    def kmeans_plusplus(X, n_clusters, random_state):
        rng = np.random.default_rng(random_state)
        centres = _d2_seeding(X, n_clusters, lambda n, p: rng.choice(n, p=p))
        return centres, np.arange(n_clusters)

    text = check("04.kmeans-plusplus", kmeans_plusplus).lines[0][1]
    assert text.endswith("(if you return (centres, indices), return only centres)")
