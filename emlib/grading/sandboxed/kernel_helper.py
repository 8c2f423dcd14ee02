"""The grader's helper inside the student's kernel: call the graded functions, trace, report.

The harness loads this module into the student's kernel *before* the first cell of the notebook
runs (under a random module name), so that it holds the genuine ``open``, ``numpy`` functions and
the genuine forbidden callables even if the notebook later monkeypatches them. After the notebook
ran, the harness sends one short cell per hidden case that calls :func:`Helper.call`, which

- looks the student's symbol up in the notebook's namespace,
- calls a function on a deep copy of the hidden inputs (positionally, like
  :meth:`emlib.exercises.Exercise.run`: that module is not importable here, so the rule is
  restated), with numpy warnings silenced (a warning never costs points) and a profiler that
  records any call into a forbidden callable (``spec.forbidden``),
- writes the output, or what went wrong, as a :class:`~emlib.grading.protocol.CaseReport` in a
  plain-data document (:mod:`.plain_data`) that the harness reads after the cell finished.

The harness loads :mod:`emlib.grading.protocol` and :mod:`.plain_data` from their copies in the
sandbox and hands them to :class:`Helper`: this module imports only the standard library and
numpy.

Nothing here can make a wrong answer right: the expected values and the comparison live only in
the grader's process. The student's code runs in this same process and can tamper with this
helper; doing so can only spoil its own answers, or evade the run-time trace (which is why the
grader also checks the exercise cell statically). A profiler removed during the call is itself
reported.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import io
import os
import sys
import threading
import time
import traceback
import types
import warnings

import numpy as np

_MESSAGE_LIMIT = 300


def _codes_of(obj, seen=None) -> list:
    """Code objects that run when ``obj`` (a function, a class or a wrapper of one) is called."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    codes = []
    if isinstance(obj, type):
        for klass in [obj, *[b for b in obj.__mro__[1:] if b.__module__ == obj.__module__]]:
            for member in vars(klass).values():
                member = getattr(member, "__func__", member)  # classmethod / staticmethod
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    codes += _codes_of(member, seen)
        return codes
    func = getattr(obj, "__func__", obj)
    if inspect.isfunction(func):
        codes.append(func.__code__)
    wrapped = getattr(func, "__wrapped__", None)
    if wrapped is not None:
        codes += _codes_of(wrapped, seen)
    return codes


class _Tracer:
    """A ``sys.setprofile`` hook that records calls into forbidden callables."""

    def __init__(self, forbidden: dict):
        self.codes, self.builtins, self.modules = {}, {}, {}
        for dotted, obj in forbidden.items():
            if obj is None:
                continue
            if isinstance(obj, types.ModuleType):
                self.modules[obj.__name__] = dotted
                continue
            for code in _codes_of(obj):
                self.codes.setdefault(code, dotted)  # the first (canonical) name
            if not _codes_of(obj) and callable(obj):
                self.builtins[id(obj)] = (obj, dotted)
        self.hits: set[str] = set()

    def __call__(self, frame, event, arg):
        if event == "call":
            name = self.codes.get(frame.f_code)
            if name is None and self.modules:
                module = frame.f_globals.get("__name__", "")
                for prefix, dotted in self.modules.items():
                    if module == prefix or module.startswith(prefix + "."):
                        name = dotted
            if name is not None:
                self.hits.add(name)
        elif event == "c_call":
            entry = self.builtins.get(id(arg))
            if entry is not None and entry[0] is arg:
                self.hits.add(entry[1])


