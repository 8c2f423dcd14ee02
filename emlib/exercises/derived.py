"""The expression exercises: results of derivations, stated as formulas (:mod:`.formula`).

Each asks for a formula its notebook does not print: the result of one of its derivations,
or one of its equations worked out for a small case:

``01.kl-nonneg-formula``
    The KL divergence (1.5) of two Bernoulli distributions written out, the automatic part of
    the derivation ``01.kl-nonneg``.
``01.square-gap``
    Jensen's gap of f(x) = x² at two points, α f(x) + (1-α) f(y) - f(αx + (1-α)y), eq. (1.1).
``02.elbo-at-posterior``
    The ELBO (2.2) of one sample and two components at the posterior (2.5): ln p(x | θ), the
    bound touching the log-likelihood (2.4).
``03.tied-cov-formula``
    The tied update (3.8) in 1-D for two components, from each component's weighted scatter
    and soft count: the automatic part of the derivation ``03.tied-cov``.
``03.pi-map``
    The MAP update of the weights under a symmetric Dirichlet(α) prior, by a Lagrange multiplier
    as in (3.5) with the prior added as in (2.9).
``03.shared-variance``
    One variance σ² shared by every component and every coordinate (Σ_k = σ²I for all k): the
    M-step, from Q as for the spherical (3.9), where the d enters.
``04.lloyd-descent-formula``
    The drop of J (4.1) when one sample moves to a nearer centre in the assignment (4.2): the
    automatic part of the derivation ``04.lloyd-descent``.
``04.two-means-r``
    The responsibility of the first of two components with covariance εI, as a function of the
    squared-distance gap Δ, eq. (4.5): the form in which its ε → 0 limit can be read off.
``04.kmeanspp-d2``
    The probability (4.4) that k-means++ draws a given sample as the next centre, from the
    distances of three samples to their nearest chosen centre.
``05.map-shrinkage``
    The weight w of the data in the MAP update (5.6) written as a blend of the ML estimate and
    the prior's mode.

Each names the mistakes a student makes on the way (a dropped term, a sign, the posterior mean
for the mode, the arguments of KL swapped), and each notebook lists them in ``EXERCISES``.
"""

from __future__ import annotations

from .formula import Variable, expression_exercise

KL_BERNOULLI = expression_exercise(
    id="01.kl-nonneg-formula",
    title="KL of two Bernoulli distributions, written out",
    points=1,
    name="kl_bernoulli",
    equation="1.5",
    variables=(
        Variable("p", "the probability p(1) of the outcome 1 under p", 0.05, 0.95),
        Variable("q", "the probability q(1) of the outcome 1 under q", 0.05, 0.95),
    ),
    reference="p*log(p/q) + (1 - p)*log((1 - p)/(1 - q))",
    mistakes=(
        ("swapped", "the arguments are swapped: that is KL(q || p), the log-ratios averaged "
         "under q; KL(p || q) averages ln(p(x)/q(x)) under p, and KL is not symmetric.", "1.5",
         "q*log(q/p) + (1 - q)*log((1 - q)/(1 - p))"),
        ("one-term", "the outcome 0 is missing: the sum runs over both outcomes, x = 1 with "
         "probability p and x = 0 with probability 1 - p.", "1.5", "p*log(p/q)"),
        ("ratio-inverted", "the ratio is upside down: that is E_p[ln(q(x)/p(x))] = -KL(p || q), "
         "the quantity the proof bounds above by ln E_p[q(x)/p(x)] = ln 1 = 0 with (1.4).",
         "1.4", "p*log(q/p) + (1 - p)*log((1 - q)/(1 - p))"),
        ("no-weights", "the weights p(x) are missing: KL is the expectation under p of "
         "ln(p(x)/q(x)), so each log-ratio is multiplied by its probability.", "1.5",
         "log(p/q) + log((1 - p)/(1 - q))"),
    ),
)

