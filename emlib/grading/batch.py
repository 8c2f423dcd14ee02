"""A batch: find the submissions, grade each in its sandbox (in parallel), cache, merge per student.

Which files are whose: :mod:`.layout`. What is kept between runs (the result cache, the results
of the last gradebook that a run with ``--exercises`` updates): :mod:`.store`. A re-run grades
only what changed, unless ``--force``. The seed, when not given, is drawn once and kept in
``OUT/.seed`` (keep it secret: it determines the hidden cases). The files are graded by
:func:`grade_one` in ``--jobs`` threads here (:func:`grade_here`), or in Dask tasks on the
workers of ``--cluster`` (:mod:`.cluster`).

Given no submission, a run grades nothing and writes the gradebook again from ``OUT/results.json``:
the way to merge the marks given by hand (:mod:`.marks`) without the sandbox. The roster given
last is kept in ``OUT/roster.csv``; the derivations' written answers in ``OUT/answers/``
(:mod:`.answers`), for ``emlib review``.
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..exercises import all_exercises
from ..exercises.hints import HINTS, hints_used
from . import gradebook, late, marks, similarity, store
from . import protocol as P
from .answers import answers_of, write_answers
from .integrity import tamper_signs
from .layout import (
    GradingError,
    Submissions,
    answered_notebooks,
    check_one_per_notebook,
    discover,
    find_submissions,
)
from .roster import ROSTER, read_roster
from .sandbox import Sandbox, SandboxLimits, resolve_mode
from .score import Scorer, notebook_notes
from .store import Cache, RunRecord, SubmissionResult
from .submission import SandboxRun, read_notebook, run_in_sandbox

__all__ = ["GradeOptions", "GradingError", "SubmissionResult", "discover", "grade",
           "select_exercises"]


@dataclass
class GradeOptions:
    """The options of one ``emlib grade`` run (see :mod:`.command` for their meaning)."""

    out: Path
    jobs: int = 1
    timeout: float = 120.0  # per cell and per hidden call
    wall_seconds: float | None = None  # per submission; default 10 x timeout, at least 600
    memory_mb: int = 4096
    sandbox: str = "auto"
    seed: int | None = None
    force: bool = False
    ids: Path | None = None
    exercises: tuple[str, ...] = ()  # ids or notebook numbers; empty: every exercise
    quiet: bool = False
    late: Path | None = None  # CSV id,days_late (see .late)
    late_percent: float | None = None  # penalty per day late; None: as before, else 10
    report_hints: bool = False  # the feedback says which hints (emlib.exercises.hint) were asked
    roster: Path | None = None  # CSV with an id column (see .roster): every student gets a row
    similarity_threshold: float = similarity.DEFAULT_THRESHOLD  # OUT/similarity.html's pairs
    marks: Path | None = None  # CSV id,exercise,points,comment (see .marks): the hand marks
    cluster: str | None = None  # tcp://HOST:PORT or local:N: grade on Dask workers (.cluster)

    @property
    def wall(self) -> float:
        return self.wall_seconds or max(600.0, 10 * self.timeout)


def select_exercises(selection) -> list:
    """The exercises to grade: all, or those whose id or notebook number is selected."""
    every = all_exercises()
    if not selection:
        return list(every)
    chosen = [ex for ex in every if ex.id in selection or ex.notebook in selection]
    unknown = [s for s in selection if not any(s in (ex.id, ex.notebook) for ex in every)]
    if unknown:
        raise GradingError(f"--exercises: unknown {', '.join(unknown)}; known ids: "
                           f"{', '.join(ex.id for ex in every)} (or a notebook number such as 03).")
    return chosen


def limits_of(timeout: float, wall: float, memory_mb: int) -> tuple[P.KernelLimits, SandboxLimits]:
    """The kernel's limits and the sandbox's, from the options (here or on a Dask worker)."""
    return (P.KernelLimits(cell_timeout=timeout, call_timeout=timeout),
            SandboxLimits(wall_seconds=wall, memory_mb=memory_mb))


def batch_seed(options: GradeOptions) -> int:
    if options.seed is not None:
        return int(options.seed)
    path = options.out / ".seed"
    if path.exists():
        return int(path.read_text().strip())
    seed = secrets.randbits(62)
    gradebook.atomic_write(path, f"{seed}\n")
    path.chmod(0o600)
    return seed


class Progress:
    """A one-line progress bar on a terminal; one line per submission otherwise."""

    def __init__(self, total: int, stream, quiet: bool = False):
        self.total, self.stream, self.quiet = total, stream, quiet
        self.done, self.started = 0, time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.lock = threading.Lock()

    def update(self, label: str) -> None:
        with self.lock:
            self.done += 1
            if self.quiet:
                return
            if self.tty:
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                bar = "#" * filled + "." * (width - filled)
                elapsed = time.monotonic() - self.started
                self.stream.write(f"\rgrading [{bar}] {self.done}/{self.total} "
                                  f"{elapsed:5.0f}s  {label[:40]:<40}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"graded {self.done}/{self.total}: {label}\n")
            self.stream.flush()


NOT_AMONG = "is not among the exercises being graded"


@dataclass
class Lookup:
    """One file as the cache sees it: the notebook, the course notebooks it answers among those
    graded, the results already cached, and what is left to do (``todo``: nothing when every
    result is cached, so that neither a sandbox nor the hidden cases are needed)."""

    key: str | None
    nb: object
    invalid: str | None
    answered: list[str]
    numbers: list[str]
    mine: list
    results: dict
    todo: list
    record: RunRecord | None


def look_up(nb_path: Path, exercises, cache, force: bool = False) -> Lookup:
    """Read ``nb_path`` and find what the cache holds of its grading on ``exercises``."""
    try:
        key = cache.submission_key(nb_path.read_bytes())
    except OSError:
        key = None  # read_notebook says why
    nb, invalid = read_notebook(nb_path)
    answered = answered_notebooks(nb_path, all_exercises(), nb) if nb is not None or key else []
    graded = {ex.notebook for ex in exercises}
    numbers = [n for n in answered if n in graded]
    mine = [ex for ex in exercises if ex.notebook in numbers]
    results = {}
    if key is not None and not force:
        results = {ex.id: r for ex in mine if (r := cache.result(key, ex)) is not None}
    todo = [ex for ex in mine if ex.id not in results]
    record = cache.run(key) if key is not None and not force else None
    return Lookup(key, nb, invalid, answered, numbers, mine, results, todo, record)


def grade_one(nb_path: Path, student: str, exercises, scorer: Scorer, sandbox: Sandbox,
              limits: P.KernelLimits, cache: Cache, force: bool = False,
              report_hints: bool = False) -> SubmissionResult:
    """Grade one file on ``exercises``, running in the sandbox only what the cache lacks.

    What ``--jobs`` runs in each of its threads, and what a Dask worker runs for one task of
    ``--cluster`` (:func:`.cluster.grade_task`, with the client's cache entries in memory)."""
    found = look_up(nb_path, exercises, cache, force)
    key, nb, results, record = found.key, found.nb, found.results, found.record
    to_run = [ex for ex in found.todo if ex.kind != "derivation"]
    raw = SandboxRun(invalid=found.invalid)
    if nb is not None and to_run:
        raw = run_in_sandbox(nb_path, to_run, scorer.cases, sandbox, limits)
        record = run_record(nb, raw)
        if key is not None:
            cache.save_run(key, record)
    for ex in found.todo:
        results[ex.id] = scorer.score_exercise(ex, nb, raw)
        if key is not None:
            cache.save_result(key, ex, results[ex.id])
    record = record or RunRecord()
    flags = {f for r in results.values() for f in r.flags} | set(record.flags)
    notes = list(record.notes)
    if nb is not None and not found.numbers:
        if found.answered:
            graded = {ex.notebook for ex in exercises}
            notes.append(f"notebook {', '.join(found.answered)} {NOT_AMONG} "
                         f"({', '.join(sorted(graded))})")
        else:
            notes.append("no exercise of the course was found in this notebook")
            flags.add("unknown-notebook")
    if report_hints and nb is not None:
        notes += hint_notes(nb, found.mine)
    suspicious = tamper_signs(nb) if nb is not None else []
    if suspicious:
        cells = ", ".join(str(i + 1) for i in suspicious)
        notes.append(f"cells {cells} reach for the grader's machinery; an instructor will look")
        flags.add("tamper-suspected")
    if not sandbox.use_bwrap:
        flags.add("unsandboxed")
    answers = answers_of(nb, found.mine) if nb is not None else {}
    return SubmissionResult(str(nb_path), student, found.numbers, found.invalid, results, notes,
                            sorted(flags), record.seconds, cached=not found.todo,
                            answers=answers)


def hint_notes(nb, exercises) -> list[str]:
    """One note naming the hints asked for in the notebook's code cells, read and never run
    (:func:`emlib.exercises.hints.hints_used`), for the exercises graded; none if none was."""
    used = hints_used(c.source for c in nb.cells if c.cell_type == "code")
    asked = [f"{ex.id} {used[ex.id]} of {len(HINTS[ex.id])}" for ex in exercises if ex.id in used]
    return [f"hints asked for: {', '.join(asked)}"] if asked else []


def run_record(nb, raw: SandboxRun) -> RunRecord:
    """What the run says about the whole notebook: cells that failed, limits that were hit."""
    flags = []
    if raw.timed_out:
        flags.append("wall-clock")
    if raw.channel_problem:
        flags.append("report-rejected")
    if any(c.status == P.DIED for c in raw.cells):
        flags.append("kernel-died")
    if any(c.truncated for c in raw.cells):
        flags.append("output-truncated")
    return RunRecord(notebook_notes(nb, raw), flags, raw.seconds)


def folder_results(found: Submissions) -> list[SubmissionResult]:
    """A result for each student folder with no notebook, or with files that are not notebooks."""
    with_notebooks = {sid for _, sid in found.notebooks}
    out = []
    for student, folder in sorted(found.folders.items()):
        others = found.other_files.get(student, [])
        if student in with_notebooks and not others:
            continue
        notes = [] if student in with_notebooks else [
            f"no notebook (.ipynb) was found in your folder {folder.name}/"]
        out.append(SubmissionResult(str(folder), student, [], None, {}, notes, kind="folder",
                                    other_files=others))
    return out


def columns_of(exercises, results, earlier: list[str], explicit: bool) -> list:
    """The gradebook's exercise columns, in course order: the earlier ones, and those graded now
    (all selected ones if ``--exercises`` was given, else those of the notebooks handed in)."""
    seen = {n for r in results for n in r.notebooks}
    now = {ex.id for ex in exercises if explicit or ex.notebook in seen}
    return [ex for ex in all_exercises() if ex.id in now or ex.id in earlier]


def with_roster(rows, class_roster, columns) -> list[gradebook.StudentRow]:
    """Every roster student gets a row (``missing`` everywhere when nothing was handed in); a
    graded student not on the roster keeps the row, flagged ``not-on-roster``."""
    listed = set(class_roster.ids())
    have = {row.student for row in rows}
    absent = [SubmissionResult("", sid, [], None, {}, kind="roster")
              for sid in class_roster.ids() if sid not in have]
    for row in rows:
        if row.student not in listed and "not-on-roster" not in row.flags:
            row.flags = sorted([*row.flags, "not-on-roster"])
    return sorted(rows + gradebook.merge(absent, columns), key=lambda row: row.student)


def label(res: SubmissionResult) -> str:
    """The progress line of one graded file."""
    got = sum(r.points for r in res.exercises.values())
    most = sum(r.max_points for r in res.exercises.values())
    tag = " (cached)" if res.cached else ""
    return f"{res.student} {Path(res.path).name} {got:g}/{most:g}{tag}"


def grade_here(notebooks, exercises, options: GradeOptions, seed: int, cache: Cache,
               use_bwrap: bool, progress: Progress) -> list[SubmissionResult]:
    """``--jobs N``: N threads of this process, each grading one file at a time."""
    scorer = Scorer(exercises, seed)
    kernel_limits, sandbox_limits = limits_of(options.timeout, options.wall, options.memory_mb)
    sandbox = Sandbox(use_bwrap, sandbox_limits)
    results: list[SubmissionResult] = []
    try:
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            futures = [pool.submit(grade_one, p, s, exercises, scorer, sandbox, kernel_limits,
                                   cache, options.force, options.report_hints)
                       for p, s in notebooks]
            for fut in as_completed(futures):
                res = fut.result()
                results.append(res)
                progress.update(label(res))
    finally:
        sandbox.close()
    return results


def grade(paths, options: GradeOptions, stream=None) -> list[gradebook.StudentRow]:
    """Grade every submission under ``paths`` into ``options.out``; returns the gradebook rows.

    With no ``paths``, nothing is graded: the gradebook is written again from the results of the
    last run into ``options.out`` (``OUT/results.json``), with the marks, late file and roster
    given now or kept from before. Every input file is checked before anything is written.
    """
    stream = sys.stderr if stream is None else stream
    if options.jobs < 1:
        raise GradingError(f"--jobs must be at least 1; got {options.jobs}.")
    if options.cluster is not None:
        from . import cluster

        cluster.check_options(options)

    def warn(message: str) -> None:
        stream.write(f"warning: {message}\n")

    earlier = store.load_results(options.out)
    roster_path = options.roster or kept_file(options.out / ROSTER)
    class_roster = read_roster(roster_path) if roster_path is not None else None
    late_days = late.read_late(options.late) if options.late is not None else None
    marks_path = options.marks or kept_file(earlier.marks) or kept_file(options.out / marks.MARKS)
    hand = marks.read_marks(marks_path) if marks_path is not None else []
    if paths:
        results, columns = grade_submissions(paths, options, earlier, warn, stream)
    else:
        results, columns = regather(options, earlier)
    rows = gradebook.merge(results, columns)
    if class_roster is not None:
        rows = with_roster(rows, class_roster, columns)
    if marks_path is not None:
        marks.check_marks(hand, rows, columns, marks_path)
    late_days = earlier.late if late_days is None else late_days
    percent = next(p for p in (options.late_percent, earlier.late_percent,
                               late.DEFAULT_PERCENT_PER_DAY) if p is not None)
    for row in rows:
        row.days_late, row.late_percent = late_days.get(row.student, 0.0), percent
    unknown = sorted(set(late_days) - {row.student for row in rows})
    if unknown:
        warn(f"--late: no student {', '.join(map(repr, unknown))} in the gradebook; check the ids")
    options.out.mkdir(parents=True, exist_ok=True)
    write_answers(options.out, rows, results, columns)
    marks.apply_marks(rows, hand)
    if roster_path is not None and roster_path.resolve() != (options.out / ROSTER).resolve():
        gradebook.atomic_write(options.out / ROSTER, roster_path.read_bytes())
    gradebook.write_all(options.out, rows, columns)
    kept_marks = str(marks_path.resolve()) if marks_path is not None else None
    store.save_results(options.out, store.Earlier([ex.id for ex in columns], results, late_days,
                                                  percent, kept_marks))
    similarity.after_grading(options.out, results, columns, options.similarity_threshold, warn)
    return rows


def kept_file(path) -> Path | None:
    """``path`` when it names an existing file (a file kept in OUT, or named by the last run)."""
    return Path(path) if path is not None and Path(path).is_file() else None


def regather(options: GradeOptions, earlier: store.Earlier) -> tuple[list, list]:
    """The results and columns of the last run into OUT, for a run given no submission."""
    if not (options.out / store.RESULTS).is_file():
        raise GradingError(f"no SUBMISSION given, and {options.out} holds no {store.RESULTS} of an "
                           f"earlier run. Fix: give the submissions to grade, or the --out folder "
                           f"of an earlier emlib grade.")
    given = [o for o, v in (("--exercises", options.exercises), ("--force", options.force),
                            ("--ids", options.ids)) if v]
    if given:
        raise GradingError(f"{', '.join(given)} without a SUBMISSION: nothing is graded when no "
                           f"submission is given. Fix: give the submissions, or leave out "
                           f"{', '.join(given)}.")
    columns = [ex for ex in all_exercises() if ex.id in earlier.columns]
    return earlier.submissions, columns


def grade_submissions(paths, options: GradeOptions, earlier: store.Earlier, warn,
                      stream) -> tuple[list, list]:
    """Grade the submissions under ``paths`` (the cache spares what it holds); this run's results
    completed by the earlier ones, and the gradebook's exercise columns."""
    found = find_submissions(paths, options.ids, warn)
    exercises = select_exercises(options.exercises)
    check_one_per_notebook(found.notebooks, exercises, options.ids)
    # on a cluster, each worker's sandbox is checked when the client connects
    use_bwrap = resolve_mode(options.sandbox) if options.cluster is None else None
    options.out.mkdir(parents=True, exist_ok=True)
    seed = batch_seed(options)
    cache = Cache(options.out / ".cache",
                  [seed, options.timeout, options.wall, options.memory_mb, options.sandbox])
    progress = Progress(len(found.notebooks), stream, options.quiet)
    if options.cluster is None:
        results = grade_here(found.notebooks, exercises, options, seed, cache, use_bwrap,
                             progress)
    else:
        from . import cluster  # imports batch: only now, and only with --cluster

        results = cluster.grade_on_cluster(found.notebooks, exercises, options, seed, cache,
                                           progress, warn)
    results += folder_results(found)
    results, kept = store.carry_over(earlier.submissions, results, {ex.id for ex in exercises},
                                     NOT_AMONG)
    if kept:
        files = ", ".join(f"{r.student} ({Path(r.path).name})" for r in kept)
        warn(f"the gradebook in {options.out} keeps the earlier results of {len(kept)} file(s) "
             f"not given this time: {files}")
    results.sort(key=lambda r: (r.student, r.kind, r.path))
    return results, columns_of(exercises, results, earlier.columns, bool(options.exercises))
