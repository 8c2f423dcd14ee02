"""The grader's code that runs inside the sandbox, and nothing else.

Copied into each run directory as flat files beside :mod:`emlib.grading.protocol` (the only other
module they import): :mod:`.harness` runs the notebook with nbclient, :mod:`.kernel_helper` calls
the graded functions inside the student's kernel, :mod:`.plain_data` carries values across the
wall without pickle, and :mod:`.report_channel` authenticates the harness's report. They import
only the standard library, numpy, nbclient (with its nbformat) and each other; a test holds them
to it. The grader reads their documents and frames back with :mod:`.plain_data` and
:mod:`.report_channel`; nothing here ever imports the grader.
"""

MODULES = ("harness.py", "kernel_helper.py", "plain_data.py", "report_channel.py")