SQUARE_GAP = expression_exercise(
    id="01.square-gap",
    title="Jensen's gap of x² at two points, as a formula",
    points=1,
    name="square_gap",
    equation="1.1",
    variables=(
        Variable("alpha", "the weight α of x", 0.05, 0.95),
        Variable("x", "the first point", -3.0, 3.0),
        Variable("y", "the second point", -3.0, 3.0),
    ),
    reference="alpha*(1 - alpha)*(x - y)**2",
    mistakes=(
        ("sign", "the gap is taken as f of the mean minus the mean of f; for a convex f the "
         "chord lies above the graph, so the gap, chord minus graph, is non-negative.", "1.1",
         "-alpha*(1 - alpha)*(x - y)**2"),
        ("cross-term", "the cross term of (αx + (1-α)y)² was dropped: the square of a sum holds "
         "2α(1-α)xy, which turns α(1-α)(x² + y²) into α(1-α)(x - y)².", "1.1",
         "alpha*(1 - alpha)*(x**2 + y**2)"),
        ("no-weights", "the weights are missing: expand α x² + (1-α) y² - (αx + (1-α)y)² and "
         "collect the terms; every one carries α(1-α).", "1.1", "(x - y)**2"),
    ),
)

ELBO_AT_POSTERIOR = expression_exercise(
    id="02.elbo-at-posterior",
    title="The ELBO at the posterior, for one sample and two components",
    points=2,
    name="elbo_at_posterior",
    equation="2.2-2.5",
    variables=(
        Variable("a", "the joint term of component 1, p(x, z = 1 | θ) = π₁ N(x | μ₁, σ₁²)",
                 0.01, 2.0),
        Variable("b", "the joint term of component 2, p(x, z = 2 | θ) = π₂ N(x | μ₂, σ₂²)",
                 0.01, 2.0),
    ),
    reference="log(a + b)",
    mistakes=(
        ("no-entropy", "the entropy of q is missing: that is the expected log joint "
         "Σ_k q_k ln p(x, z = k | θ), the Q of (2.6); L = Q + H(q) with H(q) = -Σ_k q_k ln q_k.",
         "2.6", "(a*log(a) + b*log(b))/(a + b)"),
        ("entropy-sign", "the entropy has the wrong sign: (2.2) divides by q_k inside the "
         "logarithm, so L = Q + H(q), and H(q) = -Σ_k q_k ln q_k is not negative.", "2.2",
         "2*(a*log(a) + b*log(b))/(a + b) - log(a + b)"),
        ("hard-assignment", "that is L for q = (1, 0), all the mass on component 1, as a hard "
         "assignment puts it: ln a, below ln p(x | θ) by the KL (2.3). The E-step's q is the "
         "posterior (2.5), q_1 = a/(a + b), q_2 = b/(a + b).", "2.5", "log(a)"),
    ),
)

TIED_COV_FORMULA = expression_exercise(
    id="03.tied-cov-formula",
    title="The tied variance in 1-D, from the scatter of each component",
    points=2,
    name="tied_formula",
    equation="3.8",
    variables=(
        Variable("S_1", "the weighted scatter of component 1, the sum over i of "
                 "r_i1 (x_i - mu_1)^2", 0.5, 50.0),
        Variable("S_2", "the weighted scatter of component 2, the sum over i of "
                 "r_i2 (x_i - mu_2)^2", 0.5, 50.0),
        Variable("N_1", "the soft count of component 1", 0.5, 30.0),
        Variable("N_2", "the soft count of component 2", 0.5, 30.0),
    ),
    reference="(S_1 + S_2)/(N_1 + N_2)",
    mistakes=(
        ("k-n", "the scatter was divided by K n: the ln det Λ term of Q carries "
         "Σ_i Σ_k r_ik = Σ_k N_k = n, not K n, because each row of r sums to 1.", "3.8",
         "(S_1 + S_2)/(2*(N_1 + N_2))"),
        ("mean-of-full", "that is the plain average of the two full updates S_k/N_k of (3.7); "
         "the tied update weights component k by N_k/n, which leaves the summed scatter over "
         "n = N_1 + N_2.", "3.8", "(S_1/N_1 + S_2/N_2)/2"),
        ("own-counts", "each scatter was divided by its own N_k: the shared Σ enters Q once "
         "for all components, with the weight Σ_k N_k = n, so the summed scatter is divided "
         "by n = N_1 + N_2.", "3.8", "S_1/N_1 + S_2/N_2"),
    ),
)

