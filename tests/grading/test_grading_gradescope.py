"""``emlib gradescope``: the autograder zip, and ``run_autograder`` run as Gradescope runs it.

The zip is unpacked into a temporary folder laid out like Gradescope's ``/autograder``
(``source/``, ``run_autograder``, ``submission/``, ``results/``), and the script is executed
there (``EMLIB_GRADESCOPE_ROOT``, ``EMLIB_GRADESCOPE_PYTHON``) on notebook 01's solutions, its
student edition and a notebook that kills its kernel; each is graded once, in the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from _grading_helpers import IMPORTS, JENSEN, code, notebook, require_bubblewrap, write

import emlib
from emlib.cli import main
from emlib.exercises import all_exercises
from emlib.grading import gradescope
from emlib.grading.layout import GradingError
from emlib.student_edition import make_student_notebook

REPO = Path(emlib.__file__).resolve().parents[1]
SOURCE = REPO / "notebooks" / "01_jensen.ipynb"
SEED = 7301946285
NB01 = [ex for ex in all_exercises() if ex.notebook == "01"]
AUTO = sum(ex.auto_points for ex in NB01)
WHEEL = f"emlib-{emlib.__version__}-py3-none-any.whl"

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
NUMBER = {"type": "number", "minimum": 0}
# Gradescope's results.json, as far as the autograder writes it
SCHEMA = {
    "type": "object", "required": ["score", "tests"], "additionalProperties": False,
    "properties": {
        "score": NUMBER, "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string"}, "output_format": FORMAT, "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "score", "max_score", "output", "visibility"],
            "properties": {"name": {"type": "string", "minLength": 1}, "score": NUMBER,
                           "max_score": NUMBER, "output": {"type": "string", "minLength": 1},
                           "output_format": FORMAT, "visibility": VISIBILITY,
                           "status": {"enum": ["passed", "failed"]}}}},
    },
}


def check_results(results: dict) -> None:
    jsonschema.validate(results, SCHEMA)
    assert all(t["score"] <= t["max_score"] for t in results["tests"])
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def build(tmp_path, *args) -> Path:
    out = tmp_path / "autograder.zip"
    assert main(["gradescope", "--out", str(out), "--exercises", "01", "--seed", str(SEED),
                 *args]) == 0
    return out


def lay_out(zip_path: Path, root: Path, submission: dict[str, str]) -> Path:
    """``root`` as Gradescope lays out ``/autograder``: the zip unpacked (with its file modes,
    as unzip keeps them) into source/, run_autograder copied beside it, the submission."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            Path(zf.extract(info, root / "source")).chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    for name, text in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text, encoding="utf-8")
    (root / "submission").mkdir(exist_ok=True)
    (root / "results").mkdir()
    return root


