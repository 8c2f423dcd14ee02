"""Expression exercises: formulas read without running them, judged by their meaning."""

from __future__ import annotations

import time

import pytest
import sympy

from emlib.exercises import all_exercises, check, get, symbols
from emlib.exercises.formula import (
    MAX_LENGTH,
    FormulaError,
    Variable,
    expression_exercise,
    read,
    same,
)
from emlib.grading.protocol import formula_text

EXPRESSIONS = [ex for ex in all_exercises() if ex.kind == "expression"]

# Five rewrites of each reference that a student may type: expanded, factored, reordered,
# rescaled, with ^ and typographic signs.
REWRITES = {
    "01.kl-nonneg-formula": [
        "p*log(p) - p*log(q) + (1 - p)*log(1 - p) - (1 - p)*log(1 - q)",
        "p*ln(p/q) + (1-p)*ln((1-p)/(1-q))",
        "-p*log(q/p) - (1 - p)*log((1 - q)/(1 - p))",
        "log((p/q)^p * ((1 - p)/(1 - q))^(1 - p))",
        "(1 − p)×log((1 − p)/(1 − q)) + p×log(p/q)",
    ],
    "01.square-gap": [
        "alpha*x**2 + (1 - alpha)*y**2 - (alpha*x + (1 - alpha)*y)**2",
        "(alpha - alpha^2)*(x^2 - 2*x*y + y^2)",
        "alpha*(1-alpha)*(y-x)**2",
        "(x - y)*(x - y)*alpha - alpha**2*(x - y)**2",
        "alpha \u00d7 (1 \u2212 alpha) \u00d7 (x \u2212 y)^2",
    ],
    "02.elbo-at-posterior": [
        "a/(a + b)*log(a/(a/(a + b))) + b/(a + b)*log(b/(b/(a + b)))",
        "ln(a + b)",
        "-log(1/(a + b))",
        "log(2*a + 2*b) - log(2)",
        "(a*log(a) + b*log(b))/(a + b) - a/(a + b)*log(a/(a + b)) - b/(a + b)*log(b/(a + b))",
    ],
    "03.tied-cov-formula": [
        "S_1/(N_1 + N_2) + S_2/(N_1 + N_2)",
        "N_1/(N_1 + N_2)*(S_1/N_1) + N_2/(N_1 + N_2)*(S_2/N_2)",
        "(S_2 + S_1)*(N_2 + N_1)^(-1)",
        "(2*S_1 + 2*S_2)/(2*N_1 + 2*N_2)",
        "1/((N_1 + N_2)/(S_1 + S_2))",
    ],
    "03.pi-map": [
        "(N_k + alpha - 1)/(n + K*alpha - K)",
        "(alpha + N_k - 1) / (K*(alpha - 1) + n)",
        "1/((n + K*(alpha - 1))/(N_k + alpha - 1))",
        "(2*N_k + 2*alpha - 2)/(2*n + 2*K*alpha - 2*K)",
        "N_k/(n + K*(alpha-1)) + (alpha - 1)/(n + K*(alpha - 1))",
    ],
    "03.shared-variance": [
        "S/d/n",
        "(1/n)*(S/d)",
        "S*(d*n)^(-1)",
        "2*S/(2*d*n)",
        "S/(n*d)",
    ],
    "04.lloyd-descent-formula": [
        "(b - a)*(2*x - a - b)",
        "2*x*(b - a) + a**2 - b**2",
        "(x-a)^2 - (x-b)^2",
        "(a - b)*(a + b - 2*x)",
        "-((x - b)**2 - (a - x)**2)",
    ],
    "04.two-means-r": [
        "pi_1*exp(-0/(2*eps)) / (pi_1 + pi_2*exp(-Delta/(2*eps)))",
        "pi_1/(pi_1 + pi_2*exp(-Delta/(2*eps)))",
        "1/(1 + exp(log(pi_2/pi_1) - Delta/(2*eps)))",
        "exp(Delta/(2*eps))*pi_1/(pi_1*exp(Delta/(2*eps)) + pi_2)",
        "1/(1 + pi_2*exp(-Delta/eps/2)/pi_1)",
    ],
    "04.kmeanspp-d2": [
        "D_1^2/(D_1^2 + D_2^2 + D_3^2)",
        "1/(1 + (D_2**2 + D_3**2)/D_1**2)",
        "D_1*D_1/(D_3*D_3 + D_2*D_2 + D_1*D_1)",
        "(D_1/D_2)**2/(1 + (D_1/D_2)**2 + (D_3/D_2)**2)",
        "1 - (D_2**2 + D_3**2)/(D_1**2 + D_2**2 + D_3**2)",
    ],
    "05.map-shrinkage": [
        "N_k/(a + b + N_k - 2)",
        "1 - (a + b - 2)/(N_k + a + b - 2)",
        "1/(1 + (a + b - 2)/N_k)",
        "2*N_k/(2*N_k + 2*a + 2*b - 4)",
        "N_k*(N_k + a + b - 2)^(-1)",
    ],
}


def test_every_expression_exercise_has_rewrites():
    assert {ex.id for ex in EXPRESSIONS} == set(REWRITES)
    assert len(EXPRESSIONS) >= 10


@pytest.mark.parametrize("ex", EXPRESSIONS, ids=lambda e: e.id)
def test_the_reference_and_five_rewrites_pass(ex):
    for answer in [ex.reference(), *REWRITES[ex.id]]:
        verdict = ex.judge(answer, {})
        assert verdict.status == "ok", (answer, verdict.message)


