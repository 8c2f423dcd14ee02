"""The autograder, ``emlib grade``, built on the exercises of :mod:`emlib.exercises`.

In the order a submission meets it: :mod:`.command` (the command line) -> :mod:`.batch` (find
submissions, student ids, cache, parallel jobs) -> :mod:`.submission` (read the notebook, plan
its hidden calls) -> :mod:`.sandbox` (bubblewrap, prlimit, wall clock) -> inside it, the
sub-package :mod:`.sandboxed` (the harness, with the kernel helper in the student's kernel,
talking plain data over an authenticated channel) -> back outside, :mod:`.score` (references,
comparison, statuses) with :mod:`.integrity` (forbidden names in the code) -> :mod:`.gradebook`
(with :mod:`.marks`, the marks given by hand). The derivations are read by hand: :mod:`.answers`
keeps what each student wrote, :mod:`.review` (``emlib review``) shows it; :mod:`.bundle`
(``emlib feedback --zip``) bundles the feedback.
:mod:`.protocol` holds what both sides of the wall agree on: exercise ids, statuses, "not
attempted", the plan and the reports.
"""