def start(root: Path) -> subprocess.Popen:
    """``run_autograder`` executed as a script from ``root``, as Gradescope does."""
    env = dict(os.environ, EMLIB_GRADESCOPE_ROOT=str(root), EMLIB_GRADESCOPE_PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([str(root / "run_autograder")], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def results_of(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


def crashing_notebook() -> str:
    """The solutions with a top-level cell that kills the kernel, and a graded function that
    kills it on every hidden case."""
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("def log_jensen_gap"):
            cell.source = cell.source.replace("    # BEGIN SOLUTION\n",
                                              "    # BEGIN SOLUTION\n    import os\n    os._exit(3)\n")
    nb.cells.insert(2, code("import os\nos._exit(1)"))
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    return build(tmp_path_factory.mktemp("zip"), "--sandbox", "required")


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory):
    return build(tmp_path_factory.mktemp("zip-off"), "--sandbox", "off")


@pytest.fixture(scope="module")
def graded(autograder, tmp_path_factory):
    """Each submission graded once by run_autograder, the three at the same time."""
    require_bubblewrap()
    student = make_student_notebook(nbformat.read(SOURCE, as_version=4), name=SOURCE.name)
    submissions = {"correct": SOURCE.read_text(encoding="utf-8"),
                   "blank": nbformat.writes(student), "crash": crashing_notebook()}
    roots = {kind: lay_out(autograder, tmp_path_factory.mktemp(kind), {SOURCE.name: text})
             for kind, text in submissions.items()}
    procs = {kind: start(root) for kind, root in roots.items()}
    done = {}
    for kind, proc in procs.items():
        stdout, _ = proc.communicate(timeout=900)
        done[kind] = (roots[kind], proc.returncode, stdout)
    return done


def test_the_zip_holds_the_scripts_the_wheel_the_settings_and_the_seed(autograder):
    with zipfile.ZipFile(autograder) as zf:
        modes = {i.filename: i.external_attr >> 16 & 0o777 for i in zf.infolist()}
        config = json.loads(zf.read(gradescope.CONFIG))
        seed = zf.read("seed").decode()
    assert modes == {"setup.sh": 0o755, "run_autograder": 0o755, "emlib-gradescope.json": 0o644,
                     "seed": 0o600, WHEEL: 0o644}
    assert config == {"version": emlib.__version__, "exercises": [ex.id for ex in NB01],
                      "sandbox": "required", "timeout": 120.0, "visibility": "after_due_date"}
    assert seed == f"{SEED}\n"


def test_setup_installs_python_bubblewrap_and_this_exact_emlib_from_the_zip(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as zf:
        setup = zf.read("setup.sh").decode()
    assert "apt-get install -y --no-install-recommends python3 python3-venv python3-pip " \
           "bubblewrap" in setup
    assert f"-m pip install ./{WHEEL} 'nbclient>=" in setup
    assert f"emlib.__version__ == '{emlib.__version__}'" in setup
    (tmp_path / "setup.sh").write_text(setup)
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")]).returncode == 0


def test_the_wheel_installs_offline_and_is_this_emlib(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as zf:
        (tmp_path / WHEEL).write_bytes(zf.read(WHEEL))
    with zipfile.ZipFile(tmp_path / WHEEL) as whl:
        names = set(whl.namelist())
        record = whl.read(f"emlib-{emlib.__version__}.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if digest:
                data = whl.read(name)
                assert digest == "sha256=" + base64.urlsafe_b64encode(
                    hashlib.sha256(data).digest()).rstrip(b"=").decode() and int(size) == len(data)
    assert {"emlib/grading/gradescope.py", "emlib/data/mnist_bits.npz"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(tmp_path / "site"), str(tmp_path / WHEEL)], check=True)
    probe = subprocess.run([sys.executable, "-c", "import emlib, emlib.grading.gradescope as g; "
                            "print(emlib.__version__, g.__file__)"], cwd=tmp_path, check=True,
                           capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(tmp_path / "site")))
    assert probe.stdout.split() == [emlib.__version__,
                                    str(tmp_path / "site" / "emlib" / "grading" / "gradescope.py")]


def test_the_solutions_get_full_marks_and_the_derivation_is_marked_by_hand(graded):
    root, status, stdout = graded["correct"]
    assert status == 0, stdout
    results = results_of(root)
    check_results(results)
    assert results["score"] == AUTO
    tests = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert list(tests) == [ex.id for ex in NB01]
    for ex in NB01:
        t = tests[ex.id]
        if ex.kind == "derivation":
            assert (t["score"], t["max_score"], "status" in t) == (0, 0, False)
            assert t["name"].endswith(f"(marked by hand, {ex.points:g} points)")
            assert "marked by hand" in t["output"]
        else:
            assert (t["score"], t["max_score"], t["status"]) == (ex.auto_points,) * 2 + ("passed",)
            assert t["name"] == f"{ex.id}: {ex.title}" and t["visibility"] == "after_due_date"
    assert f"graded {SOURCE.name}: {AUTO:g} / {AUTO:g}" in stdout


def test_the_student_edition_scores_zero_not_attempted(graded):
    root, status, stdout = graded["blank"]
    assert status == 0, stdout
    results = results_of(root)
    check_results(results)
    assert results["score"] == 0
    auto = [t for t in results["tests"] if "status" in t]
    assert len(auto) == len(NB01) - 1
    assert all(t["status"] == "failed" and "not-attempted" in t["output"] for t in auto)


def test_a_crash_is_reported_as_such(graded):
    root, status, stdout = graded["crash"]
    assert status == 0, stdout
    results = results_of(root)
    check_results(results)
    jensen = next(t for t in results["tests"] if t["name"].startswith("01.jensen-gap:"))
    assert (jensen["score"], jensen["status"]) == (0, "failed")
    assert "crashed" in jensen["output"]
    assert "made the kernel die" in results["output"]
    assert results["score"] == AUTO - 3


def test_the_seed_stays_in_the_source_folder_and_out_of_every_result(graded):
    for root, _, stdout in graded.values():
        assert (root / "source" / "seed").read_text() == f"{SEED}\n"  # sandboxed: kept
        assert [p.name for p in (root / "submission").iterdir()] == [SOURCE.name]
        assert str(SEED) not in (root / "results" / "results.json").read_text()
        assert str(SEED) not in stdout


def test_without_the_sandbox_the_seed_is_deleted_before_the_student_code_runs(unsandboxed,
                                                                               tmp_path):
    answer = notebook([code(IMPORTS), code(JENSEN), code('check("01.jensen-gap", log_jensen_gap)')])
    write(tmp_path / "nb.ipynb", answer)
    root = lay_out(unsandboxed, tmp_path / "root", {"mine.ipynb": (tmp_path / "nb.ipynb").read_text()})
    out = io.StringIO()
    assert gradescope.run(root, out) == 0
    assert not (root / "source" / "seed").exists()
    results = results_of(root)
    check_results(results)
    assert results["score"] == 3
    assert "unsandboxed" in out.getvalue()


def test_a_file_that_is_not_a_notebook_is_reported_as_such(unsandboxed, tmp_path):
    root = lay_out(unsandboxed, tmp_path, {"mine.ipynb": "{not json"})
    assert gradescope.run(root, io.StringIO()) == 0
    results = results_of(root)
    check_results(results)
    assert results["score"] == 0
    assert "mine.ipynb: not a valid notebook (not valid JSON" in results["output"]
    for t in results["tests"]:
        assert t["output"].startswith(f"**0 / {t['max_score']:g}, invalid-notebook**")
        assert t["status"] == "failed"


def test_no_notebook_gives_a_result_saying_so(autograder, tmp_path):
    root = lay_out(autograder, tmp_path, {"report.pdf": "%PDF"})
    assert gradescope.run(root, io.StringIO()) == 0
    results = results_of(root)
    check_results(results)
    message = ("No notebook (.ipynb) was found in your submission. Submit the notebook you "
               "worked in (course notebook 01) as an .ipynb file.")
    assert results["score"] == 0 and results["output"] == message
    assert [(t["score"], t["max_score"], t["status"], t["output"]) for t in results["tests"]] == [
        (0, ex.auto_points, "failed", f"not graded: {message}") for ex in NB01]


def test_two_notebooks_for_one_course_notebook_give_a_result_saying_so(autograder, tmp_path):
    text = SOURCE.read_text(encoding="utf-8")
    root = lay_out(autograder, tmp_path, {"a.ipynb": text, "old/b.ipynb": text,
                                          ".ipynb_checkpoints/a-checkpoint.ipynb": text})
    assert gradescope.run(root, io.StringIO()) == 0
    results = results_of(root)
    check_results(results)
    assert results["output"] == (
        "Several notebooks were submitted for one course notebook: a.ipynb, old/b.ipynb all "
        "answer notebook 01. Submit one notebook per course notebook: remove the others and "
        "submit again.")
    assert results["score"] == 0


def test_a_damaged_zip_still_writes_a_result_and_fails(autograder, tmp_path):
    root = lay_out(autograder, tmp_path, {SOURCE.name: SOURCE.read_text(encoding="utf-8")})
    (root / "source" / gradescope.CONFIG).write_text("{")
    out = io.StringIO()
    assert gradescope.run(root, out) == 1
    results = results_of(root)
    check_results(results)
    path = root / "source" / gradescope.CONFIG
    assert results["output"] == (
        f"The autograder could not run: {path} is missing or damaged (JSONDecodeError). Fix: "
        f"build the zip again with `emlib gradescope` and upload it.")
    assert results["tests"] == [] and results["score"] == 0


def test_a_seed_file_that_is_not_a_number_is_refused_without_showing_it(tmp_path):
    (tmp_path / "seed").write_text("s3cret\n")
    with pytest.raises(GradingError) as exc:
        gradescope.take_seed(tmp_path, forget=False)
    assert str(exc.value) == (
        f"the seed file {tmp_path / 'seed'} does not hold one integer. Fix: build the zip again "
        f"with `emlib gradescope --seed SEED` and upload it.")
    (tmp_path / "seed").write_text("42\n")
    assert gradescope.take_seed(tmp_path, forget=False) == 42 and (tmp_path / "seed").exists()
    assert gradescope.take_seed(tmp_path, forget=True) == 42 and not (tmp_path / "seed").exists()


def test_an_unknown_exercise_is_a_usage_error(tmp_path, capsys):
    assert main(["gradescope", "--out", str(tmp_path / "a.zip"), "--exercises", "99"]) == 2
    assert "emlib gradescope: error: --exercises: unknown 99; known ids:" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()


def test_the_guides_gradescope_commands_run_as_written(tmp_path):
    require_bubblewrap()
    guide = (REPO / "book" / "instructor-guide.md").read_text(encoding="utf-8")
    section = guide.split("## Gradescope\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    (tmp_path / "notebooks").symlink_to(REPO / "notebooks")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    run = subprocess.run(["bash", "-c", "set -euo pipefail\n" + "".join(blocks)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr
    results = results_of(tmp_path / "grades" / "gs")
    check_results(results)
    assert results["score"] == AUTO