PI_MAP = expression_exercise(
    id="03.pi-map",
    title="MAP weights under a Dirichlet prior, by a Lagrange multiplier",
    points=2,
    name="pi_map",
    equation="3.5",
    variables=(
        Variable("N_k", "the soft count of component k", 0.5, 20.0),
        Variable("n", "the number of samples", 25.0, 60.0, integer=True),
        Variable("K", "the number of components", 2.0, 6.0, integer=True),
        Variable("alpha", "the Dirichlet parameter α", 1.2, 4.0),
    ),
    reference="(N_k + alpha - 1)/(n + K*(alpha - 1))",
    mistakes=(
        ("ml", "the prior was left out: that is the maximum-likelihood weight (3.5); the "
         "log-prior adds (α - 1) ln π_k to each N_k ln π_k.", "3.5", "N_k/n"),
        ("lambda-one-prior", "the multiplier holds the prior of one component only: summing "
         "π_k = (N_k + α - 1)/λ over all K components gives λ = n + K(α - 1).", "3.5",
         "(N_k + alpha - 1)/(n + alpha - 1)"),
        ("posterior-mean", "that is the posterior mean, (N_k + α)/(n + Kα); MAP takes the "
         "mode, which is where the derivative of N_k ln π_k + (α - 1) ln π_k - λπ_k "
         "vanishes.", "3.5", "(N_k + alpha)/(n + K*alpha)"),
    ),
)

SHARED_VARIANCE = expression_exercise(
    id="03.shared-variance",
    title="One variance for every component and coordinate: the M-step",
    points=2,
    name="shared_variance",
    equation="3.9",
    variables=(
        Variable("S", "the weighted scatter, the sum over i and k of r_ik ||x_i - mu_k||^2",
                 1.0, 100.0),
        Variable("d", "the dimension", 1.0, 10.0, integer=True),
        Variable("n", "the number of samples", 20.0, 200.0, integer=True),
    ),
    reference="S/(d*n)",
    mistakes=(
        ("no-d", "the d is missing: ln det(σ²I) = d ln σ², so the derivative of Q in σ² holds "
         "d n / σ², as in the spherical (3.9).", "3.9", "S/n"),
        ("standard-deviation", "that is the standard deviation σ; the update is for the "
         "variance σ².", "3.9", "sqrt(S/(d*n))"),
        ("n-squared", "the scatter was averaged twice: setting the derivative "
         "-d n/(2σ²) + S/(2σ⁴) to zero gives σ² = S/(d n).", "3.9", "S/(d*n**2)"),
    ),
)

LLOYD_DESCENT_FORMULA = expression_exercise(
    id="04.lloyd-descent-formula",
    title="The drop of J when one sample moves to a nearer centre",
    points=1,
    name="assignment_drop",
    equation="4.1-4.2",
    variables=(
        Variable("x", "the sample (1-D)", -5.0, 5.0),
        Variable("a", "the centre the sample leaves", -5.0, 5.0),
        Variable("b", "the centre the sample moves to", -5.0, 5.0),
    ),
    reference="(x - a)**2 - (x - b)**2",
    mistakes=(
        ("sign", "that is the rise of J: the drop is J before minus J after, the sample's old "
         "term (x - a)² minus its new one (x - b)²; it is positive when b is the nearer centre, "
         "as (4.2) chooses.", "4.2", "(x - b)**2 - (x - a)**2"),
        ("centre-gap", "that is the squared distance between the two centres; the drop depends "
         "on where the sample lies: only its own term of J (4.1) changes, from (x - a)² to "
         "(x - b)².", "4.1", "(a - b)**2"),
        ("lost-squares", "the squares of the centres were lost in the expansion: "
         "(x - a)² - (x - b)² = 2x(b - a) + a² - b² = (b - a)(2x - a - b).", "4.1",
         "2*x*(b - a)"),
    ),
)

