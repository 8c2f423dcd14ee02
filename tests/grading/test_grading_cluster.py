"""``emlib grade --cluster`` on a real Dask cluster: a scheduler and worker processes on
127.0.0.1, started here as `dask scheduler` / `dask worker` would be.

The gradebook must be the one ``--jobs 1`` writes, byte for byte, also when a worker is killed
with SIGKILL in the middle of a submission; a submission that every worker dies on is
``crashed``; a worker that runs another emlib is refused; Ctrl-C leaves nothing grading. The
usage errors need neither Dask nor the sandbox. Skipped with the reason when ``distributed`` is
not installed or bubblewrap is unusable (failed instead under EMLIB_REQUIRE_SANDBOX=1).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _grading_helpers import E_STEP, EXERCISES, MAXIMUM, correct_cells, notebook, variant, write

import emlib
from emlib.cli import main
from emlib.grading import cluster
from emlib.grading.batch import GradeOptions, GradingError, grade

EMLIB_ROOT = Path(emlib.__file__).resolve().parents[1]  # the emlib under test, for the workers
SLEEPER = "import time\ntime.sleep(6)"  # a correct submission that takes a while
WRONG_AXIS = E_STEP.replace("axis=1, keepdims", "axis=0, keepdims")

try:
    import psutil
    from distributed import Client
except ImportError:
    Client = psutil = None


def need_cluster() -> None:
    """Skip (or fail under EMLIB_REQUIRE_SANDBOX=1) without Dask or without the sandbox."""
    from _grading_helpers import require_bubblewrap

    if Client is None:
        message = f"Dask's distributed is not installed ({cluster.INSTALL})"
        if os.environ.get("EMLIB_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"EMLIB_REQUIRE_SANDBOX=1 but {message}")
        pytest.skip(message)
    require_bubblewrap()


def _options(out, **kw):
    base = dict(out=out, timeout=60, memory_mb=2048, sandbox="required", seed=20261204,
                exercises=EXERCISES, quiet=True)
    return GradeOptions(**{**base, **kw})


# -- usage errors, with or without Dask ------------------------------------------------------
@pytest.mark.parametrize(("value", "message"), [
    ("local:0", "--cluster 'local:0': local:N needs a whole number N >= 1 of worker processes, "
                "such as local:4."),
    ("local:two", "--cluster 'local:two': local:N needs a whole number N >= 1"),
    ("somewhere", "--cluster 'somewhere': expected tcp://HOST:PORT (the address of a running "
                  "Dask scheduler) or local:N (N worker processes on this machine)."),
    ("http://h:8786", "--cluster 'http://h:8786': a scheduler's address starts with tcp:// (or "
                      "tls://, with Dask's TLS settings), not http://"),
    ("tcp://h", "--cluster 'tcp://h': the address needs a host and a port, as in tcp://HOST:PORT"),
    ("tcp://:8786", "the address needs a host and a port"),
    ("tcp://h:99999", "the address needs a host and a port"),
])
def test_a_bad_cluster_value_is_a_usage_error(value, message):
    with pytest.raises(GradingError) as err:
        cluster.parse_cluster(value)
    assert message in str(err.value)


def test_good_cluster_values():
    assert cluster.parse_cluster("local:3") == ("local", 3)
    assert cluster.parse_cluster("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    assert cluster.parse_cluster(" tls://[::1]:8786") == ("address", "tls://[::1]:8786")


def test_cluster_and_jobs_are_refused_together(tmp_path, capsys):
    status = main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--cluster",
                   "local:2", "--jobs", "3"])
    assert status == 2
    assert ("--cluster and --jobs 3 cannot be combined: with --cluster the workers grade in "
            "parallel, one submission per worker thread (--cluster local:3 runs 3 of them on "
            "this machine); drop --jobs.") in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_without_dask_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    status = main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--cluster",
                   "local:2"])
    assert status == 2
    assert ("emlib grade: error: --cluster needs Dask's `distributed` package, which is not "
            "installed here: pip install 'emlib[cluster]' (the same on every worker") \
        in capsys.readouterr().err


def test_no_scheduler_at_the_address_is_a_clear_error(tmp_path, monkeypatch):
    if Client is None:
        pytest.skip(f"Dask's distributed is not installed ({cluster.INSTALL})")
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write(tmp_path / "subs" / "ada.ipynb", notebook(correct_cells()))
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2.0)
    with pytest.raises(GradingError, match=rf"--cluster tcp://127.0.0.1:{port}: no Dask "
                       r"scheduler answered there \(.*\)\. Start one with `dask scheduler`"):
        grade([tmp_path / "subs"], _options(tmp_path / "out", cluster=f"tcp://127.0.0.1:{port}"))


# -- a real cluster ----------------------------------------------------------------------------
class Cluster:
    """A Dask scheduler and worker processes on 127.0.0.1 (each worker under its nanny, one
    thread), their logs in ``folder``; ``close()`` stops them all and checks that nothing of
    them is left."""

    def __init__(self, folder: Path, workers: int, allowed_failures: int | None = None,
                 worker_path: Path = EMLIB_ROOT):
        self.folder, self.procs, self.seen = folder, [], set()
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PYTHONPATH=str(EMLIB_ROOT))
        if allowed_failures is not None:
            env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
        sched_file = folder / "scheduler.json"
        self._start("scheduler", env, "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                    "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file))
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(sched_file.read_text())["address"]
        for i in range(workers):
            self.add_worker(f"w{i}", worker_path)
        self.client = Client(self.address, set_as_default=False, timeout=30)
        self.client.wait_for_workers(workers, timeout=120)

    def _start(self, name, env, module, *args):
        log = open(self.folder / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", module, *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.folder)
        self.procs.append((proc, log))
        return proc

    def add_worker(self, name: str, emlib_root: Path = EMLIB_ROOT):
        env = dict(os.environ, PYTHONPATH=str(emlib_root))
        return self._start(name, env, "distributed.cli.dask_worker", self.address, "--nthreads",
                           "1", "--host", "127.0.0.1", "--no-dashboard", "--name", name)

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    def family(self) -> set[int]:
        """Every live process of the cluster: scheduler, nannies, workers and theirs."""
        found = set()
        for proc, _ in self.procs:
            try:
                found |= {proc.pid} | {c.pid for c in psutil.Process(proc.pid).children(True)}
            except psutil.NoSuchProcess:
                pass
        self.seen |= found
        return found

    def close(self) -> None:
        self.family()
        self.client.close()
        for proc, _ in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        for proc, log in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        time.sleep(1)
        left = [p for p in self.seen if _alive(p)]
        assert left == [], f"processes of the cluster left running: {left}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def grading_under(pid: int) -> list[int]:
    """The sandboxed harnesses running under process ``pid``."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for kid in kids:
        try:
            if any(a.endswith("harness.py") for a in kid.cmdline()):
                out.append(kid.pid)
        except psutil.NoSuchProcess:
            continue
    return out


