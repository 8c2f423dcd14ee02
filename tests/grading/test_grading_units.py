"""The grader's parts that need no kernel: reading submissions, the static integrity check,
statuses and scores, the gradebook files, finding submissions and the sandbox modes."""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from _grading_helpers import (
    E_STEP,
    EXERCISES,
    MAXIMUM,
    code,
    correct_cells,
    notebook,
    write,
)

from emlib.exercises import get
from emlib.grading import gradebook, sandbox
from emlib.grading.batch import GradingError, discover, select_exercises
from emlib.grading.integrity import defining_cells, forbidden_references, tamper_signs
from emlib.grading.protocol import CaseReport, CellReport, is_unattempted
from emlib.grading.score import Scorer
from emlib.grading.submission import SandboxRun, notebook_numbers, read_notebook

# -- reading submissions --------------------------------------------------------------------


def test_read_notebook_says_why_a_file_is_not_a_notebook(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json")
    nb, why = read_notebook(bad)
    assert nb is None and why.startswith("not valid JSON (") and "damaged or not a notebook" in why
    bad.write_text('{"hello": "world"}')
    nb, why = read_notebook(bad)
    assert nb is None and why.startswith("valid JSON but not a Jupyter notebook (")
    good = tmp_path / "good.ipynb"
    write(good, notebook(correct_cells()))
    nb, why = read_notebook(good)
    assert why is None and len(nb.cells) == len(correct_cells())


def test_notebook_numbers_from_ids_then_names_then_file_name(tmp_path):
    exercises = [get(i) for i in EXERCISES]
    assert notebook_numbers(notebook(correct_cells()), Path("x.ipynb"), exercises) == ["01", "03", "05"]
    only_names = notebook([code(E_STEP)])
    assert notebook_numbers(only_names, Path("x.ipynb"), exercises) == ["03"]
    nothing = notebook([code("print('hello')")])
    assert notebook_numbers(nothing, Path("05_digits.ipynb"), exercises) == ["05"]
    assert notebook_numbers(nothing, Path("alice.ipynb"), exercises) == []


# -- the static integrity check ---------------------------------------------------------------

FORBIDDEN = get("03.e-step").forbidden


def test_forbidden_reference_through_an_imported_module_is_found():
    nb = notebook([code("import numpy as np\nfrom emlib import gmm as g"),
                   code("def e_step(X, pi, mu, Sigma):\n    return g.e_step(X, g.GMMParams(pi, mu, "
                        "Sigma))[0]")])
    hits = forbidden_references(nb, "e_step", FORBIDDEN)
    assert [(h.name, h.written, h.cell, h.line) for h in hits] == [
        ("emlib.gmm.e_step", "emlib.gmm.e_step", 1, 2)]


def test_forbidden_reexport_and_import_inside_the_function_are_found():
    nb = notebook([code("def e_step(X, pi, mu, Sigma):\n    import emlib\n"
                        "    return emlib.GaussianMixture(2).fit(X).predict_proba(X)")])
    assert {h.name for h in forbidden_references(nb, "e_step", FORBIDDEN)} == {
        "emlib.gmm.GaussianMixture", "emlib.GaussianMixture"}


def test_a_local_name_shadowing_an_import_is_not_a_hit_and_only_the_last_definition_counts():
    nb = notebook([code("from emlib import gmm"),
                   code("def e_step(X, pi, mu, Sigma):\n    return gmm.e_step(X)"),
                   code("def e_step(X, pi, mu, Sigma):\n    gmm = np\n    return gmm.e_step(X)")])
    assert defining_cells(nb, "e_step") == [1, 2]
    assert forbidden_references(nb, "e_step", FORBIDDEN) == []


def test_tamper_signs_point_at_cells_that_reach_for_the_grader():
    nb = notebook([code("import sys\nsys.setprofile(None)"), code("x = 1"),
                   code("open(f'/proc/{pid}/fd/1')")])
    assert tamper_signs(nb) == [0, 2]
    assert tamper_signs(notebook(correct_cells())) == []


# -- statuses and scores ----------------------------------------------------------------------


def test_unattempted_recognises_the_student_editions_blanks():
    assert is_unattempted(...) and is_unattempted({"K": ..., "n": ...}) and is_unattempted([..., ...])
    assert is_unattempted({"a": {"b": ...}, "c": [..., (...,)]})
    assert not is_unattempted({"K": 10, "n": ...}) and not is_unattempted({})
    assert not is_unattempted(0.0)


@pytest.fixture(scope="module")
def scorer():
    return Scorer([get(i) for i in EXERCISES], seed=3)


def _raw(results, **kw):
    """A complete sandbox run whose case reports are given as wire dicts."""
    cases = {k: [CaseReport.from_wire({"has_output": "output" in c, **c}) for c in v]
             for k, v in results.items()}
    cells = [CellReport.from_wire(c) for c in kw.pop("cells", [])]
    return SandboxRun(results=cases, cells=cells, complete=True, **kw)


def test_scores_from_case_reports(scorer):
    ex = get("03.e-step")
    nb = notebook(correct_cells())
    cases = scorer.cases[ex.id]
    right = [{"status": "ok", "output": scorer.expected(ex, i), "forbidden": []} for i in range(len(cases))]
    assert scorer.score_exercise(ex, nb, _raw({ex.id: right})).points == 5
    half = right[: len(cases) // 2] + [{"status": "error", "ename": "ValueError", "evalue": "x"}] * (
        len(cases) - len(cases) // 2)
    res = scorer.score_exercise(ex, nb, _raw({ex.id: half}))
    assert res.status == "partial" and res.points == 2.5
    assert any(m.startswith(f"{len(cases) - len(cases) // 2} of {len(cases)} hidden cases: raised "
                            "ValueError: x") for m in res.messages)
    timeouts = [*right[:-1], {"status": "timeout"}]
    res = scorer.score_exercise(ex, nb, _raw({ex.id: timeouts}))
    assert res.status == "timeout" and res.points == round(5 * (len(cases) - 1) / len(cases), 2)
    stubs = [{"status": "not-attempted"}] * len(cases)
    assert scorer.score_exercise(ex, nb, _raw({ex.id: stubs})).status == "not-attempted"


def test_the_expected_value_never_appears_in_feedback(scorer):
    ex = get("03.posterior-1d")
    expected = scorer.expected(ex, 0)
    wrong = {k: np.asarray(v) * 1.01 for k, v in expected.items()}
    res = scorer.score_exercise(ex, notebook(correct_cells()), _raw({ex.id: [{"status": "ok", "output": wrong}]}))
    assert res.status == "wrong"
    text = " ".join(res.messages)
    for value in np.concatenate([np.ravel(v) for v in expected.values()]):
        assert f"{value:.4g}" not in text


def test_flagged_by_the_run_time_trace_or_a_removed_tracer(scorer):
    ex = get("03.e-step")
    n = len(scorer.cases[ex.id])
    traced = [{"status": "ok", "output": scorer.expected(ex, i), "forbidden": ["emlib.gmm.e_step"]}
              for i in range(n)]
    res = scorer.score_exercise(ex, notebook(correct_cells()), _raw({ex.id: traced}))
    assert (res.status, res.points, res.flags) == ("flagged", 0.0, ["forbidden:03.e-step"])
    assert "`e_step` called emlib.gmm.e_step during the hidden cases." in res.messages
    untraced = [{"status": "ok", "output": scorer.expected(ex, i), "tracer_removed": True} for i in range(n)]
    res = scorer.score_exercise(ex, notebook(correct_cells()), _raw({ex.id: untraced}))
    assert res.status == "flagged"
    assert "`e_step` removed the grader's call tracer (sys.setprofile)." in res.messages


def test_a_missing_name_takes_the_status_of_the_cell_that_should_define_it(scorer):
    ex = get("03.e-step")
    nb = notebook(correct_cells())
    cell = defining_cells(nb, "e_step")[-1]
    missing = [{"status": "missing"}] * len(scorer.cases[ex.id])
    for report, expected in [
        ({"status": "error", "ename": "NameError", "evalue": "np"}, "error"),
        ({"status": "error", "ename": "MemoryError", "evalue": ""}, "memory"),
        ({"status": "timeout"}, "timeout"),
        ({"status": "died", "cause": "crashed"}, "crashed"),
        ({"status": "ok"}, "missing"),
    ]:
        raw = _raw({ex.id: missing}, cells=[{"cell": cell, **report}])
        assert scorer.score_exercise(ex, nb, raw).status == expected
    assert scorer.score_exercise(ex, notebook([code("x = 1")]), _raw({ex.id: missing})).messages == [
        "`e_step` is not defined in the notebook (renamed or deleted?)"]


def test_an_exercise_never_reached_is_not_a_plain_zero(scorer):
    ex = get("05.digits-dims")
    nb = notebook(correct_cells())
    assert scorer.score_exercise(ex, nb, SandboxRun(timed_out=True)).status == "timeout"
    assert scorer.score_exercise(ex, nb, SandboxRun(channel_problem="frame 2 failed authentication")).messages == [
        "the grading report was cut short (frame 2 failed authentication)"]
    assert scorer.score_exercise(ex, nb, SandboxRun(failure="RuntimeError: x")).status == "crashed"
    assert scorer.score_exercise(ex, None, SandboxRun(invalid="not valid JSON")).status == "invalid-notebook"
    assert scorer.score_exercise(get("01.kl-nonneg"), nb, SandboxRun()).status == "manual"


def test_judging_silences_numpy_warnings(scorer):
    ex = get("01.jensen-gap")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = scorer.score_exercise(ex, notebook(correct_cells()), _raw({ex.id: [
            {"status": "ok", "output": np.float64("nan")}] * len(scorer.cases[ex.id])}))
    assert res.status == "wrong"


# -- the gradebook ---------------------------------------------------------------------------


def test_feedback_file_names_are_safe():
    assert gradebook.feedback_name("alice") == "alice"
    assert gradebook.feedback_name("../../etc/passwd") == "_.._etc_passwd"
    assert gradebook.feedback_name("Ana María, s-12") == "Ana_María__s-12"
    assert gradebook.feedback_names(["José_García", "José García", "jose", "JOSE"]) == {
        "JOSE": "JOSE", "José García": "José_García", "José_García": "José_García-2",
        "jose": "jose-2"}


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "gradebook.csv"
    gradebook.atomic_write(target, "old\n")
    with pytest.raises(TypeError):
        gradebook.atomic_write(target, 42)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def _sub(student, path, results, invalid=None, flags=()):
    from emlib.grading.batch import SubmissionResult

    return SubmissionResult(path, student, sorted({r.id[:2] for r in results}), invalid,
                            {r.id: r for r in results}, [], list(flags))


def test_merge_takes_each_notebook_from_its_file_and_writes_status_words(tmp_path, scorer):
    from emlib.grading.score import ExerciseResult

    exercises = [get(i) for i in EXERCISES]
    ok = ExerciseResult("03.e-step", "t", 5.0, 5.0, "ok")
    crashed = ExerciseResult("03.e-step", "t", 0.0, 5.0, "crashed")
    late = ExerciseResult("05.digits-dims", "t", 0.0, 3.0, "timeout")
    rows = gradebook.merge([_sub("bob", "b1.ipynb", [ok]), _sub("bob", "b2.ipynb", [late]),
                            _sub("amy", "a.ipynb", [crashed], flags=["kernel-died"])], exercises)
    assert [r.student for r in rows] == ["amy", "bob"]
    assert rows[1].exercises["03.e-step"].status == "ok" and rows[1].total == 5.0
    assert rows[0].exercises["01.jensen-gap"].status == "missing"
    table = list(csv.DictReader(io.StringIO(gradebook.gradebook_csv(rows, exercises))))
    assert table[0]["03.e-step"] == "crashed" and table[0]["01.jensen-gap"] == "0"
    assert table[1]["05.digits-dims"] == "timeout"
    assert (table[1]["total"], table[1]["maximum"], table[1]["percent"]) == ("5", str(MAXIMUM),
                                                                            f"{500 / MAXIMUM:.1f}")
    assert table[1]["statuses"] == "ok:1 missing:3 timeout:1" and table[0]["flags"] == "kernel-died"
    gradebook.write_all(tmp_path, rows, exercises)
    first = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    gradebook.write_all(tmp_path, rows, exercises)
    assert first == {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert "| 03.e-step | 5 | 2.50 | 1 | crashed 1 | - |" in (tmp_path / "summary.md").read_text()


# -- finding submissions, options ---------------------------------------------------------------


def test_student_ids_from_file_names_folders_and_a_map(tmp_path):
    nb = nbformat.writes(notebook([]))
    for rel in ("subs/alice.ipynb", "subs/bob/03_gmm.ipynb", "subs/bob/05_digits.ipynb",
                "subs/.ipynb_checkpoints/alice-checkpoint.ipynb", "carl.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(nb)
    found = discover([tmp_path / "subs", tmp_path / "carl.ipynb"])
    assert [(p.relative_to(tmp_path).as_posix(), s) for p, s in found] == [
        ("subs/alice.ipynb", "alice"), ("subs/bob/03_gmm.ipynb", "bob"),
        ("subs/bob/05_digits.ipynb", "bob"), ("carl.ipynb", "carl")]
    ids = tmp_path / "ids.csv"
    ids.write_text("file,id\ncarl.ipynb,s-1003\n")
    assert discover([tmp_path / "carl.ipynb"], ids)[0][1] == "s-1003"
    ids.write_text("name,student\nx,y\n")
    with pytest.raises(GradingError, match=re.escape(
            f"--ids {ids} must be a CSV with the header 'file,id'; got ['name', 'student']")):
        discover([tmp_path / "carl.ipynb"], ids)
    with pytest.raises(GradingError, match=re.escape(
            f"submission {tmp_path / 'nope'} does not exist. Fix: pass .ipynb files or folders")):
        discover([tmp_path / "nope"])


def test_select_exercises_by_id_or_notebook_and_names_the_unknown():
    assert [e.id for e in select_exercises(("05", "03.e-step"))][:1] == ["03.e-step"]
    with pytest.raises(GradingError, match=re.escape("--exercises: unknown 03.nope, 99; known ids:")):
        select_exercises(("03.nope", "99"))


def test_sandbox_modes(monkeypatch):
    with pytest.raises(ValueError, match=re.escape("--sandbox 'maybe' is not one of auto, required, off.")):
        sandbox.resolve_mode("maybe")
    assert sandbox.resolve_mode("off") is False
    monkeypatch.setattr(sandbox, "bubblewrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(sandbox.SandboxUnavailable, match=re.escape(
            "--sandbox required, but bubblewrap (bwrap) is not installed. Fix: install bubblewrap")):
        sandbox.resolve_mode("required")
    monkeypatch.setenv("EMLIB_REQUIRE_SANDBOX", "1")
    with pytest.raises(sandbox.SandboxUnavailable, match=re.escape("EMLIB_REQUIRE_SANDBOX=1, but")):
        sandbox.resolve_mode("auto")
    monkeypatch.delenv("EMLIB_REQUIRE_SANDBOX")
    with pytest.warns(RuntimeWarning, match=re.escape("GRADING WITHOUT A SANDBOX: bubblewrap (bwrap)")):
        assert sandbox.resolve_mode("auto") is False



@pytest.mark.parametrize("euid", [0, 1000])
def test_the_sandbox_command_line(monkeypatch, tmp_path, euid):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: euid)
    box = sandbox.Sandbox(True, sandbox.SandboxLimits(wall_seconds=60, memory_mb=2048, nproc=32))
    try:
        cmd = box.bwrap_command(tmp_path, uid=212345)
    finally:
        box.close()
    text = " ".join(cmd)
    for part in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind /usr /usr",
                 f"--ro-bind {tmp_path} /sandbox", "--tmpfs /tmp", f"--as={2048 * 2**20}",
                 "--cpu=90", "--nproc=32", "--fsize=", "/sandbox/harness.py /sandbox"):
        assert part in text
    assert (f"--ro-bind {box.shared}/lib/emlib " in text) and ("/grading/lib" in text)
    assert ("setpriv --reuid=212345" in text) == (euid == 0)
    assert ("--unshare-user" in cmd) == (euid != 0)
    sources = {cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind")}
    repo = Path(__file__).resolve().parents[2]
    for hidden in (repo, repo / "notebooks", repo / "emlib", repo / "emlib" / "exercises", Path.home()):
        assert str(hidden) not in sources
    assert "--bind" not in cmd  # nothing of the host is writable
    # the private /tmp is mounted before any bind, so binds under /tmp (a .venv there) stay seen
    tmpfs = cmd.index("--tmpfs")
    assert all(i > tmpfs for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 2] != "/usr"
               and not cmd[i + 2].startswith(("/etc", "/bin", "/lib", "/sbin")))


# -- words: statuses and feedback that say what happened -------------------------------------


def test_an_empty_cell_list_is_not_a_notebook(tmp_path):
    bad = tmp_path / "empty.ipynb"
    bad.write_text('{"cells": []}')
    assert read_notebook(bad) == (
        None, "valid JSON but not a Jupyter notebook (no nbformat field)")


def test_a_derivation_takes_the_status_of_a_damaged_or_missing_file():
    from emlib.grading.batch import SubmissionResult

    tied = get("03.tied-cov")
    damaged = Scorer([tied], 0).score_exercise(tied, None, SandboxRun(invalid="not valid JSON"))
    assert (damaged.status, damaged.messages) == ("invalid-notebook", ["not valid JSON"])
    other = SubmissionResult("a.ipynb", "amy", ["01"], None, {})
    (row,) = gradebook.merge([other], [tied])
    assert row.exercises["03.tied-cov"].status == "missing"


def test_the_summary_gives_no_mean_for_an_exercise_marked_by_hand():
    from emlib.grading.score import ExerciseResult

    tied = get("03.tied-cov")
    row = gradebook.StudentRow("amy", ["a.ipynb"], {tied.id: ExerciseResult(
        tied.id, tied.title, 0.0, 0.0, "manual")})
    assert f"| {tied.id} | manual | - | 0 | - | - |" in gradebook.summary_md([row], [tied])


def test_html_feedback_shows_code_spans_as_code():
    from emlib.grading.score import ExerciseResult

    ex = get("03.e-step")
    row = gradebook.StudentRow("amy", ["a.ipynb"], {ex.id: ExerciseResult(
        ex.id, ex.title, 0.0, 5.0, "missing", ["`e_step` is not defined <here>"])},
        notes=["cell 3 (`x = 1`) was not run"], other_files=["report.pdf"])
    page = gradebook.feedback_html(row, [ex])
    assert "<li><code>e_step</code> is not defined &lt;here&gt;</li>" in page
    assert "<li>cell 3 (<code>x = 1</code>) was not run</li>" in page
    assert "`" not in page
    assert "<p>Other files in your folder, not graded: <code>report.pdf</code></p>" in page


def test_a_distribution_whose_seed_does_not_reproduce_its_result_scores_zero():
    from emlib.exercises import spec
    from emlib.grading.protocol import SEED_REPEATS

    assert spec._REPEATS == SEED_REPEATS  # the kernel calls again as many seeds as check does
    ex = get("04.kmeans-plusplus")
    scorer = Scorer([ex], 0)
    case = scorer.cases[ex.id][0]
    outputs = ex.run(ex.model_answer(), case)
    assert scorer.judge(ex, 0, outputs + outputs[:SEED_REPEATS]).fraction > 0.0
    shuffled = outputs[1:] + outputs[:1]
    verdict = scorer.judge(ex, 0, outputs + shuffled[:SEED_REPEATS])
    assert verdict.fraction == 0.0
    assert verdict.message.startswith("two calls with the same random_state gave different results")
