"""Grading: the student edition of the notebooks, and the autograder built on the exercises.

:mod:`emlib.grading.student` makes the student edition (``emlib student``); the grader's modules
(sandboxed runner, harness, scorer, gradebook) live beside it.
"""