TWO_MEANS_R = expression_exercise(
    id="04.two-means-r",
    title="Two components with covariance εI: the responsibility as a logistic function",
    points=2,
    name="r1_formula",
    equation="4.5",
    variables=(
        Variable("pi_1", "the weight of component 1", 0.1, 0.9),
        Variable("pi_2", "the weight of component 2", 0.1, 0.9),
        Variable("Delta", "the gap ‖x - μ₂‖² - ‖x - μ₁‖²", -3.0, 3.0),
        Variable("eps", "the shared variance ε", 0.3, 2.0),
    ),
    reference="1/(1 + pi_2/pi_1*exp(-Delta/(2*eps)))",
    mistakes=(
        ("no-half", "the exponent lost its ½: the Gaussian density holds "
         "exp(-‖x - μ‖²/(2ε)).", "4.5", "1/(1 + pi_2/pi_1*exp(-Delta/eps))"),
        ("sign", "the exponent has the wrong sign, so the farther mean gets the larger share; "
         "divide numerator and denominator by the term of component 1.", "4.5",
         "1/(1 + pi_2/pi_1*exp(Delta/(2*eps)))"),
        ("weights-inverted", "the weights are upside down: component 2's term over component "
         "1's is (π₂/π₁) exp(-Δ/(2ε)).", "4.5", "1/(1 + pi_1/pi_2*exp(-Delta/(2*eps)))"),
        ("no-weights", "the weights π_k are missing: they multiply each component's density in "
         "the numerator and the denominator of (4.5).", "4.5",
         "1/(1 + exp(-Delta/(2*eps)))"),
    ),
)

KMEANSPP_D2 = expression_exercise(
    id="04.kmeanspp-d2",
    title="k-means++: the probability of the next centre",
    points=1,
    name="p_next",
    equation="4.4",
    variables=(
        Variable("D_1", "the distance D(x_1) of sample 1 to its nearest chosen centre", 0.1, 5.0),
        Variable("D_2", "the distance D(x_2) of sample 2 to its nearest chosen centre", 0.1, 5.0),
        Variable("D_3", "the distance D(x_3) of sample 3 to its nearest chosen centre", 0.1, 5.0),
    ),
    reference="D_1**2/(D_1**2 + D_2**2 + D_3**2)",
    mistakes=(
        ("not-squared", "the distances are not squared: k-means++ draws a sample with "
         "probability proportional to D(x)², its share of J (4.1) if no centre were added.",
         "4.4", "D_1/(D_1 + D_2 + D_3)"),
        ("uniform", "that is a uniform draw, the rule for the first centre only; every next "
         "centre is drawn with probability proportional to D(x_i)².", "4.4", "1/3"),
        ("square-of-sum", "the denominator is the square of the sum; (4.4) divides by the sum "
         "of the squares, Σ_j D(x_j)², so that the probabilities add up to 1.", "4.4",
         "D_1**2/(D_1 + D_2 + D_3)**2"),
    ),
)

MAP_SHRINKAGE = expression_exercise(
    id="05.map-shrinkage",
    title="The MAP update as a blend of the data and the prior: the weight of the data",
    points=2,
    name="data_weight",
    equation="5.6",
    variables=(
        Variable("N_k", "the soft count of component k", 0.5, 50.0),
        Variable("a", "the Beta parameter a", 1.1, 5.0),
        Variable("b", "the Beta parameter b", 1.1, 5.0),
    ),
    reference="N_k/(N_k + a + b - 2)",
    mistakes=(
        ("prior-weight", "that is the weight of the prior's mode, 1 - w: the data's estimate "
         "N_kj/N_k is multiplied by N_k/(N_k + a + b - 2).", "5.6",
         "(a + b - 2)/(N_k + a + b - 2)"),
        ("posterior-mean", "that is the weight in the posterior mean, whose denominator is "
         "N_k + a + b; the MAP update (5.6) takes the mode, with a - 1 and b - 1.", "5.6",
         "N_k/(N_k + a + b)"),
    ),
)
