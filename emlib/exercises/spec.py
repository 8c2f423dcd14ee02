"""The declaration of an exercise: what the student provides, the reference and the comparison.

API stable: notebook authors declare exercises with :class:`Exercise`, :class:`Mistake` and the
comparators of :mod:`emlib.exercises.compare`; the grader runs them with :meth:`Exercise.run`
(inside the student's process) and :meth:`Exercise.judge` (outside it). Additions will be
backwards compatible.

An exercise is one of five kinds:

``"function"``
    The student writes a function ``name`` with the given ``signature``, e.g.
    ``"e_step(X, pi, mu, Sigma)"``. Every input dict (a public case, or what ``generate(rng)``
    returns for a hidden case) holds the arguments **in the order of the signature** (checked when
    the exercise is declared); the student's function is called positionally, so a student may name
    the parameters differently. Inputs are plain data: numpy arrays, floats, ints, strings.
``"value"``
    The student assigns a value (a number, an array, a dict of them) to the variable ``name``.
    ``public_cases`` is ``({},)``, ``generate`` is ``None`` and ``reference()`` takes no argument.
``"choice"``
    Like a value; the answer is a set (or list / tuple) of statement labels such as ``{"a", "c"}``,
    ``choices`` maps each label to its statement, ``reference()`` returns the true labels.
``"expression"``
    Like a value; the answer is a formula, the result of a derivation, typed as a string
    (``"S / (d*n)"``) or built from SymPy symbols. ``variables`` declares the symbols it may use;
    :mod:`.formula` reads it without running it and judges it by its meaning. Declare one with
    :func:`emlib.exercises.formula.expression_exercise`.
``"derivation"``
    Marked by hand from a markdown cell tagged ``solution`` (the grader reports it as manual,
    0 automatic points). ``reference`` / ``public_cases`` may still test a numeric consequence.

Judging one case (:meth:`Exercise.judge`): ``expected = reference(**inputs)`` (a call into emlib,
never a copy of its code), then ``compare(output, expected, inputs) -> Verdict``. When the output
is not correct, each :class:`Mistake` is tried: its ``variant`` behaves like a student who made
that mistake (same call as the student's function; no argument for a value or choice), and when
the output matches the variant (``Mistake.matches`` if given, else the exercise's ``compare``
against the variant's output; for dict outputs only on the keys the variant gets wrong), the
verdict names the mistake and the equation; the parts of a dict answer that no diagnosed mistake
explains are still reported after it ("Besides, ..."). A variant that is infinite or NaN where the
reference is finite matches only the same non-finite values. A choice answer is read by
:func:`choice_labels` (``"A"``, ``"(a)"`` are ``"a"``) and diagnosed only when every label is
known. When no mistake matches, the comparator may still name a simple relation to the reference
(:mod:`.relations`: a sign, a factor, a log base, a transpose). Messages never contain expected
values, public or hidden: comparators say *where* an answer is wrong, not what the right number is.

Distributional exercises (e.g. k-means++ seeding) set ``n_calls > 1`` and ``seed_argument``: the
function is called ``n_calls`` times with ``inputs[seed_argument] + j`` for j = 0..n_calls-1, and
``compare`` receives the list of outputs (and ``reference(**inputs)``, e.g. the theoretical
probabilities) to run a statistical test. Mistake variants are called the same way.

Hidden cases: :meth:`Exercise.hidden_cases` (seed) draws ``n_hidden`` input dicts from
``generate(rng)`` with a generator derived from the seed and the exercise id, so the same seed
always gives the same cases and two exercises never share a stream.

A function exercise, declared in ``emlib/exercises/nb03.py`` (add it to ``EXERCISES``)::

    def _e_step(X, pi, mu, Sigma):
        return gmm.e_step(X, gmm.GMMParams(pi, mu, Sigma))[0]

    E_STEP = Exercise(
        id="03.e-step", title="E-step: the responsibilities", points=3, kind="function",
        name="e_step", signature="e_step(X, pi, mu, Sigma)", equation="3.4",
        public_cases=({"X": X0, "pi": pi0, "mu": mu0, "Sigma": Sigma0},),
        generate=lambda rng: {...same keys, drawn with rng...}, n_hidden=5,
        reference=_e_step,
        compare=compare.close(rtol=1e-6, atol=1e-9, component_axis=1),
        mistakes=(Mistake("wrong-axis", "the responsibilities are normalised over the samples "
                          "instead of over the components.", "3.4", _e_step_wrong_axis),),
        forbidden=("emlib.gmm.e_step", "sklearn.mixture.GaussianMixture"),
    )

``Mistake.description`` follows "Looks like ..." in the feedback and ends with a full stop.
"""