def kill_a_grading_worker(dask: Cluster, record: list) -> None:
    """SIGKILL a worker process while its sandbox's harness runs: in the middle of a
    submission; its address goes into ``record``."""
    deadline = time.monotonic() + 240
    while not record and time.monotonic() < deadline:
        for address, pid in dask.worker_pids().items():
            if grading_under(pid):
                time.sleep(1.0)
                if grading_under(pid):  # still grading: kill it in the middle
                    os.kill(pid, signal.SIGKILL)
                    record.append(address)
                    while _alive(pid):
                        time.sleep(0.05)
                    time.sleep(1.0)
                break
        time.sleep(0.1)


def grade_killing_a_worker(dask: Cluster, subs: Path, out: Path):
    """Grade ``subs`` on ``dask`` while one worker is killed in the middle of a submission."""
    killed: list[str] = []
    killer = threading.Thread(target=kill_a_grading_worker, args=(dask, killed))
    killer.start()
    try:
        rows = grade([subs], _options(out, cluster=dask.address))
    finally:
        killer.join()
    assert len(killed) == 1
    return rows


def the_sleeper(submissions: Path, tmp_path: Path) -> Path:
    """A folder holding only the submission that sleeps."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(submissions / "cy.ipynb", subs / "cy.ipynb")
    return subs


def start_grading(subs: Path, out: Path, where: str) -> subprocess.Popen:
    """``emlib grade SUBS --out OUT --cluster WHERE`` in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "emlib.cli", "grade", str(subs), "--out", str(out), "--cluster",
         where, "--exercises", ",".join(EXERCISES), "--quiet"],
        cwd=EMLIB_ROOT, env=dict(os.environ, PYTHONPATH=str(EMLIB_ROOT)),
        stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    subs = tmp_path_factory.mktemp("cluster-subs")
    write(subs / "ada.ipynb", notebook(correct_cells()))
    write(subs / "ben.ipynb", variant({E_STEP: WRONG_AXIS}))
    write(subs / "cy.ipynb", variant({}, SLEEPER))
    return subs


@pytest.fixture(scope="module")
def by_jobs(submissions, tmp_path_factory):
    """The gradebook of ``--jobs 1``, which ``--cluster`` must reproduce."""
    need_cluster()
    out = tmp_path_factory.mktemp("jobs-out")
    rows = grade([submissions], _options(out, jobs=1))
    assert rows[0].student == "ada" and rows[0].total == MAXIMUM
    return written(out)


