"""``emlib similarity``: similar code between submissions, flagged for an instructor.

The submissions are copies of the student edition of notebook 01 with the code cell of
``01.jensen-gap`` filled in, as a student would; nothing is run, so no sandbox is needed.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import nbformat
import pytest
from _grading_helpers import write

from emlib.cli import main
from emlib.exercises.registry import get
from emlib.grading import similarity as S
from emlib.grading.integrity import defining_cells
from emlib.grading.layout import GradingError
from emlib.grading.store import SubmissionResult
from emlib.student_edition import make_student_notebook

SOURCE = Path(__file__).resolve().parents[2] / "notebooks"
JENSEN = get("01.jensen-gap")

LOOP = '''import math

def log_jensen_gap(weights, points):
    # the mean of the points and the mean of their logs, one term at a time
    mean = 0.0
    mean_log = 0.0
    for w, x in zip(weights, points):
        mean += w * x
        mean_log += w * math.log(x)
    return math.log(mean) - mean_log'''

# LOOP with other names, comments, a docstring and another layout (and a comment that is HTML)
LOOP_RENAMED = '''import math
def log_jensen_gap( w_all,x_all ):
    """Jensen's gap for the logarithm."""
    # </pre><script>alert("copied")</script>
    m = 0.0;   ml = 0.0
    for (wi, xi) in zip(w_all, x_all):   # pairs
        m  += wi*xi
        ml += wi * math.log( xi )
    return math.log(m) - ml'''

VECTOR = '''def log_jensen_gap(weights, points):
    probs = np.array(weights, dtype=float) / np.sum(weights)
    values = np.array(points, dtype=float)
    expectation = np.sum(probs * values)
    expected_log = np.sum(probs * np.log(values))
    return float(np.log(expectation) - expected_log)'''

GENERATORS = '''def log_jensen_gap(weights, points):
    pairs = list(zip(weights, points))
    log_of_mean = np.log(sum(w * x for w, x in pairs))
    mean_of_log = sum(w * np.log(x) for w, x in pairs)
    gap = log_of_mean - mean_of_log
    return float(gap)'''

# the source notebook's solution, names changed two ways
REFERENCE_A = '''def log_jensen_gap(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.log(a @ b) - a @ np.log(b))'''
REFERENCE_B = '''def log_jensen_gap(w, x):
    # my own solution
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    return float(np.log(w @ x) - w @ np.log(x))'''

ONE_LINE = '''def log_jensen_gap(weights, points):
    return float(np.log(np.dot(weights, points)) - np.dot(weights, np.log(points)))'''

BROKEN = '''def log_jensen_gap(weights, points):
    total = sum(w * x for w, x in zip(weights, points)
    logs = sum(w * math.log(x) for w, x in zip(weights, points))
    return math.log(total) - logs'''
BROKEN_SPACED = '''def log_jensen_gap(weights, points):
    # unbalanced parenthesis below
    total = sum(w*x for w, x in zip(weights, points)
    logs  = sum(w*math.log(x) for w, x in zip(weights, points))
    return math.log(total)-logs'''


def student_edition() -> nbformat.NotebookNode:
    source = nbformat.read(SOURCE / "01_jensen.ipynb", as_version=4)
    return make_student_notebook(source, name="01_jensen.ipynb")


def filled(code: str | None) -> nbformat.NotebookNode:
    """The student edition with the jensen-gap cell replaced by ``code`` (None: untouched)."""
    nb = copy.deepcopy(student_edition())
    if code is not None:
        nb.cells[defining_cells(nb, JENSEN.name)[-1]].source = code
    return nb


CODES = {"ann": LOOP, "ben": LOOP_RENAMED, "cat": VECTOR, "dan": GENERATORS, "eve": REFERENCE_A,
         "fay": REFERENCE_B, "gus": None, "hal": None, "ian": ONE_LINE, "jo": ONE_LINE,
         "kim": BROKEN, "lea": BROKEN_SPACED}


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("subs")
    for student, code in CODES.items():
        write(folder / f"{student}.ipynb", filled(code))
    return folder


@pytest.fixture(scope="module")
def report(class_folder):
    notebooks = sorted((p, p.stem) for p in class_folder.glob("*.ipynb"))
    report = S.compare(notebooks, [JENSEN], S.DEFAULT_THRESHOLD, SOURCE)
    return report.exercises[0]


def pairs(summary) -> dict[tuple[str, str], float]:
    return {(p.a.student, p.b.student): p.score for p in summary.pairs}


def test_a_copy_with_other_names_comments_and_layout_is_found(report):
    assert pairs(report)[("ann", "ben")] == 1.0


def test_independent_correct_solutions_are_not_paired(report):
    found = pairs(report)
    assert {"cat", "dan"} <= set(report.compared)
    for a, b in [("ann", "cat"), ("ann", "dan"), ("cat", "dan"), ("ben", "dan")]:
        assert (a, b) not in found
        code = {c: S.own_code(S.normalise(""), c, CODES[c]) for c in (a, b)}
        assert S.score(*code[a].tokens(code[b])) < S.DEFAULT_THRESHOLD


def test_untouched_stubs_and_short_answers_are_not_compared(report):
    assert {"gus", "hal", "ian", "jo"} <= set(report.short)
    assert not {"gus", "hal", "ian", "jo"} & {s for pair in pairs(report) for s in pair}
    stub = S.baselines([JENSEN], SOURCE)[JENSEN.id].template
    untouched = S.exercise_code(filled(None), JENSEN)
    assert S.own_code(stub, "gus", untouched).size == 0
    # the same one-liner written by two students is long enough to compare but for the minimum
    assert S.own_code(stub, "ian", ONE_LINE).size < S.MIN_TOKENS


def test_answers_like_the_reference_solution_are_not_paired(report):
    assert report.near_reference == ["eve", "fay"]
    assert not {"eve", "fay"} & {s for pair in pairs(report) for s in pair}
    eve = S.normalise(REFERENCE_A).tree
    assert eve == S.normalise(REFERENCE_B).tree  # identical but for names: still not paired


def test_code_with_a_syntax_error_is_compared_by_its_text(report):
    assert report.unparsed == ["kim", "lea"]
    assert S.normalise(BROKEN).tree is None
    assert pairs(report)[("kim", "lea")] >= S.DEFAULT_THRESHOLD
    assert not {("ann", "kim"), ("ann", "lea")} & set(pairs(report))
    assert set(pairs(report)) == {("ann", "ben"), ("kim", "lea")}


def test_code_too_deep_for_the_parser_is_read_as_text():
    deep = "def log_jensen_gap(weights, points):\n    return " + "-" * 100_000 + "1"
    assert S.normalise(deep).tree is None and S.normalise(deep).text[-1] == "1"
    assert S.exercise_code(filled(deep), JENSEN) == deep


def test_two_files_of_one_student_are_never_a_pair(class_folder):
    files = [(class_folder / "ann.ipynb", "ann"), (class_folder / "ben.ipynb", "ann")]
    (summary,) = S.compare(files, [JENSEN], S.DEFAULT_THRESHOLD, SOURCE).exercises
    assert summary.compared == ["ann", "ann"] and summary.pairs == []


def test_after_grading_compares_the_gradebooks_notebooks_or_warns(class_folder, tmp_path,
                                                                 monkeypatch):
    results = [SubmissionResult(str(class_folder / f"{s}.ipynb"), s, ["01"], None, {})
               for s in ("ann", "ben", "cat")]
    results.append(SubmissionResult(str(class_folder), "dora", [], None, {}, kind="folder"))
    warnings = []
    S.after_grading(tmp_path, results, [JENSEN], 0.9, warnings.append)
    assert warnings == []
    assert (tmp_path / "similarity.csv").read_text().splitlines()[1:] == [
        "01.jensen-gap,ann,ben,1.000"]
    monkeypatch.setattr(S, "SOURCE", tmp_path / "nowhere")
    S.after_grading(tmp_path / "second", results, [JENSEN], 0.9, warnings.append)
    assert warnings == [f"no similarity report: --source {tmp_path / 'nowhere'} is not a folder. "
                        f"Fix: pass the folder of the course's source notebooks, e.g. --source "
                        f"notebooks. (emlib similarity writes one; see its --source)"]
    assert not (tmp_path / "second").exists()


def test_normalisation_keeps_library_names_and_drops_names_comments_and_docstrings():
    one = S.normalise("def f(a):\n    '''doc'''\n    b = np.log(a)  # log\n    return len(b)")
    two = S.normalise("def g(x):\n    y = np.log(x)\n\n    return len(y)")
    assert one.tree == two.tree
    assert {"np", "log", "len"} <= set(one.tree) and not {"f", "a", "b", "doc"} & set(one.tree)
    assert S.normalise("b = np.exp(a)").tree != S.normalise("b = np.log(a)").tree


def test_the_command_writes_html_and_csv_with_every_student_text_escaped(class_folder, tmp_path,
                                                                          capsys):
    ids = tmp_path / "ids.csv"
    ids.write_text("file,id\nann.ipynb,s-001\n")
    out = tmp_path / "report"
    assert main(["similarity", str(class_folder), "--out", str(out), "--exercises", "01",
                 "--ids", str(ids)]) == 0
    assert "2 pair(s) at or above 0.9" in capsys.readouterr().out
    with open(out / "similarity.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["exercise"], r["id_a"], r["id_b"]) for r in rows] == [
        ("01.jensen-gap", "ben", "s-001"), ("01.jensen-gap", "kim", "lea")]
    assert all(0.9 <= float(r["score"]) <= 1 for r in rows)
    page = (out / "similarity.html").read_text()
    assert "<script>" not in page and "&lt;/pre&gt;&lt;script&gt;alert" in page
    assert '<h2 id="01.jensen-gap">' in page and '<th scope="col">Score</th>' in page
    assert "never a penalty" in page[page.index("<caption>"):page.index("</caption>")]
    assert '<h2 id="01.zero-gap">' in page  # a value exercise: checked, every answer too short
    assert '<h2 id="03.e-step">' not in page  # no notebook 03 was handed in
    assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("bad", ["0", "1.5", "-0.2", "nan", "high"])
def test_the_threshold_is_checked_with_a_clear_message(bad, tmp_path, capsys):
    with pytest.raises(GradingError, match=r"--threshold: expected a number T with 0 < T <= 1 "
                       r"\(the share of two codes that is the same\); got .*Fix: e\.g\. "
                       r"--threshold 0\.9\."):
        S.check_threshold(bad)
    with pytest.raises(SystemExit):
        main(["similarity", str(tmp_path), "--out", str(tmp_path), "--threshold", bad])
    assert (f"argument --threshold: expected a number T with 0 < T <= 1 (the share of two codes "
            f"that is the same); got '{bad}'. Fix: e.g. 0.9.") in capsys.readouterr().err
    assert S.check_threshold("1") == 1.0


def test_a_missing_source_folder_is_a_clear_error(class_folder, tmp_path, capsys):
    assert main(["similarity", str(class_folder), "--out", str(tmp_path),
                 "--source", str(tmp_path / "nowhere")]) == 2
    assert (f"emlib similarity: error: --source {tmp_path / 'nowhere'} is not a folder. Fix: pass "
            f"the folder of the course's source notebooks") in capsys.readouterr().err