from __future__ import annotations

import copy
import re
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..grading.protocol import VERDICT_STATUSES as STATUSES
from ..grading.protocol import is_exercise_id

KINDS = ("function", "value", "choice", "expression", "derivation")
_SIGNATURE = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one case.

    Attributes
    ----------
    fraction : float in [0, 1], the share of the case's points earned
    status : one of ``STATUSES``: "ok", "partial", "wrong", "not-attempted", "error" (the
        grading protocol's words, :data:`emlib.grading.protocol.VERDICT_STATUSES`)
    message : str, short feedback for the student (never an expected value)
    mistake : str or None, the slug of the (first) diagnosed :class:`Mistake`; the message
        holds the feedback of every mistake diagnosed
    """

    fraction: float
    status: str
    message: str
    mistake: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Verdict status {self.status!r} is not one of {STATUSES}.")
        f = float(self.fraction)
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"Verdict fraction must lie in [0, 1]; got {self.fraction!r}.")
        object.__setattr__(self, "fraction", f)

    @classmethod
    def ok(cls, message: str = "correct") -> Verdict:
        return cls(1.0, "ok", message)

    @classmethod
    def wrong(cls, message: str) -> Verdict:
        return cls(0.0, "wrong", message)

    @classmethod
    def graded(cls, fraction: float, message: str) -> Verdict:
        """``ok`` at 1, ``wrong`` at 0, ``partial`` in between."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        status = "ok" if fraction == 1.0 else "wrong" if fraction == 0.0 else "partial"
        return cls(fraction, status, message)


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to solve an exercise, recognised from the wrong answer it produces.

    Attributes
    ----------
    slug : str, e.g. "wrong-axis"
    description : str, what went wrong, addressed to the student ("the responsibilities are
        normalised over samples instead of over components")
    equation : str, the equation to reread, e.g. "3.4" (shown as "eq. (3.4) of notebook 03")
    variant : callable, computes the wrong answer: called like the student's function (the same
        positional inputs) for a function exercise, with no argument for a value or choice
    matches : optional callable ``(answer, inputs) -> bool`` replacing the default test (the
        exercise's ``compare`` against the variant's output)
    explains : for a dict answer diagnosed by ``matches``, the keys the mistake accounts for
        (the other wrong keys are still reported); empty: all of them
    """

    slug: str
    description: str
    equation: str
    variant: Callable[..., Any]
    matches: Callable[[Any, Mapping[str, Any]], bool] | None = None
    explains: tuple[str, ...] = ()

    def feedback(self) -> str:
        """The sentence shown to the student when this mistake is diagnosed."""
        return f"Looks like {self.description} See {equation_ref(self.equation)}."


def choice_labels(answer) -> frozenset | None:
    """The labels of a choice answer, normalised: ``{"A", "(c) "}`` -> ``{"a", "c"}``.

    None when the answer is not a set, frozenset, list or tuple. Case, surrounding parentheses
    and white space do not matter; anything else (``"e)"`` aside) is kept as written, so that an
    unknown label is reported as unknown rather than read as a known one.
    """
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return None
    out = set()
    for x in answer:
        if isinstance(x, str):
            x = x.strip().lstrip("(").rstrip(")").strip().lower()
        out.add(x)
    return frozenset(out)


def equation_ref(equation: str) -> str:
    """``"3.4"`` -> ``"eq. (3.4) of notebook 03"``; ``"3.4-3.9"`` -> ``"eqs. (3.4)-(3.9) ..."``."""
    parts = re.split(r"\s*[-–,]\s*", equation.strip())
    notebook = parts[0].split(".")[0].zfill(2)
    if len(parts) == 1:
        return f"eq. ({parts[0]}) of notebook {notebook}"
    sep = "-" if re.search(r"[-–]", equation) else ", "
    return f"eqs. {sep.join(f'({p})' for p in parts)} of notebook {notebook}"


#: Which sizes an input's axes give, by the notebooks' names for them.
_AXES = {
    "X": ("n", "d"), "x": ("n",), "q": ("n", "K"), "resp": ("n", "K"), "log_joint": ("n", "K"),
    "pi": ("K",), "mu": ("K", "d"), "Sigma": ("K", "d", "d"), "theta": ("K", "d"),
    "points": ("m",), "train_clusters": ("n",),
}
_SIZES = {"K": "K", "d": "d", "n_clusters": "K", "n_components": "K", "k_max": "K max"}


def describe_case(inputs: Mapping[str, Any]) -> str:
    """A short name for a case from its inputs: ``"spherical, n = 6, d = 2, K = 2"``."""
    words = [v for v in inputs.values() if isinstance(v, str)]
    sizes: dict[str, int] = {}
    for name, value in inputs.items():
        if name in _SIZES and isinstance(value, (int, np.integer)):
            sizes.setdefault(_SIZES[name], int(value))
        if name in ("a", "b") and isinstance(value, (int, float)):
            sizes[name] = value
        shape = np.shape(value) if isinstance(value, np.ndarray) else ()
        for axis, size in zip(_AXES.get(name, ()), shape, strict=False):
            sizes.setdefault(axis, int(size))
    order = ("n", "m", "d", "K", "K max", "a", "b")
    words += [f"{k} = {sizes[k]:g}" for k in order if k in sizes]
    return ", ".join(words)


_REPEATS = 20  # seeds called twice by Exercise.seeding_problem


def _same_output(a, b) -> bool:
    """Equal outputs, part by part for tuples; True when they cannot be compared (the
    comparator, not the seed check, then says what is wrong with them)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        if not all(np.ndim(x) == 0 for x in (*a, *b)):
            return all(_same_output(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except Exception:  # the student's objects may not compare
        return True


def _parameters(signature: str) -> tuple[str, ...]:
    m = _SIGNATURE.match(signature.replace(" ", ""))
    if not m:
        raise ValueError(f"signature {signature!r} must look like 'name(a, b, c)'.")
    names = [p.split("=")[0].lstrip("*") for p in m.group(2).split(",") if p]
    return tuple(names)


@dataclass(frozen=True)
class Exercise:
    """One exercise of the course; see the module docstring for the meaning of each kind.

    Attributes
    ----------
    id : "NN.slug", NN the notebook number, e.g. "03.e-step"
    title : str, one line
    points : float > 0
    kind : "function" | "value" | "choice" | "expression" | "derivation"
    name : the student's symbol in the notebook (function name or variable name)
    reference : callable ``(**inputs) -> expected`` (no argument for value / choice)
    compare : callable ``(answer, expected, inputs) -> Verdict`` (see :mod:`.compare`)
    equation : e.g. "3.4", the equation the exercise implements
    signature : for functions, e.g. "e_step(X, pi, mu, Sigma)"
    public_cases : tuple of input dicts run by ``check`` in the student's kernel
    generate : ``(rng: np.random.Generator) -> dict`` of inputs for a hidden case, or None
    n_hidden : how many hidden cases the grader draws (0 for value / choice exercises)
    mistakes : tuple of :class:`Mistake`
    forbidden : dotted names a function answer must not call, e.g. "emlib.gmm.e_step"
    choices : for choice exercises, label -> statement
    n_calls, seed_argument : for distributional exercises (see the module docstring)
    case_names : a short name per public case ("spherical, K = 3"); default: one read from
        the inputs' sizes (:func:`describe_case`)
    variables : for expression exercises, the :class:`~.formula.Variable` s the formula may use
    solution : a correct answer in the student's form (a function with the signature), for the
        tests; default: the reference itself (a distributional exercise, whose reference is a
        distribution rather than an output, needs one for ``model_answer``)
    """

    id: str
    title: str
    points: float
    kind: str
    name: str
    reference: Callable[..., Any]
    compare: Callable[[Any, Any, Mapping[str, Any]], Verdict]
    equation: str = ""
    signature: str = ""
    public_cases: tuple[Mapping[str, Any], ...] = ({},)
    generate: Callable[[np.random.Generator], dict] | None = None
    n_hidden: int = 0
    mistakes: tuple[Mistake, ...] = ()
    forbidden: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)
    n_calls: int = 1
    seed_argument: str | None = None
    solution: Callable[..., Any] | None = None
    case_names: tuple[str, ...] = ()
    variables: tuple = ()

    def __post_init__(self):
        where = f"Exercise {self.id!r}"
        if not is_exercise_id(self.id):
            raise ValueError(f"{where}: the id must look like '03.e-step' (notebook, dot, slug).")
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind {self.kind!r} is not one of {KINDS}.")
        if not (isinstance(self.points, (int, float)) and self.points > 0):
            raise ValueError(f"{where}: points must be a positive number; got {self.points!r}.")
        if not self.name.isidentifier():
            raise ValueError(f"{where}: name {self.name!r} must be a Python identifier.")
        if not self.public_cases:
            raise ValueError(f"{where}: declare at least one public case.")
        object.__setattr__(self, "public_cases", tuple(self.public_cases))
        object.__setattr__(self, "mistakes", tuple(self.mistakes))
        object.__setattr__(self, "forbidden", tuple(self.forbidden))
        slugs = [m.slug for m in self.mistakes]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"{where}: mistake slugs must be unique; got {slugs}.")
        if self.kind == "function":
            params = self.parameters
            for i, case in enumerate(self.public_cases):
                if tuple(case) != params:
                    raise ValueError(
                        f"{where}: public case {i} has keys {tuple(case)}; expected the "
                        f"signature's parameters in order, {params}."
                    )
            if self.n_hidden and self.generate is None:
                raise ValueError(f"{where}: n_hidden={self.n_hidden} needs a generate(rng).")
        elif self.public_cases != ({},) or self.generate is not None:
            raise ValueError(
                f"{where}: a {self.kind} exercise has public_cases=({{}},) and no generate."
            )
        object.__setattr__(self, "case_names", tuple(self.case_names))
        if self.case_names and len(self.case_names) != len(self.public_cases):
            raise ValueError(f"{where}: case_names names {len(self.case_names)} cases; there are "
                             f"{len(self.public_cases)} public cases.")
        if (self.kind == "expression") != bool(self.variables):
            raise ValueError(f"{where}: an expression exercise, and only one, declares variables.")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{where}: a choice exercise lists its statements in choices.")
        if self.n_calls > 1 and self.seed_argument not in self.parameters:
            raise ValueError(f"{where}: n_calls > 1 needs seed_argument, one of the parameters.")

    # -- derived facts -------------------------------------------------------------------
    @property
    def notebook(self) -> str:
        """The notebook number, e.g. "03"."""
        return self.id.split(".")[0]

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameter names of a function exercise's signature, in order."""
        return _parameters(self.signature) if self.kind == "function" else ()

    @property
    def auto_points(self) -> float:
        """Points the grader awards automatically (0 for a derivation, marked by hand)."""
        return 0.0 if self.kind == "derivation" else float(self.points)

    @property
    def equation_ref(self) -> str:
        return equation_ref(self.equation) if self.equation else f"notebook {self.notebook}"

    def model_answer(self):
        """A correct answer as a student would give it: a function, or the value."""
        if self.solution is not None:
            return self.solution
        if self.n_calls > 1:
            raise ValueError(
                f"Exercise {self.id!r} is distributional: its reference is a distribution, not "
                f"an answer. Fix: declare solution=<a correct function with the signature>."
            )
        if self.kind != "function":
            return self.reference()
        params, reference = self.parameters, self.reference

        def answer(*args):
            return reference(**dict(zip(params, args, strict=True)))

        answer.__name__ = self.name
        return answer

    # -- cases ---------------------------------------------------------------------------
    def case_name(self, index: int) -> str:
        """The short name of public case ``index``, shown by ``check``."""
        if index < len(self.case_names):
            return self.case_names[index]
        return describe_case(self.public_cases[index])

    def hidden_cases(self, seed: int, n: int | None = None) -> tuple[dict, ...]:
        """``n`` (default ``n_hidden``) input dicts for the grader, deterministic in ``seed``."""
        n = self.n_hidden if n is None else n
        if self.generate is None or n == 0:
            return ()
        # The id enters the seed so that two exercises graded with one secret draw apart.
        rng = np.random.default_rng([int(seed), zlib.crc32(self.id.encode())])
        cases = tuple(self.generate(rng) for _ in range(n))
        for case in cases:
            if tuple(case) != self.parameters:
                raise ValueError(
                    f"Exercise {self.id!r}: generate() returned keys {tuple(case)}; expected "
                    f"{self.parameters}."
                )
        return cases

    # -- running and judging -------------------------------------------------------------
    def run(self, answer, inputs: Mapping[str, Any]):
        """The student's output on one case: call the function, or return the value itself.

        Exceptions from the student's code propagate (the caller decides how to report them).
        Inputs are deep-copied so that a function that modifies its arguments changes nothing
        the reference sees. Distributional exercises return the list of ``n_calls`` outputs.
        """
        if self.kind != "function":
            return answer
        if self.n_calls == 1:
            return answer(*copy.deepcopy(list(inputs.values())))
        outputs = []
        for j in range(self.n_calls):
            case = copy.deepcopy(dict(inputs))
            case[self.seed_argument] = inputs[self.seed_argument] + j
            outputs.append(answer(*case.values()))
        return outputs

    def seeding_problem(self, answer, inputs: Mapping[str, Any], outputs: list) -> str:
        """For a distributional exercise, what is wrong with the use of the seed ("" if nothing).

        ``outputs`` are :meth:`run`'s (seeds ``s, s + 1, ...``). The function is called again
        with the first ``_REPEATS`` seeds and must return the same outputs (a draw from numpy's global state
        does not); and different seeds must not all give one output (a seed that is ignored).
        """
        if self.n_calls < 2 or not outputs:
            return ""
        arg = self.seed_argument
        # Repeat the first few seeds: one repeat alone may coincide by chance.
        for j in range(min(len(outputs), _REPEATS)):
            case = copy.deepcopy(dict(inputs))
            case[arg] = inputs[arg] + j
            if not _same_output(answer(*case.values()), outputs[j]):
                break
        else:
            j = None
        if j is not None:
            return (
                f"two calls with the same {arg} gave different results: draw every random "
                f"number from rng = np.random.default_rng({arg}), never from np.random's "
                f"global state, so that a seed reproduces its result"
            )
        if all(_same_output(o, outputs[0]) for o in outputs[1:]):
            return (
                f"{len(outputs)} calls with different {arg} all gave the same result: the "
                f"function ignores {arg}; create rng = np.random.default_rng({arg}) from it"
            )
        return ""

    def expected(self, inputs: Mapping[str, Any]):
        """``reference(**inputs)`` on a copy of the inputs."""
        return self.reference(**copy.deepcopy(dict(inputs)))

    def judge(self, output, inputs: Mapping[str, Any], expected=None) -> Verdict:
        """Compare one output with the reference and diagnose known mistakes. Never raises.

        ``expected`` may be passed when already computed (the grader computes references once).
        """
        try:
            if expected is None:
                expected = self.expected(inputs)
            verdict = self.compare(output, expected, inputs)
        except Exception as exc:  # a checker bug must not look like the student's fault
            return Verdict(
                0.0,
                "error",
                f"the checker could not compare this answer ({type(exc).__name__}: "
                f"{exc}). Please tell the course staff.",
            )
        if verdict.status == "ok":
            return verdict
        if self.kind == "choice":
            # Only a well-formed answer is diagnosed: an unknown label is reported as unknown.
            output = choice_labels(output)
            if output is None or not output <= set(self.choices):
                return verdict
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a variant such as "no log-sum-exp" overflows
            found = {}
            for m in self.mistakes:
                keys = self._explains(m, output, expected, inputs)
                if keys is not None:
                    found[m] = keys
        if not found:
            return verdict
        message = " ".join(m.feedback() for m in found)
        others = self._unexplained(output, expected, inputs, found.values())
        if others:
            message += f" Besides, {others}."
        elif self.kind == "choice":
            message += f" In all, {verdict.message}."  # other statements may be wrong too
        return Verdict(verdict.fraction, verdict.status, message, next(iter(found)).slug)

    def _explains(self, mistake: Mistake, output, expected, inputs) -> frozenset | None:
        """None if ``mistake`` does not explain ``output``; else the keys of a dict answer it
        explains (empty: the whole answer, or a ``matches`` test that does not say)."""
        try:
            if mistake.matches is not None:
                if not mistake.matches(output, inputs):
                    return None
                keys = frozenset(mistake.explains)
                if keys and isinstance(expected, Mapping):  # only a part that is in fact wrong
                    if all(self.compare(output, {k: expected[k]}, inputs).status == "ok" for k in keys):
                        return None
                return keys
            wrong = (
                self.run(mistake.variant, inputs) if self.kind == "function" else mistake.variant()
            )
            keys = frozenset()
            if isinstance(wrong, Mapping) and isinstance(expected, Mapping):
                # Only the parts the mistake changes: the rest may be right or wrong on its own.
                wrong = {
                    k: w
                    for k, w in wrong.items()
                    if k in expected
                    and self.compare({k: w}, {k: expected[k]}, inputs).status != "ok"
                }
                if not wrong:
                    return None
                keys = frozenset(wrong)
            return keys if self.compare(output, wrong, inputs).status == "ok" else None
        except Exception:
            return None

    def _unexplained(self, output, expected, inputs, explained) -> str:
        """The record comparator's notes on the wrong parts no diagnosed mistake explains."""
        explained = list(explained)
        if not isinstance(expected, Mapping) or not explained or not all(explained):
            return ""
        covered = frozenset().union(*explained)
        notes = []
        for k in expected:
            if k in covered:
                continue
            try:
                v = self.compare(output, {k: expected[k]}, inputs)
            except Exception:
                continue
            if v.status != "ok":
                notes.append(v.message)
        return "; ".join(notes)
