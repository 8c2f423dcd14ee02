"""``emlib grade --cluster``: the batch's submissions graded on Dask workers, one task each.

::

    emlib grade SUBMISSIONS --out OUT --cluster tcp://HOST:PORT   # a running Dask scheduler
    emlib grade SUBMISSIONS --out OUT --cluster local:N           # N worker processes here

A task is :func:`.worker.grade_task`: the notebook's bytes, its file name, the student id and
the batch's settings in, the same :class:`~.store.SubmissionResult` as ``--jobs`` gives out (as
a plain dict). On the worker it runs :func:`.batch.grade_one`, the very function each thread of
``--jobs`` runs, with the worker's own sandbox; the secret seed and the references reach the
workers (trusted machines, like the grader's own) and never a sandbox. The client keeps the
cache: a file whose results are all in ``OUT/.cache`` is not sent; for the others, the cached
entries go with the task and the new ones come back to be written into ``OUT/.cache``. The
client writes the gradebook, the feedback and the summary, as ``--jobs`` does.

Faults. A worker that dies while grading (killed, out of memory) costs nothing: the scheduler
gives its task to another worker (``distributed.scheduler.allowed-failures`` times, 3 by
default), and an exception inside a task is retried (``retries``). A file that every worker
trying it died on (:class:`distributed.KilledWorker`) is ``crashed``, flagged ``worker-died``,
and not cached. Ctrl-C cancels the tasks, stops the sandboxes still running on the workers and,
for ``local:N``, closes the cluster. Each file's result is taken once, from its own task.

Versions. Before anything is sent, every worker runs :func:`.worker.worker_identity`: its emlib
version, the hash of the grader's code (:func:`.store.grader_hash`) and of the exercise modules
must be this machine's, or the command stops naming the worker and both versions; each task
checks again (a worker may join later). Where bubblewrap is missing on a worker,
``--sandbox required`` stops, and ``auto`` says so loudly, naming the workers.

``distributed`` is optional (``pip install 'emlib[cluster]'``) and imported only here, only when
``--cluster`` is given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import secrets
import warnings
from dataclasses import asdict
from pathlib import Path

from .batch import GradeOptions, Progress, grade_one, label, look_up
from .layout import GradingError
from .sandbox import INSTALL_HINT, SandboxUnavailable
from .score import ExerciseResult, Scorer
from .store import Cache, RunRecord, SubmissionResult
from .submission import SandboxRun
from .worker import (
    MemoryCache,
    WorkerMismatch,
    grade_task,
    mismatch,
    release_batch,
    worker_identity,
)

INSTALL = "pip install 'emlib[cluster]'"
RETRIES = 2  # an exception inside a task: tried again, on any worker
CONNECT_SECONDS = 30.0  # to reach the scheduler
WORKERS_SECONDS = 60.0  # for a first worker to join a scheduler that has none
WINDOW = 64  # tasks handed to the scheduler ahead of the results, at least (4 per thread)
USAGE = ("expected tcp://HOST:PORT (the address of a running Dask scheduler) or local:N "
         "(N worker processes on this machine)")


# -- the options ---------------------------------------------------------------------------
def parse_cluster(text: str) -> tuple[str, str | int]:
    """``("local", N)`` for ``local:N``, ``("address", text)`` for ``tcp://HOST:PORT``."""
    spec = text.strip()
    if spec.startswith("local:"):
        n = spec[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise GradingError(f"--cluster {text!r}: local:N needs a whole number N >= 1 of "
                               f"worker processes, such as local:4.")
        return "local", int(n)
    scheme, sep, rest = spec.partition("://")
    if not sep:
        raise GradingError(f"--cluster {text!r}: {USAGE}.")
    if scheme not in ("tcp", "tls"):
        raise GradingError(f"--cluster {text!r}: a scheduler's address starts with tcp:// "
                           f"(or tls://, with Dask's TLS settings), not {scheme}://; {USAGE}.")
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise GradingError(f"--cluster {text!r}: the address needs a host and a port, as in "
                           f"tcp://HOST:PORT (a Dask scheduler listens on port 8786 by default).")
    return "address", spec


def require_distributed():
    """The ``distributed`` module, or a :class:`GradingError` saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise GradingError(f"--cluster needs Dask's `distributed` package, which is not "
                           f"installed here: {INSTALL} (the same on every worker; in the "
                           f"course's repository, `make setup` installs it).") from None
    return distributed


def check_options(options: GradeOptions) -> tuple[str, str | int]:
    """The cluster to use, after the usage errors: a bad value, --jobs with it, no Dask."""
    spec = parse_cluster(options.cluster)
    if options.jobs > 1:
        raise GradingError(f"--cluster and --jobs {options.jobs} cannot be combined: with "
                           f"--cluster the workers grade in parallel, one submission per worker "
                           f"thread (--cluster local:{options.jobs} runs {options.jobs} of "
                           f"them on this machine); drop --jobs.")
    require_distributed()
    return spec


# -- the client ----------------------------------------------------------------------------
FIX = ("install the same emlib on every worker as here (the same release, or the same "
       "checkout), then restart the workers")


def check_workers(client, mode: str, warn) -> bool:
    """Check every worker's emlib against this machine's, and its sandbox against ``mode``;
    returns whether every worker grades under bubblewrap."""
    import distributed

    ours = worker_identity()
    found = client.run(worker_identity, on_error="return")
    problems = []
    for address, theirs in sorted(found.items()):
        if isinstance(theirs, BaseException) or not isinstance(theirs, dict):
            problems.append(f"the worker {address} could not say which emlib it runs ({theirs!r})")
        elif (problem := mismatch(theirs, ours)) is not None:
            problems.append(f"the worker {address} {problem}")
    if problems:
        raise WorkerMismatch("--cluster: " + "; ".join(problems) + f". Fix: {FIX}.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            client.get_versions(check=True)
        except ValueError as exc:  # older releases raise on a mismatch of Dask's own packages
            warn(f"--cluster: {exc}")
    for w in caught:
        if not issubclass(w.category, distributed.versions.VersionMismatchWarning):
            continue
        warn(f"--cluster: the Dask packages differ between this machine, the scheduler and the "
             f"workers: {w.message}")
    if mode == "off":
        return False
    bare = {a: i["bwrap_problem"] for a, i in sorted(found.items()) if i["bwrap_problem"]}
    if not bare:
        return True
    which = "; ".join(f"{a}: {why}" for a, why in bare.items())
    if mode == "required":
        raise SandboxUnavailable(f"--sandbox required (or EMLIB_REQUIRE_SANDBOX=1), but "
                                 f"bubblewrap does not work on every Dask worker ({which}). Fix "
                                 f"on each of them: {INSTALL_HINT}.")
    warn(f"GRADING WITHOUT A SANDBOX on {len(bare)} of {len(found)} Dask worker(s) ({which}): "
         f"student code will run there with the workers' permissions (prlimit caps and timeouts "
         f"still apply). Fix: {INSTALL_HINT}.")
    return False


def sandbox_mode(options: GradeOptions) -> str:
    """The mode the workers apply: ``EMLIB_REQUIRE_SANDBOX=1`` here makes ``auto`` required."""
    if options.sandbox == "auto" and os.environ.get("EMLIB_REQUIRE_SANDBOX") == "1":
        return "required"
    return options.sandbox


class _NoSandbox:
    """The client's stand-in for a sandbox, for the files whose results are all cached (no run,
    only the ``unsandboxed`` flag, as on the workers)."""

    def __init__(self, use_bwrap: bool):
        self.use_bwrap = use_bwrap


def _crashed(path: Path, student: str, exercises, scorer: Scorer, use_bwrap: bool,
             exc) -> SubmissionResult:
    """The result of a file that every worker trying it died on: ``crashed``, never cached."""
    last = getattr(getattr(exc, "last_worker", None), "address", "?")
    tries = getattr(exc, "allowed_failures", 0) + 1
    found = look_up(path, exercises, MemoryCache(None), force=True)
    raw = SandboxRun(invalid=found.invalid,
                     failure=f"each of the {tries} Dask workers that tried it died, the last {last}")
    results = {ex.id: scorer.score_exercise(ex, found.nb, raw) for ex in found.mine}
    note = (f"grading this file killed {tries} Dask worker(s) in turn (out of memory, or killed; "
            f"the last was {last}): it was not graded. Look at the workers' logs, then run the "
            f"command again: it grades only what is not cached")
    flags = {"worker-died"} | {f for r in results.values() for f in r.flags}
    if not use_bwrap:
        flags.add("unsandboxed")
    return SubmissionResult(str(path), student, found.numbers, found.invalid, results, [note],
                            sorted(flags))


def _connect(kind: str, value, stack):
    """A client of the cluster (started here for ``local:N``), closed by ``stack``."""
    from distributed import Client, LocalCluster

    if kind == "local":
        cluster = LocalCluster(n_workers=value, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        stack.callback(cluster.close)
        client = Client(cluster, set_as_default=False)
        stack.callback(client.close)
        return client
    try:
        client = Client(value, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise GradingError(f"--cluster {value}: no Dask scheduler answered there ({exc}). Start "
                           f"one with `dask scheduler` and its workers with `dask worker "
                           f"{value}`, or grade on this machine with --cluster local:N.") from None
    stack.callback(client.close)
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except (OSError, TimeoutError):
        raise GradingError(f"--cluster {value}: the scheduler has no worker (waited "
                           f"{WORKERS_SECONDS:g} s); start them with `dask worker {value}`.") from None
    return client


def grade_on_cluster(notebooks, exercises, options: GradeOptions, seed: int, cache: Cache,
                     progress: Progress, warn) -> list[SubmissionResult]:
    """Grade ``notebooks`` (path, student) on the cluster ``options.cluster``; the files whose
    results are all cached are done here, the others sent one task each."""
    distributed = require_distributed()
    kind, value = parse_cluster(options.cluster)
    mode = sandbox_mode(options)
    token = secrets.token_hex(8)
    identity = worker_identity()
    settings = {"batch": token, "seed": seed, "exercises": [ex.id for ex in exercises],
                "timeout": options.timeout, "wall": options.wall, "memory_mb": options.memory_mb,
                "sandbox": mode, "force": options.force, "report_hints": options.report_hints,
                "identity": identity}
    results: list[SubmissionResult] = []
    client_scorer: list[Scorer] = []  # built only if a file must be scored here

    def scorer() -> Scorer:
        if not client_scorer:
            client_scorer.append(Scorer(exercises, seed))
        return client_scorer[0]

    def done(res: SubmissionResult) -> None:
        results.append(res)
        progress.update(label(res))

    with contextlib.ExitStack() as stack:
        client = _connect(kind, value, stack)
        use_bwrap = check_workers(client, mode, warn)
        stand_in = _NoSandbox(use_bwrap)
        stack.callback(_release, client, token, False)
        threads = sum(client.nthreads().values())
        window = max(WINDOW, 4 * threads)
        queue = iter(notebooks)
        tasks = distributed.as_completed(loop=client.loop)
        sent: dict = {}  # future -> (path, student, key)

        def send_next() -> bool:
            """Hand the next file that needs grading to the cluster (those fully cached are
            done here on the way); False when none is left."""
            for path, student in queue:
                found = look_up(path, exercises, cache, options.force)
                try:
                    data = path.read_bytes() if found.todo and found.key is not None else None
                except OSError:
                    data = None
                if data is None:  # all cached, or unreadable: nothing to run, no secret needed
                    done(grade_one(path, student, exercises, scorer() if found.todo else None,
                                   stand_in, None, cache, options.force, options.report_hints))
                    continue
                fut = distributed_submit(client, settings, path, student, data, found)
                sent[fut] = (path, student, found.key)
                tasks.add(fut)
                return True
            return False

        try:
            while len(sent) < window and send_next():
                pass
            for fut in tasks:
                path, student, key = sent.pop(fut)
                done(_collect(fut, path, student, key, exercises, cache, scorer, use_bwrap,
                              distributed))
                fut.release()
                while len(sent) < window and send_next():
                    pass
        except BaseException:  # Ctrl-C above all: nothing may go on grading
            if sent:
                with contextlib.suppress(Exception):
                    client.cancel(list(sent), force=True)
            _release(client, token, True)
            raise
    return results


def _release(client, token: str, stop: bool) -> None:
    """Free (with ``stop``: first kill) the batch's sandboxes on every worker, if they answer."""
    with contextlib.suppress(Exception):
        client.run(release_batch, token, stop, on_error="ignore")