@pytest.mark.parametrize("ex", EXPRESSIONS, ids=lambda e: e.id)
def test_every_named_mistake_is_diagnosed_and_is_wrong(ex):
    for mistake in ex.mistakes:
        verdict = ex.judge(mistake.variant(), {})
        assert verdict.status == "wrong" and verdict.mistake == mistake.slug, mistake.slug
        assert verdict.message.startswith("Looks like")


@pytest.mark.parametrize("ex", EXPRESSIONS, ids=lambda e: e.id)
def test_a_sympy_answer_built_from_symbols_passes(ex):
    found = symbols(ex.id)
    names = dict(zip([v.name for v in ex.variables], found, strict=True))
    answer = sympy.sympify(ex.reference(), locals=names)  # the test's own trusted text
    assert ex.judge(answer, {}).status == "ok"
    assert isinstance(formula_text(answer), str)


@pytest.mark.parametrize("ex", EXPRESSIONS, ids=lambda e: e.id)
def test_nonsense_is_wrong_not_an_error(ex):
    first = ex.variables[0].name
    for answer in ("0", "1", f"{first} + 1", f"exp({first})"):
        verdict = ex.judge(answer, {})
        assert verdict.status == "wrong", answer
        assert verdict.mistake is None


def test_an_unparsable_formula_says_where_it_stopped():
    verdict = get("03.pi-map").judge("(N_k + alpha - 1/(n + K", {})
    assert verdict.status == "wrong"
    assert "could not read the formula" in verdict.message
    verdict = get("03.pi-map").judge("N_k/(2n)", {})
    assert "at character 6: `N_k/(` ⟨here⟩ `2n)`" in verdict.message
    assert "write every product with *, e.g. 2*d, not 2d" in verdict.message


def test_an_unbalanced_bracket_is_named():
    message = get("02.elbo-at-posterior").judge("log(a + b", {}).message
    assert "at character 4: `log` ⟨here⟩ `(a + b`; this bracket is never closed: add its )" in message
    message = get("02.elbo-at-posterior").judge("log(a + b))", {}).message
    assert "`log(a + b)` ⟨here⟩ `)`; this ) closes no bracket: remove it, or add the ( it closes" in message


def test_unknown_symbols_and_functions_are_named():
    variables = (Variable("x", "a point", 0.0, 1.0),)
    with pytest.raises(FormulaError, match=r"unknown symbol `z`: this answer may use x"):
        read("x + z", variables)
    with pytest.raises(FormulaError, match=r"log is a function: write log\(...\)"):
        read("log * x", variables)
    with pytest.raises(FormulaError, match=r"expected the formula as a string"):
        read([1, 2], variables)


def test_a_constant_factor_or_offset_is_named_without_the_answer():
    ex = get("03.pi-map")
    assert "constant multiple" in ex.judge("3*(N_k + alpha - 1)/(n + K*(alpha - 1))", {}).message
    assert "wrong sign" in ex.judge("-(N_k + alpha - 1)/(n + K*(alpha - 1))", {}).message
    offset = ex.judge("(N_k + alpha - 1)/(n + K*(alpha - 1)) + 2", {}).message
    assert "by a constant" in offset


HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "(lambda: __import__('os').system('touch {marker}'))()",
    "N_k.__class__.__mro__",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "N_k if __import__('os').system('touch {marker}') else n",
    "10**10**10",
    "9**99**99",
    "(((9**60)**60)**60)**60",
    "N_k" + "+N_k" * 200,
    "(" * 150 + "N_k" + ")" * 150,
    "f'{{N_k}}'",
    "N_k[0]",
    "exp(exp(exp(exp(exp(exp(N_k))))))",
    "N_k**exp(exp(exp(100)))",
    "2**exp(exp(exp(100)))",
    "1" * 290,
    "(1/0)**2 + N_k",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_answers_are_refused_in_check_without_side_effect(template, tmp_path):
    marker = tmp_path / "pwned"
    answer = template.format(marker=marker)
    started = time.monotonic()
    result = check("03.pi-map", answer)
    assert time.monotonic() - started < 10
    assert result.status == "wrong" and result.earned == 0
    assert not marker.exists()


def test_long_formulas_are_refused_with_the_limit():
    with pytest.raises(FormulaError, match=f"at most {MAX_LENGTH} are read"):
        read("x+" * 200 + "x", (Variable("x", "a point", 0.0, 1.0),))


def test_check_shows_how_it_read_the_answer_in_text_and_latex():
    result = check("05.map-shrinkage", "N_k/(N_k+a+b-2)")
    assert result.status == "ok"
    assert result.lines[0] == ("info", "read your formula as N_k/(N_k + a + b - 2)")
    assert "\\frac{N_{k}}{N_{k} + a + b - 2}" in result._repr_html_()
    typo = check("05.map-shrinkage", "N_k/(N_k+a+b-2")
    assert typo.status == "wrong" and "could not read the formula" in repr(typo)


def test_the_same_verdict_on_every_machine():
    # the numeric points are drawn with a fixed seed and the verdict does not depend on them
    variables = get("03.pi-map").variables
    a = read("(N_k + alpha - 1)/(n + K*(alpha - 1))", variables)
    assert same(a, a, variables)
    assert not same(a, a + sympy.Rational(1, 10**6), variables)


def test_a_declaration_with_an_unreadable_reference_fails_at_import():
    with pytest.raises(FormulaError):
        expression_exercise(id="01.bad", title="t", points=1, name="bad", equation="1.1",
                            variables=(Variable("x", "a point", 0.0, 1.0),), reference="x +")
