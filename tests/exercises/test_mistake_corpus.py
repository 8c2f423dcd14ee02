"""The corpus of student mistakes (``mistake_corpus.SLIPS``): none passes, at least 60 % get a
message that names a cause, and every named cause is one the slip really has.

The share diagnosed, per notebook, is printed at the end of the run (``pytest -s`` shows it) and
asserted overall.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
import pytest
from mistake_corpus import SLIPS, Slip

from emlib.exercises import get
from emlib.exercises.relations import MESSAGES, message

#: Causes that checker messages name outside the declared mistakes and the relations.
CHECKER_CAUSES = {
    "order": "the parts are in the wrong order",
    "float32": "computed in single precision (float32)",
    "seed": "calls with the same random_state gave different results",
    "seed-ignored": "calls with different random_state all gave the same result",
    "non-finite": "NaN or infinite value(s)",
    "not-probabilities": "these are not probabilities",
    "mean": "the exercise asks for 4",
    "straddles": "some probability sits left of the kink",
}
TARGET = 0.60


def causes_named(ex, answer) -> tuple[bool, set[str]]:
    """(every public case passed, the causes the messages name), as check() judges them."""
    passed, named = True, set()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for case in ex.public_cases:
            try:
                output = ex.run(answer, case)
                problem = ex.seeding_problem(answer, case, output) if ex.n_calls > 1 else ""
            except Exception:
                passed = False
                continue
            if problem:
                text = problem
                passed = False
            else:
                verdict = ex.judge(output, case)
                passed &= verdict.status == "ok"
                text = verdict.message
            named |= {m.slug for m in ex.mistakes if m.feedback() in text}
            named |= {k for k in MESSAGES if message(k) in text}
            named |= {k for k, phrase in CHECKER_CAUSES.items() if phrase in text}
    if "seed-ignored" in named:
        named = (named - {"seed-ignored"}) | {"seed"}
    return passed, named


@pytest.fixture(scope="module")
def outcomes() -> list[tuple[Slip, bool, set[str]]]:
    return [(s, *causes_named(get(s.exercise), s.answer)) for s in SLIPS]


def test_the_corpus_is_large_and_covers_every_function_and_value_exercise():
    per = defaultdict(int)
    for s in SLIPS:
        per[s.exercise] += 1
    assert len(SLIPS) >= 100
    from emlib.exercises import all_exercises

    for ex in all_exercises():
        if ex.kind in ("function", "value"):
            assert per[ex.id] >= 4, ex.id


def test_no_mistake_passes(outcomes):
    passing = [f"{s.exercise}: {s.what}" for s, passed, _ in outcomes if passed]
    assert not passing


def test_every_named_cause_is_a_cause_of_the_mistake(outcomes):
    wrong = [
        f"{s.exercise}: {s.what} -> {sorted(named)} (expected some of {sorted(s.causes)})"
        for s, _, named in outcomes
        if named and not named <= s.causes
    ]
    assert not wrong, "\n".join(wrong)


def test_most_mistakes_are_diagnosed(outcomes):
    per = defaultdict(lambda: [0, 0])
    for s, _, named in outcomes:
        per[s.exercise[:2]][0] += bool(named)
        per[s.exercise[:2]][1] += 1
    total = sum(d for d, _ in per.values()), sum(n for _, n in per.values())
    lines = [f"notebook {nb}: {d}/{n} diagnosed ({d / n:.0%})" for nb, (d, n) in sorted(per.items())]
    print("\nmistake corpus:", *lines, f"all: {total[0]}/{total[1]} ({total[0] / total[1]:.0%})",
          sep="\n  ")
    assert total[0] / total[1] >= TARGET, lines