def distributed_submit(client, settings: dict, path: Path, student: str, data: bytes, found):
    """One task: the notebook's bytes and plain settings; the client's cached entries of it."""
    run = asdict(found.record) if found.record is not None else None
    cached = {i: r.to_dict() for i, r in found.results.items()}
    return client.submit(grade_task, settings, path.name, student, data, found.key, run, cached,
                         pure=False, retries=RETRIES, key=f"emlib-grade-{secrets.token_hex(8)}")


def _collect(fut, path: Path, student: str, key: str, exercises, cache: Cache, scorer,
             use_bwrap: bool, distributed) -> SubmissionResult:
    """The result of one finished task, its new cache entries written into ``OUT/.cache``."""
    try:
        out = fut.result()
    except distributed.KilledWorker as exc:
        return _crashed(path, student, exercises, scorer(), use_bwrap, exc)
    except (asyncio.CancelledError, concurrent.futures.CancelledError) as exc:
        raise GradingError(f"--cluster: the grading of {path} was cancelled by the Dask "
                           f"scheduler ({exc}): was it restarted, or the connection lost? What "
                           f"was graded is cached: run the command again.") from None
    if out["run"] is not None:
        cache.save_run(key, RunRecord(**out["run"]))
    by_id = {ex.id: ex for ex in exercises}
    for ex_id, r in out["exercises"].items():
        cache.save_result(key, by_id[ex_id], ExerciseResult.from_dict(r))
    res = SubmissionResult.from_dict(out["result"])
    res.path = str(path)
    return res


__all__ = ["INSTALL", "check_options", "grade_on_cluster", "parse_cluster"]