class Helper:
    """Created once per kernel by the harness, before the notebook's first cell."""

    def __init__(self, plain_data, protocol, forbidden: dict[str, list[str]]):
        self.plain, self.protocol = plain_data, protocol
        self._inputs: tuple[str, dict] | None = None  # (path, decoded inputs)
        # The genuine objects, captured before any student code runs.
        self._open, self._replace, self._deepcopy = io.open, os.replace, copy.deepcopy
        self._setprofile, self._getprofile = sys.setprofile, sys.getprofile
        self._thread_setprofile = threading.setprofile
        self._catch_warnings, self._simplefilter = warnings.catch_warnings, warnings.simplefilter
        self._errstate, self._monotonic = np.errstate, time.monotonic
        self._isinstance, self._callable = builtins.isinstance, builtins.callable
        self._format_tb = traceback.extract_tb
        ip = getattr(builtins, "get_ipython", lambda: None)()
        self._user_ns = ip.user_ns if ip is not None else sys.modules["__main__"].__dict__
        self._forbidden = {
            ex_id: {name: protocol.resolve(name) for name in names}
            for ex_id, names in forbidden.items()
        }

    # -- reading and writing -------------------------------------------------------------
    def _case(self, inputs_path: str, exercise_id: str, index: int) -> dict:
        if self._inputs is None or self._inputs[0] != inputs_path:
            with self._open(inputs_path, "rb") as fh:
                self._inputs = (inputs_path, self.plain.loads(fh.read()))
        return self._inputs[1][exercise_id][index]

    def _write(self, path: str, report) -> None:
        try:
            data = self.plain.dumps(report.to_wire())
        except Exception as exc:  # not plain data, too large: say so instead of the answer
            report = self.protocol.CaseReport(
                self.protocol.ERROR, ename="NotPlainData", evalue=str(exc)[:_MESSAGE_LIMIT],
                forbidden=report.forbidden, seconds=report.seconds)
            data = self.plain.dumps(report.to_wire())
        with self._open(path + ".part", "wb") as fh:
            fh.write(data)
        self._replace(path + ".part", path)

    # -- one hidden case -----------------------------------------------------------------
    def call(self, exercise_id: str, kind: str, name: str, index: int, n_calls: int,
             seed_argument: str | None, inputs_path: str, out_path: str) -> None:
        """Evaluate one case (inputs read from ``inputs_path``); write its report to ``out_path``."""
        P = self.protocol
        started = self._monotonic()
        fields: dict = {"status": P.OK}
        tracer = _Tracer(self._forbidden.get(exercise_id, {}))
        try:
            if name not in self._user_ns:
                fields = {"status": P.MISSING}
            elif kind == "expression":  # a SymPy answer crosses as its text, read outside
                fields.update(output=P.formula_text(self._user_ns[name]), has_output=True)
            elif kind != "function":
                fields.update(output=self._user_ns[name], has_output=True)
            else:
                fields.update(self._call_function(
                    self._user_ns[name], self._case(inputs_path, exercise_id, index), n_calls,
                    seed_argument, tracer))
        finally:
            report = P.CaseReport(**fields, forbidden=tuple(sorted(tracer.hits)),
                                  seconds=self._monotonic() - started)
            self._write(out_path, report)

    def _call_function(self, func, inputs, n_calls, seed_argument, tracer) -> dict:
        """The :class:`CaseReport` fields of one call (``n_calls`` calls for a distribution)."""
        P = self.protocol
        if not self._callable(func):
            return {"status": P.ERROR, "ename": "TypeError",
                    "evalue": f"{type(func).__name__} object is not a function"}
        cases = []
        for j in range(max(1, n_calls)):
            case = self._deepcopy(dict(inputs))
            if n_calls > 1:
                case[seed_argument] = inputs[seed_argument] + j
            cases.append(list(case.values()))
        if n_calls > 1:  # the first seeds again: a seed must reproduce its result
            cases += self._deepcopy(cases[:min(n_calls, P.SEED_REPEATS)])
        outputs = []
        previous = self._getprofile()
        try:
            with self._catch_warnings():
                self._simplefilter("ignore")
                with self._errstate(all="ignore"):
                    self._setprofile(tracer)
                    self._thread_setprofile(tracer)
                    try:
                        for args in cases:
                            outputs.append(func(*args))
                    finally:
                        tampered = self._getprofile() is not tracer
                        self._setprofile(previous)
                        self._thread_setprofile(None)
        except NotImplementedError:
            return {"status": P.NOT_ATTEMPTED}
        except MemoryError:
            return {"status": P.MEMORY}
        except KeyboardInterrupt:
            return {"status": P.TIMEOUT}
        except BaseException as exc:  # SystemExit too: the student's code, reported as an error
            return {"status": P.ERROR, "ename": type(exc).__name__,
                    "evalue": str(exc)[:_MESSAGE_LIMIT], "where": self._where(exc)}
        return {"output": outputs if n_calls > 1 else outputs[0], "has_output": True,
                "tracer_removed": tampered}

    def _where(self, exc) -> str:
        """The last line of the student's own code in the traceback (not a library's)."""
        try:
            frames = self._format_tb(exc.__traceback__)
        except Exception:
            return ""
        for fr in reversed(frames):
            if "ipykernel_" in fr.filename or fr.filename.startswith("<ipython-input"):
                return f"line {fr.lineno}: {(fr.line or '').strip()[:120]}"
        return ""
