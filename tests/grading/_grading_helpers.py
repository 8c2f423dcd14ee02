"""Fixture submissions for the grader's tests, built in code.

The "correct" notebook is written like a source notebook of the course: hand-written solutions
(never a call into emlib's implementation of the graded thing) between ``# BEGIN SOLUTION`` /
``# END SOLUTION`` markers or on ``# SOLUTION`` lines, each exercise followed by its
``check(...)`` cell. The untouched student edition is made from it by the course's own
:func:`emlib.student_edition.make_student_notebook`; every other fixture is the correct notebook
with one exercise cell replaced or one cell inserted.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from emlib.grading.sandbox import bubblewrap_problem

REPO = Path(__file__).resolve().parents[2]

# the exercises graded in the fixture batches: two functions, a value, a record and a choice
EXERCISES = ("01.jensen-gap", "03.e-step", "03.posterior-1d", "03.em-cost", "05.digits-dims")
POINTS = {"01.jensen-gap": 3, "03.e-step": 5, "03.posterior-1d": 4, "03.em-cost": 3,
          "05.digits-dims": 3}
MAXIMUM = sum(POINTS.values())

IMPORTS = "import numpy as np\nfrom emlib.exercises import check"

JENSEN = '''def log_jensen_gap(weights, points):
    """ln E[X] - E[ln X] for the distribution putting weights[i] on points[i]."""
    # BEGIN SOLUTION
    weights = np.asarray(weights, dtype=float)
    points = np.asarray(points, dtype=float)
    return float(np.log(weights @ points) - weights @ np.log(points))
    # END SOLUTION'''

E_STEP = '''def e_step(X, pi, mu, Sigma):
    """Responsibilities r_ik of eq. (3.4), shape (n, K)."""
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    log_w = np.empty((n, len(pi)))
    for k in range(len(pi)):
        L = np.linalg.cholesky(Sigma[k])
        z = np.linalg.solve(L, (X - mu[k]).T)
        log_det = 2.0 * np.log(np.diag(L)).sum()
        log_w[:, k] = np.log(pi[k]) - 0.5 * ((z**2).sum(axis=0) + log_det + d * np.log(2 * np.pi))
    log_w -= log_w.max(axis=1, keepdims=True)  # log-sum-exp: no underflow far from the means
    w = np.exp(log_w)
    return w / w.sum(axis=1, keepdims=True)
    # END SOLUTION'''

POSTERIOR = '''# BEGIN SOLUTION
x = np.array([0.2, -0.9, -1.0, 1.2, 1.8])
dens = 0.5 * np.exp(-((x[:, None] - np.array([-3.0, 2.0])) ** 2) / 8.0) / np.sqrt(8.0 * np.pi)
r1 = dens[:, 0] / dens.sum(axis=1)
mu1 = (r1 * x).sum() / r1.sum()
posterior_1d = {"resp1": r1, "pi1": r1.mean(), "mu1": mu1,
                "sigma2_1": (r1 * (x - mu1) ** 2).sum() / r1.sum()}
# END SOLUTION'''

EM_COST = 'em_cost = {"a"}  # SOLUTION'
DIGITS = 'digits_dims = {"K": 10, "n": 100_000, "d": 28 * 28}  # SOLUTION'


def code(source: str, **metadata):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.update(metadata)
    return cell


def correct_cells() -> list:
    """The cells of the correct submission, each exercise followed by its check cell."""
    md = nbformat.v4.new_markdown_cell
    return [
        md("# Fixture: a correct submission"), code(IMPORTS),
        code(JENSEN), code('check("01.jensen-gap", log_jensen_gap)'),
        code(E_STEP), code('check("03.e-step", e_step)'),
        code(POSTERIOR), code('check("03.posterior-1d", posterior_1d)'),
        code(EM_COST), code('check("03.em-cost", em_cost)'),
        code(DIGITS), code('check("05.digits-dims", digits_dims)'),
    ]


def notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    return nb


def variant(substitutions: dict[str, str] | None = None, *extra: str, at: int = 2):
    """The correct notebook with exercise cells substituted (old source -> new source) and
    ``extra`` code cells inserted at position ``at`` (after the imports by default)."""
    substitutions = substitutions or {}
    cells = [code(substitutions[c.source]) if c.source in substitutions else c
             for c in correct_cells()]
    cells[at:at] = [code(s) for s in extra]
    return notebook(cells)


def write(path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


# A proof as a hostile student may write it: maths, markup and a script that must stay inert.
HOSTILE_PROOF = ("By (1.4), $-\\operatorname{KL}(p\\,\\|\\,q) \\le \\ln \\sum_{x \\in S} q(x) "
                 "\\le 0$ with *weights* $a_i b_i$.\n\n<script>alert('owned')</script>\n\n"
                 "<img src=x onerror=alert(1)> [click](javascript:alert(2))")


def derivation_submission(proof: str | None = None, zero_gap: str | None = None):
    """The student edition of notebook 01 with the proof of ``01.kl-nonneg`` written in its
    answer cell and, optionally, the cell of ``01.zero-gap`` answered."""
    from emlib.student_edition import make_student_notebook

    source = nbformat.read(REPO / "notebooks" / "01_jensen.ipynb", as_version=4)
    nb = make_student_notebook(source)
    for cell in nb.cells:
        if proof is not None and cell.source.startswith("*Your proof*"):
            cell.source = proof
        if zero_gap is not None and cell.source.startswith("zero_gap_weights = ..."):
            cell.source = zero_gap
    return nb


def require_bubblewrap() -> None:
    """Skip with the reason when bubblewrap is unusable; fail instead under EMLIB_REQUIRE_SANDBOX=1."""
    problem = bubblewrap_problem()
    if problem is None:
        return
    message = f"the grader's sandbox is unavailable: {problem} (apt-get install bubblewrap)"
    if os.environ.get("EMLIB_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"EMLIB_REQUIRE_SANDBOX=1 but {message}")
    pytest.skip(message)


def live_grading_processes() -> list[int]:
    """PIDs of processes that carry any grading run's environment marker."""
    from emlib.grading.sandbox import MARKER

    needle = f"{MARKER}=".encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as fh:
                    if any(v.startswith(needle) for v in fh.read().split(b"\0")):
                        found.append(int(entry.name))
            except OSError:
                continue
    return found
