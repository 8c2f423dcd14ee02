"""Every case of the grader, in the bubblewrap sandbox: one batch of fixture submissions, graded
once (``--jobs 2``, short time limits), then one test per case on the resulting gradebook.

Skipped with the reason when bubblewrap is unusable; failed instead under EMLIB_REQUIRE_SANDBOX=1.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sys
from pathlib import Path

import pytest
from _grading_helpers import (
    E_STEP,
    EXERCISES,
    JENSEN,
    MAXIMUM,
    POSTERIOR,
    correct_cells,
    live_grading_processes,
    notebook,
    require_bubblewrap,
    variant,
    write,
)

import emlib
from emlib.grading.batch import GradeOptions, grade
from emlib.student_edition import make_student_notebook

REPO = Path(__file__).resolve().parents[2]
TOKEN = "emlib-grading-test-sleeper-7f3a"

WRONG_AXIS = E_STEP.replace("axis=1, keepdims", "axis=0, keepdims")  # normalised over samples
RAISES = E_STEP.replace("    # BEGIN SOLUTION\n", "    # BEGIN SOLUTION\n    raise ValueError('boom')\n")
HANGS = E_STEP.replace("    # BEGIN SOLUTION\n", "    # BEGIN SOLUTION\n    while True:\n        pass\n")
GREEDY = E_STEP.replace(
    "    # BEGIN SOLUTION\n",
    "    # BEGIN SOLUTION\n    hoard = []\n    while True:\n        hoard.append(np.ones(2**24))\n")
EXITS = E_STEP.replace("    # BEGIN SOLUTION\n", "    # BEGIN SOLUTION\n    import os\n    os._exit(3)\n")
SIGKILLS = JENSEN.replace(
    "    # BEGIN SOLUTION\n",
    "    # BEGIN SOLUTION\n    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n")
KILLED_AT_LIMIT = JENSEN.replace(
    "    # BEGIN SOLUTION\n",
    "    # BEGIN SOLUTION\n    import os, signal\n    hoard = []\n    try:\n        while True:\n"
    "            hoard.append(np.ones(2**23))\n    except MemoryError:\n        pass\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n")
WARNS = JENSEN.replace(
    "    # BEGIN SOLUTION\n",
    "    # BEGIN SOLUTION\n    import warnings\n    _ = np.log(np.zeros(2)) + np.ones(2) / 0.0\n"
    "    warnings.warn('just so you know', RuntimeWarning)\n")
PARTIAL = POSTERIOR.replace('"mu1": mu1', '"mu1": -3.0')
WRAPS = '''from emlib import gmm

def e_step(X, pi, mu, Sigma):
    resp, _ = gmm.e_step(X, gmm.GMMParams(pi, mu, Sigma, "full"))
    return resp'''
OBFUSCATED = '''import importlib

def log_jensen_gap(weights, points):
    library = importlib.import_module("emlib." + "bounds")
    return getattr(library, "jensen" + "_gap")(lambda x: -np.log(x), weights, points)'''

PATCHES = '''import builtins, numpy, numpy.testing, emlib.exercises
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.savez = lambda *a, **k: None
numpy.load = lambda *a, **k: {}
emlib.exercises.check = lambda *a, **k: "full marks"
def _no_open(*args, **kwargs):
    raise PermissionError("open() is switched off by this notebook")
builtins.open = _no_open'''

HIJACK = '''import sys
import numpy as np
helper = next(m for n, m in sys.modules.items() if n.startswith("_emlib_grading") and hasattr(m, "call"))
real_call = helper.call
def fake_call(ex_id, *args):
    if ex_id != "03.e-step":
        return real_call(ex_id, *args)
    out_path = args[-1]
    report = helper.protocol.CaseReport("ok", output=np.full((3, 2), 0.5), has_output=True)
    with open(out_path, "wb") as fh:
        fh.write(helper.plain.dumps(report.to_wire()))
helper.call = fake_call'''

FORGERY = '''import json, os
fake = {"03.e-step": {"points": 5, "status": "ok"}, "total": 18}
for folder in ("/tmp", os.getcwd(), os.path.join(os.getcwd(), ".calls"), "/sandbox"):
    for name in ("outputs.npz", "outputs.json", "results.json", "gradebook.csv", "report.npz"):
        try:
            with open(os.path.join(folder, name), "w") as fh:
                json.dump(fake, fh)
        except OSError:
            pass
frame = b"EMLIB-FRAME result 1 2 " + b"0" * 64 + b"\\n{}"
try:
    os.write(os.open(f"/proc/{os.getppid()}/fd/1", os.O_WRONLY), frame)
except OSError:
    pass'''


def probe_cell(paths_to_read, paths_to_write, port) -> str:
    return f'''import os, socket, json
leaks = []
for path in {paths_to_read!r}:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        leaks.append("read " + path)
    except OSError:
        pass
try:
    import emlib.exercises.nb03
    leaks.append("import specs")
except ImportError:
    pass
for path in {paths_to_write!r}:
    try:
        with open(path, "w") as fh:
            fh.write("x")
        leaks.append("write " + path)
    except OSError:
        pass
for name in ("fd/1", "mem", "environ"):
    try:
        fd = os.open(f"/proc/{{os.getppid()}}/" + name, os.O_WRONLY if name == "fd/1" else os.O_RDONLY)
        leaks.append("harness " + name)
        os.close(fd)
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    leaks.append("socket")
except OSError:
    pass
for folder in ("/sandbox", os.getcwd(), os.path.join(os.getcwd(), ".calls"), "/tmp"):
    if os.path.isdir(folder) and any("inputs" in f for f in os.listdir(folder)):
        leaks.append("hidden inputs in " + folder)
with open("/tmp/scratch.txt", "w") as fh:
    tmp_ok = fh.write("fine") == 4
interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
raise RuntimeError(f"PROBE leaks={{leaks}} tmp={{tmp_ok}} interfaces={{interfaces}}")'''


SPAWNER = f'''import subprocess, sys
children = []
try:
    for i in range(500):
        children.append(subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)", "{TOKEN}"],
            start_new_session=bool(i % 2)))
except OSError:
    pass
raise RuntimeError(f"PROBE spawned={{len(children)}}")'''


@pytest.fixture(scope="module")
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, listener, request):
    """Grade every fixture submission once; returns (rows by id, the output folder)."""
    require_bubblewrap()
    root = tmp_path_factory.mktemp("grading")
    subs = root / "subs"
    home = Path(os.path.expanduser("~"))
    home_secret = home / ".emlib-grading-test-secret"
    home_secret.write_text("the grader's home directory")
    request.addfinalizer(lambda: home_secret.unlink(missing_ok=True))
    secret = Path(emlib.__file__).resolve().parent / "exercises" / "nb03.py"
    sources = sorted((REPO / "notebooks").glob("*.ipynb"))
    to_read = [str(subs / "correct.ipynb"), str(subs), str(home_secret), str(secret),
               str(REPO / "notebooks"), str(REPO / "pyproject.toml"), *map(str, sources[:1])]
    to_write = [str(subs / "planted.txt"), str(REPO / "planted.txt"), str(home / "planted.txt"),
                "/sandbox/planted.txt", "/usr/planted.txt"]
    correct = notebook(correct_cells())
    cases = {
        "correct": correct,
        "student-edition": make_student_notebook(correct),
        "wrong": variant({E_STEP: WRONG_AXIS}),
        "partial": variant({POSTERIOR: PARTIAL}),
        "raises": variant({E_STEP: RAISES}),
        "hangs": variant({E_STEP: HANGS}, "while True:\n    pass"),
        "memory": variant({E_STEP: GREEDY}),
        "killed-at-limit": variant({JENSEN: KILLED_AT_LIMIT}),
        "crashes": variant({E_STEP: EXITS, JENSEN: SIGKILLS}),
        "kills-kernel-at-top": variant({}, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        "sys-exit": variant({}, "import sys\nsys.exit()"),
        "prints": variant({}, "print('\\n'.join(map(str, range(10_000_000))))"),
        "warns": variant({JENSEN: WARNS},
                         "import warnings\nwarnings.simplefilter('error')\nnp.seterr(all='raise')"),
        "patches": variant({}, PATCHES),
        "patches-wrong": variant({E_STEP: WRONG_AXIS}, PATCHES, HIJACK),
        "forged-outputs": variant({E_STEP: WRONG_AXIS}, FORGERY),
        "probe": variant({}, probe_cell(to_read, to_write, listener)),
        "spawns": variant({}, SPAWNER),
        "wraps-reference": variant({E_STEP: WRAPS, JENSEN: OBFUSCATED}),
    }
    for name, nb in cases.items():
        write(subs / f"{name}.ipynb", nb)
    (subs / "not-json.ipynb").write_text('{"cells": [ this is not JSON', encoding="utf-8")
    (subs / "not-a-notebook.ipynb").write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    out = root / "out"
    options = GradeOptions(out=out, jobs=2, timeout=20, wall_seconds=240, memory_mb=2048,
                      sandbox="required", seed=20261125, exercises=EXERCISES, quiet=True)
    rows = grade([subs], options)
    return {r.student: r for r in rows}, out, subs


def status(rows, student):
    return {k: r.status for k, r in rows[student].exercises.items()}


def test_correct_submission_gets_full_marks(batch):
    rows, _, _ = batch
    assert status(rows, "correct") == dict.fromkeys(EXERCISES, "ok")
    assert rows["correct"].total == rows["correct"].maximum == MAXIMUM
    assert rows["correct"].flags == []


def test_untouched_student_edition_is_not_attempted_everywhere(batch):
    rows, _, _ = batch
    assert status(rows, "student-edition") == dict.fromkeys(EXERCISES, "not-attempted")
    assert rows["student-edition"].total == 0


def test_wrong_answer_is_wrong_with_the_diagnosed_mistake(batch):
    rows, _, _ = batch
    r = rows["wrong"].exercises["03.e-step"]
    assert r.status == "wrong" and r.points == 0 and r.mistakes == ["wrong-axis"]
    assert any("normalised over the samples" in m and "eq. (3.4)" in m for m in r.messages)
    assert rows["wrong"].total == MAXIMUM - 5


def test_partially_right_answer_is_partial(batch):
    rows, _, _ = batch
    r = rows["partial"].exercises["03.posterior-1d"]
    assert r.status == "partial" and 0 < r.points < 4
    assert any("mu1" in m for m in r.messages)


def test_a_function_that_raises_is_an_error_and_the_batch_goes_on(batch):
    rows, _, _ = batch
    r = rows["raises"].exercises["03.e-step"]
    assert r.status == "error" and r.points == 0
    assert any("ValueError: boom" in m and "raise ValueError('boom')" in m for m in r.messages)
    assert rows["raises"].total == MAXIMUM - 5


def test_an_endless_loop_times_out_and_leaves_no_process(batch):
    rows, _, _ = batch
    assert rows["hangs"].exercises["03.e-step"].status == "timeout"
    assert rows["hangs"].total == MAXIMUM - 5  # the endless top-level cell was interrupted
    assert any("did not finish" in n for n in rows["hangs"].notes)
    assert live_grading_processes() == []


def test_unbounded_allocation_is_memory_and_the_machine_is_unharmed(batch):
    rows, _, _ = batch
    assert rows["memory"].exercises["03.e-step"].status == "memory"
    assert rows["memory"].total == MAXIMUM - 5
    assert rows["killed-at-limit"].exercises["01.jensen-gap"].status == "memory"


def test_killing_the_kernel_is_a_crash_not_a_zero(batch):
    rows, out, _ = batch
    assert status(rows, "crashes")["03.e-step"] == "crashed"
    assert status(rows, "crashes")["01.jensen-gap"] == "crashed"
    assert rows["crashes"].total == MAXIMUM - 8  # the other exercises, after a restart
    assert rows["kills-kernel-at-top"].total == MAXIMUM
    assert "kernel-died" in rows["kills-kernel-at-top"].flags
    with open(out / "gradebook.csv", newline="") as fh:
        line = next(r for r in csv.DictReader(fh) if r["id"] == "crashes")
    assert line["03.e-step"] == "crashed" and line["01.jensen-gap"] == "crashed"


def test_sys_exit_in_a_cell_changes_nothing(batch):
    rows, _, _ = batch
    assert rows["sys-exit"].total == MAXIMUM


def test_ten_million_lines_are_truncated_and_still_graded(batch):
    rows, _, _ = batch
    assert rows["prints"].total == MAXIMUM
    assert "output-truncated" in rows["prints"].flags


def test_invalid_files_are_invalid_notebooks(batch):
    rows, out, _ = batch
    for student in ("not-json", "not-a-notebook"):
        assert set(status(rows, student).values()) == {"invalid-notebook"}
    assert any("not valid JSON" in n for n in rows["not-json"].notes)
    assert any("not a Jupyter notebook" in n for n in rows["not-a-notebook"].notes)
    with open(out / "gradebook.csv", newline="") as fh:
        line = next(r for r in csv.DictReader(fh) if r["id"] == "not-json")
    assert {line[e] for e in EXERCISES} == {"invalid-notebook"}


def test_numpy_warnings_never_cost_points(batch):
    rows, _, _ = batch
    assert rows["warns"].total == MAXIMUM


def test_monkeypatching_changes_no_score(batch):
    rows, _, _ = batch
    assert rows["patches"].total == MAXIMUM
    assert status(rows, "patches-wrong") == status(rows, "wrong")
    assert rows["patches-wrong"].total == rows["wrong"].total
    assert "tamper-suspected" in rows["patches-wrong"].flags


def test_a_forged_outputs_file_gains_nothing(batch):
    rows, _, _ = batch
    assert status(rows, "forged-outputs") == status(rows, "wrong")
    assert rows["forged-outputs"].total == rows["wrong"].total


def test_the_sandbox_hides_files_network_and_the_report_pipe(batch):
    rows, _, subs = batch
    assert rows["probe"].total == MAXIMUM
    probe = next(n for n in rows["probe"].notes if "PROBE" in n)
    assert "PROBE leaks=[] tmp=True interfaces=['lo']" in probe
    assert not (subs / "planted.txt").exists() and not (REPO / "planted.txt").exists()
    assert not (Path(os.path.expanduser("~")) / "planted.txt").exists()


def test_process_count_is_capped_and_nothing_survives(batch):
    rows, _, _ = batch
    assert rows["spawns"].total == MAXIMUM
    note = next(n for n in rows["spawns"].notes if "PROBE spawned=" in n)
    spawned = int(note.split("PROBE spawned=")[1].split()[0].rstrip(")`'\""))
    assert 0 < spawned < 64
    survivors = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and TOKEN.encode() in Path(entry.path, "cmdline").read_bytes():
                survivors.append(entry.name)
        except OSError:
            continue
    assert survivors == []


def test_calling_the_library_reference_is_flagged(batch):
    rows, out, _ = batch
    ex = rows["wraps-reference"].exercises
    assert ex["03.e-step"].status == "flagged" and ex["03.e-step"].points == 0
    assert any("uses emlib.gmm.e_step" in m for m in ex["03.e-step"].messages)  # static
    assert any("called emlib.gmm.e_step" in m for m in ex["03.e-step"].messages)  # run time
    assert ex["01.jensen-gap"].status == "flagged"  # hidden from the static check, seen at run time
    assert any("called emlib.bounds.jensen_gap" in m for m in ex["01.jensen-gap"].messages)
    assert "forbidden:03.e-step" in rows["wraps-reference"].flags
    text = (out / "feedback" / "wraps-reference.md").read_text()
    assert "flagged" in text and "implement it yourself" in text


def test_outputs_are_written(batch):
    rows, out, _ = batch
    with open(out / "gradebook.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["id"] for r in table] == sorted(rows)
    assert list(table[0])[1:len(EXERCISES) + 1] == list(EXERCISES)
    for r in table:
        assert r["maximum"] == str(MAXIMUM)
    assert (out / "summary.md").read_text().count("| 0") >= 0
    assert (out / "summary-histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for student in rows:
        assert (out / "feedback" / f"{student}.md").exists()
        assert (out / "feedback" / f"{student}.html").read_text().startswith("<!DOCTYPE html>")
    assert sys.modules.get("emlib.exercises.nb03") is not None  # the grader itself has the specs
