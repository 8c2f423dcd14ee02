"""What a Dask worker runs for ``emlib grade --cluster`` (:mod:`.cluster` is the client's side).

One task is :func:`grade_task`: plain arguments in (the notebook's bytes, its file name, the
student id, the batch's settings, the client's cached entries of that file), a plain dict out.
It runs :func:`.batch.grade_one`, what each thread of ``--jobs`` runs, with a
:class:`MemoryCache` standing in for ``OUT/.cache`` and the worker's own sandbox. The batch's
exercises, hidden cases and sandbox are made once per worker process (:class:`_Batch`) and
shared by its threads, as ``--jobs``'s threads share them; :func:`release_batch` ends them.

:func:`worker_identity` says what the worker grades with (emlib's version, the hash of the
grader's code and of the exercise modules, whether bubblewrap works); every task checks it
against the client's before grading (:class:`WorkerMismatch`).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import tempfile
import threading
import warnings
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import emlib

from .batch import grade_one, limits_of, select_exercises
from .layout import GradingError
from .sandbox import Sandbox, bubblewrap_problem, resolve_mode
from .score import ExerciseResult, Scorer
from .store import RunRecord, exercise_hash, grader_hash


class WorkerMismatch(GradingError):
    """A worker runs another emlib than this machine, or could not tell which."""


@lru_cache(maxsize=1)
def exercises_hash() -> str:
    """One hash of every exercise module (the specs and references of the hidden cases)."""
    from ..exercises import all_exercises

    modules = sorted({ex.notebook: exercise_hash(ex) for ex in all_exercises()}.items())
    return hashlib.sha256(repr(modules).encode()).hexdigest()


def worker_identity() -> dict:
    """What a machine grades with: emlib's version and code, and whether bubblewrap works."""
    return {"emlib": emlib.__version__, "grader": grader_hash(), "exercises": exercises_hash(),
            "bwrap_problem": bubblewrap_problem(), "host": os.uname().nodename}


class MemoryCache:
    """:func:`.batch.grade_one`'s cache on a worker: the client's cached entries of one file
    (``run``: a RunRecord dict, ``results``: exercise id -> ExerciseResult dict), and what this
    grading adds (``saved_run``, ``saved``), for the client to write into ``OUT/.cache``."""

    def __init__(self, key: str | None, run: dict | None = None, results: dict | None = None):
        self.key, self._run, self._results = key, run, dict(results or {})
        self.saved_run: RunRecord | None = None
        self.saved: dict[str, ExerciseResult] = {}

    def submission_key(self, data: bytes) -> str:
        if self.key is None:
            raise OSError("no key")  # look_up then reads the file as unreadable
        return self.key

    def run(self, key: str) -> RunRecord | None:
        return RunRecord(**self._run) if self._run is not None else None

    def result(self, key: str, ex) -> ExerciseResult | None:
        d = self._results.get(ex.id)
        return ExerciseResult.from_dict(d) if d is not None else None

    def save_run(self, key: str, record: RunRecord) -> None:
        self.saved_run = record

    def save_result(self, key: str, ex, result: ExerciseResult) -> None:
        self.saved[ex.id] = result


class _Batch:
    """One batch's exercises, hidden cases and sandbox on one worker process, shared by its
    threads like ``--jobs``'s threads share them."""

    def __init__(self, settings: dict):
        self.exercises = select_exercises(tuple(settings["exercises"]))
        self.scorer = Scorer(self.exercises, int(settings["seed"]))
        self.kernel_limits, sandbox_limits = limits_of(
            settings["timeout"], settings["wall"], settings["memory_mb"])
        with warnings.catch_warnings():  # `auto` without bubblewrap: the client said so
            warnings.simplefilter("ignore", RuntimeWarning)
            use_bwrap = resolve_mode(settings["sandbox"])
        self.sandbox = Sandbox(use_bwrap, sandbox_limits)


_BATCHES: dict[str, _Batch] = {}
_LOCK = threading.Lock()


def _batch(settings: dict) -> _Batch:
    with _LOCK:
        batch = _BATCHES.get(settings["batch"])
        if batch is None:
            batch = _BATCHES[settings["batch"]] = _Batch(settings)
        return batch


def release_batch(token: str, stop: bool = False) -> bool:
    """The end of batch ``token`` on this worker: its sandbox's files go (with ``stop``, its
    running sandboxes are killed first: the client was interrupted)."""
    with _LOCK:
        batch = _BATCHES.pop(token, None)
    if batch is not None:
        if stop:
            batch.sandbox.stop()
        batch.sandbox.close()
    return batch is not None


@atexit.register
def _release_all() -> None:
    for token in list(_BATCHES):
        release_batch(token, stop=True)


def check_identity(expected: dict) -> None:
    """Raise :class:`WorkerMismatch` unless this process grades with ``expected``'s emlib."""
    mine = worker_identity()
    problem = mismatch(mine, expected)
    if problem:
        raise WorkerMismatch(f"the Dask worker on {mine['host']} (pid {os.getpid()}) {problem}")


def grade_task(settings: dict, name: str, student: str, data: bytes, key: str | None,
               run: dict | None, results: dict) -> dict:
    """One Dask task: grade the notebook ``data`` (file name ``name``) of ``student`` with
    :func:`.batch.grade_one`, the cached entries ``run`` and ``results`` standing in for the
    client's cache. Returns ``{"result": SubmissionResult dict, "run": RunRecord dict or None,
    "exercises": {id: ExerciseResult dict}}``, the last two being the new cache entries."""
    check_identity(settings["identity"])
    batch = _batch(settings)
    cache = MemoryCache(key, run, results)
    with tempfile.TemporaryDirectory(prefix="emlib-task-") as folder:
        path = Path(folder) / name  # the file name matters: it may tell the notebook
        if data is not None:
            path.write_bytes(data)
        res = grade_one(path, student, batch.exercises, batch.scorer, batch.sandbox,
                        batch.kernel_limits, cache, settings["force"], settings["report_hints"])
    return {"result": res.to_dict(),
            "run": asdict(cache.saved_run) if cache.saved_run is not None else None,
            "exercises": {i: r.to_dict() for i, r in cache.saved.items()}}




def mismatch(theirs: dict, ours: dict) -> str | None:
    """What differs between a worker's identity and this machine's, in words (None: nothing)."""
    if theirs["emlib"] != ours["emlib"]:
        return (f"runs emlib {theirs['emlib']} (grader code {theirs['grader'][:12]}), "
                f"this machine emlib {ours['emlib']} (grader code {ours['grader'][:12]})")
    if theirs["grader"] != ours["grader"]:
        return (f"runs emlib {theirs['emlib']} with other grader code ({theirs['grader'][:12]}) "
                f"than this machine's emlib {ours['emlib']} ({ours['grader'][:12]})")
    if theirs["exercises"] != ours["exercises"]:
        return (f"runs emlib {theirs['emlib']} with other exercise specs "
                f"({theirs['exercises'][:12]}) than this machine's ({ours['exercises'][:12]})")
    return None
