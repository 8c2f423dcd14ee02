"""The expression exercises: results of derivations, stated as formulas (:mod:`.formula`).

One per notebook that teaches a derivation whose result the text does not print:

``01.square-gap``
    Jensen's gap of f(x) = x² at two points, α f(x) + (1-α) f(y) - f(αx + (1-α)y), eq. (1.1).
``03.pi-map``
    The MAP update of the weights under a symmetric Dirichlet(α) prior, by a Lagrange multiplier
    as in (3.5) with the prior added as in (2.9).
``03.shared-variance``
    One variance σ² shared by every component and every coordinate (Σ_k = σ²I for all k): the
    M-step, from Q as for the spherical (3.9), where the d enters.
``04.two-means-r``
    The responsibility of the first of two components with covariance εI, as a function of the
    squared-distance gap Δ, eq. (4.5): the form in which its ε → 0 limit can be read off.
``05.map-shrinkage``
    The weight w of the data in the MAP update (5.6) written as a blend of the ML estimate and
    the prior's mode.

Each names the mistakes a student makes on the way (a dropped term, a sign, the posterior mean
for the mode), and each notebook lists them in ``EXERCISES``.
"""

from __future__ import annotations

from .formula import Variable, expression_exercise

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