def written(out: Path) -> dict[str, bytes]:
    """What a run writes for the instructor: the gradebook, the statuses, the summary and
    every feedback file, by name."""
    files = [out / "gradebook.csv", out / "statuses.csv", out / "summary.md",
             *sorted((out / "feedback").iterdir())]
    return {f.name: f.read_bytes() for f in files}


@pytest.fixture(scope="module")
def dask(tmp_path_factory):
    need_cluster()
    running = Cluster(tmp_path_factory.mktemp("dask"), workers=2, allowed_failures=1)
    yield running
    running.close()


def test_the_cluster_writes_the_gradebook_of_jobs(submissions, by_jobs, dask, tmp_path,
                                                   monkeypatch):
    out = tmp_path / "out"
    grade([submissions], _options(out, cluster=dask.address))
    assert written(out) == by_jobs
    # a second run sends nothing: every result is in OUT's cache
    sent = []
    real = cluster.distributed_submit
    monkeypatch.setattr(cluster, "distributed_submit", lambda *a: sent.append(a) or real(*a))
    log = io.StringIO()
    grade([submissions], _options(out, cluster=dask.address, quiet=False), stream=log)
    assert sent == []
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and all(line.endswith("(cached)") for line in lines), lines
    assert written(out) == by_jobs


def test_a_worker_killed_mid_submission_costs_nothing(submissions, by_jobs, dask, tmp_path):
    rows = grade_killing_a_worker(dask, submissions, tmp_path / "out")
    assert sorted(r.student for r in rows) == ["ada", "ben", "cy"]
    with open(tmp_path / "out" / "gradebook.csv", newline="") as fh:
        assert sorted(r["id"] for r in csv.DictReader(fh)) == ["ada", "ben", "cy"]
    assert written(tmp_path / "out") == by_jobs
    dask.client.wait_for_workers(2, timeout=120)  # the nanny restarted the killed worker


def test_ctrl_c_stops_the_sandboxes_on_the_workers(submissions, dask, tmp_path):
    proc = start_grading(the_sleeper(submissions, tmp_path), tmp_path / "out", dask.address)
    pids = dask.worker_pids().values()
    deadline = time.monotonic() + 120
    while not any(grading_under(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(grading_under(p) for p in pids)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "emlib grade: interrupted; no gradebook was written" in err
    time.sleep(1)
    assert [p for p in pids if grading_under(p)] == []  # the workers grade nothing more
    assert all(_alive(p) for p in pids)  # and they are still there
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_a_submission_that_kills_every_worker_is_crashed(submissions, tmp_path):
    need_cluster()
    dask = Cluster(tmp_path / "dask", workers=1, allowed_failures=0)
    try:
        (row,) = grade_killing_a_worker(dask, the_sleeper(submissions, tmp_path), tmp_path / "out")
    finally:
        dask.close()
    assert {r.status for r in row.exercises.values()} == {"crashed"}
    message = row.exercises["03.e-step"].messages[0]
    assert message.startswith("the grader could not run the notebook (each of the 1 Dask "
                              "workers that tried it died, the last tcp://127.0.0.1:")
    assert "worker-died" in row.flags
    assert any(n.startswith("cy.ipynb: grading this file killed 1 Dask worker(s) in turn")
               for n in row.notes), row.notes
    assert not list((tmp_path / "out" / ".cache").glob("run-*.json"))  # graded again next time


def test_a_worker_with_another_emlib_is_refused(tmp_path):
    need_cluster()
    other = tmp_path / "other"
    shutil.copytree(EMLIB_ROOT / "emlib", other / "emlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "emlib" / "__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{emlib.__version__}"',
                                             '__version__ = "0.0.9"'))
    dask = Cluster(tmp_path / "dask", workers=1, worker_path=other)
    try:
        (address,) = dask.worker_pids()
        write(tmp_path / "subs" / "ada.ipynb", notebook(correct_cells()))
        with pytest.raises(GradingError) as err:
            grade([tmp_path / "subs"], _options(tmp_path / "out", cluster=dask.address))
    finally:
        dask.close()
    assert str(err.value).startswith(f"--cluster: the worker {address} runs emlib 0.0.9 "
                                     f"(grader code ")
    assert f"this machine emlib {emlib.__version__} (grader code " in str(err.value)
    assert str(err.value).endswith("Fix: install the same emlib on every worker as here (the "
                                   "same release, or the same checkout), then restart the "
                                   "workers.")
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_local_cluster_is_closed_on_ctrl_c(submissions, tmp_path):
    need_cluster()
    proc = start_grading(the_sleeper(submissions, tmp_path), tmp_path / "out", "local:1")
    deadline = time.monotonic() + 180
    while not grading_under(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert grading_under(proc.pid)
    family = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    time.sleep(1)
    assert [p for p in family if _alive(p)] == []  # no worker, no sandbox left
