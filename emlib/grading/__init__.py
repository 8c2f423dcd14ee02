"""Grading: the student edition of the notebooks, and the autograder built on the exercises.

:mod:`emlib.grading.student` makes the student edition (``emlib student``); the grader's modules
(sandboxed runner, harness, scorer, gradebook) live beside it.

The grader (``emlib grade``, :mod:`.command`), in the order a submission meets it:
:mod:`.batch` (find submissions, student ids, cache, parallel jobs, progress) ->
:mod:`.runner` (read the notebook, plan the hidden calls) -> :mod:`.sandbox` (bubblewrap,
prlimit, wall clock) -> inside it :mod:`.harness` with :mod:`.inkernel` in the student's kernel,
talking :mod:`.plain` data over :mod:`.channel` -> back outside, :mod:`.score` (references and
comparison, statuses) with :mod:`.integrity` (forbidden calls in the code) -> :mod:`.gradebook`.
"""
