"""The harness: runs one submission inside the sandbox and reports plain data to the grader.

Run as ``python harness.py RUN_DIR`` by :mod:`emlib.grading.sandbox`, next to copies of
:mod:`emlib.grading.protocol`, :mod:`.plain_data`, :mod:`.report_channel` and
:mod:`.kernel_helper` (nothing else of emlib's grading code, and never the exercise specs:
references and comparisons stay in the grader's process). It reads its
:class:`~emlib.grading.protocol.Plan` from ``RUN_DIR/plan.json`` and

1. makes itself non-dumpable, reads the report key and the hidden inputs from its standard
   input, and moves its standard output (the report pipe) to a private descriptor that no child
   inherits;
2. executes every code cell of the notebook with nbclient in a fresh kernel (errors allowed and
   recorded, a time limit per cell, output counted and dropped past a budget);
3. writes the hidden inputs where the kernel can read them — only now, so that no cell of the
   notebook could read them and precompute answers — and, for each exercise and hidden case,
   sends the kernel one short cell that calls the student's function (or reads the value)
   through :mod:`.kernel_helper`, and reads back the plain-data document it wrote;
4. reports the run as authenticated frames (:mod:`.report_channel`) and exits, which tears the sandbox
   (its PID namespace) down with every process the student started.

Why the student cannot forge the report. The student's code runs in the kernel, a child of this
process, as the same user, in the same sandbox; it can write any file it likes in the sandbox's
temporary directory, including a fake "outputs" file, but nothing reads such files as a result:
the report travels on this process's standard output, a pipe whose descriptor is duplicated to a
close-on-exec descriptor before the kernel starts (descriptor 1 then points to a log file), so the
kernel never holds it. Each frame carries an HMAC under a key that arrives on standard input
before the kernel exists; the process is made non-dumpable first, so the kernel (no capabilities)
can neither read this process's memory nor open its descriptors through ``/proc``. The results of
the hidden calls are files the *kernel* writes — those are the student's answers by definition,
and they are judged outside. A kernel that kills this process only truncates the report, which the
grader records as a crash, never as points.

Kernel deaths and hangs. A cell that kills the kernel (``os._exit``, a signal, memory) or hangs
beyond an interrupt is skipped: the kernel is restarted and the notebook run again without it
(at most ``MAX_RESTARTS`` times). A hidden call that kills or hangs the kernel marks that exercise
and the kernel is restarted the same way before the next exercise.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import json
import os
import resource
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

try:  # inside the sandbox the modules sit side by side, outside they are a package
    from .. import protocol as P
    from . import plain_data, report_channel
except ImportError:  # pragma: no cover - exercised inside the sandbox
    import plain_data
    import protocol as P
    import report_channel

KERNEL_NAME = "emlib-grading"
MAX_RESTARTS = 3
PROBE_TIMEOUT = 15
_MEMORY_WORDS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")


class _Client(NotebookClient):
    """nbclient with timeouts that are noticed, replies that are kept and output that is capped."""

    def __init__(self, nb, limits: P.KernelLimits, **kw):
        super().__init__(nb, **kw)
        self.output_limit = limits.max_output_bytes
        self.timed_out, self.reply, self.output_bytes = False, None, 0

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        self.reply = exec_reply
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        self.output_bytes += size
        return None  # only errors and sizes matter to the grader; dropping keeps memory flat


class Session:
    """One notebook in one kernel (restarted as needed), and the calls of the hidden cases."""

    def __init__(self, nb, plan: P.Plan, helper_dir: str, inputs: bytes):
        self.nb, self.limits, self.workdir = nb, plan.limits, plan.workdir
        self.helper_dir, self.inputs = helper_dir, inputs
        self.forbidden = {ex.id: list(ex.forbidden) for ex in plan.exercises if ex.forbidden}
        self.inputs_path: str | None = None
        self.code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        nb.cells.append(nbformat.v4.new_code_cell(""))  # the slot for the grader's own cells
        self.slot = len(nb.cells) - 1
        self.skip: dict[int, P.CellReport] = {}
        self.restarts, self.client, self.kernel_pid = 0, None, None
        self.peak_vm, self.kernel_log = 0, collections.deque(maxlen=200)
        self.module = "_emlib_grading_" + secrets.token_hex(8)
        self.as_limit = resource.getrlimit(resource.RLIMIT_AS)[0]

    # -- the kernel ----------------------------------------------------------------------
    def start(self) -> None:
        limits = self.limits
        probe_cell = self._probe_cell = nbformat.v4.new_code_cell("pass")
        self.client = _Client(
            self.nb, limits, timeout=limits.cell_timeout, allow_errors=True, kernel_name=KERNEL_NAME,
            interrupt_on_timeout=True, record_timing=False, shutdown_kernel="immediate",
            startup_timeout=limits.startup_timeout, iopub_timeout=10, raise_on_iopub_timeout=False,
            error_on_timeout={"ename": "TimeoutError", "evalue": "cell timed out", "traceback": []},
            resources={"metadata": {"path": self.workdir}},
        )
        self.client.timeout_func = lambda cell: PROBE_TIMEOUT if cell is probe_cell else self._timeout
        self._timeout = limits.cell_timeout
        read_end, write_end = os.pipe()
        self.client.create_kernel_manager()
        self.client.start_new_kernel(stdout=write_end, stderr=write_end)
        os.close(write_end)
        threading.Thread(target=self._drain, args=(read_end,), daemon=True).start()
        self.client.start_new_kernel_client()
        self.kernel_pid = getattr(self.client.km.provisioner, "pid", None)
        threading.Thread(target=self._watch_memory, args=(self.kernel_pid,), daemon=True).start()
        setup = (
            "def _emlib_setup():\n"
            "    import importlib.util, sys\n"
            "    def load(name, path):\n"
            "        spec = importlib.util.spec_from_file_location(name, path)\n"
            "        mod = sys.modules[name] = importlib.util.module_from_spec(spec)\n"
            "        spec.loader.exec_module(mod)\n"
            "        return mod\n"
            f"    plain = load({self.module + '_plain'!r}, {self.helper_dir + '/plain_data.py'!r})\n"
            f"    words = load({self.module + '_protocol'!r}, {self.helper_dir + '/protocol.py'!r})\n"
            f"    helper = load({self.module!r}, {self.helper_dir + '/kernel_helper.py'!r})\n"
            f"    sys.modules[{self.module!r}] = helper.Helper(plain, words, {self.forbidden!r})\n"
            "_emlib_setup()\n"
            "del _emlib_setup\n"
        )
        outcome = self.run_source(setup, self.limits.cell_timeout, history=False)
        if outcome.status != P.OK:
            raise RuntimeError(f"the grading helper did not start in the kernel: {outcome}")

    def stop(self) -> None:
        if self.client is not None and self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # a kernel that is already gone
                pass
        self.client = None

    def restart(self) -> bool:
        self.stop()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            return False
        self.start()
        return True

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as fh:
            for line in fh:
                self.kernel_log.append(line[:400].decode("utf-8", "replace"))

    def _watch_memory(self, pid) -> None:
        while pid is not None:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmPeak:"):
                    self.peak_vm = max(self.peak_vm, int(line.split()[1]) * 1024)
            time.sleep(0.1)

    def death_cause(self) -> str:
        """"memory" when the dead kernel was at its address-space limit or said so, else "crashed".

        At the limit: its peak virtual size (polled) reached 90% of the limit, or the peak
        resident size of the reaped kernel (``RUSAGE_CHILDREN``) reached 80% of it.
        """
        time.sleep(0.2)  # let the client reap the kernel, so that its rusage is counted
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        limited = self.as_limit != resource.RLIM_INFINITY
        near_limit = limited and (self.peak_vm >= 0.9 * self.as_limit or rss >= 0.8 * self.as_limit)
        said_so = any(w in line for line in self.kernel_log for w in _MEMORY_WORDS)
        return P.MEMORY if near_limit or said_so else P.CRASHED

    # -- cells ---------------------------------------------------------------------------
    def run_source(self, source: str, timeout: float, history: bool = False,
                   index: int | None = None) -> P.CellReport:
        """Execute one cell: ``nb.cells[index]``, or ``source`` in the grader's own slot."""
        c = self.client
        cell = c.nb.cells[index] if index is not None else nbformat.v4.new_code_cell(source)
        if index is None:
            c.nb.cells[self.slot], index = cell, self.slot
        c.timed_out, c.reply, c.output_bytes, self._timeout = False, None, 0, timeout
        try:
            c.execute_cell(cell, index, store_history=history)
        except DeadKernelError:
            return P.CellReport(index, P.DIED, cause=self.death_cause())
        except CellTimeoutError:
            c.timed_out = True
        except Exception as exc:  # a kernel whose messages no longer make sense: treat it as dead
            return P.CellReport(index, P.DIED, cause=P.CRASHED, ename=type(exc).__name__,
                                evalue=str(exc)[:P.TEXT_LIMIT])
        out = P.CellReport(index, P.OK, output_bytes=c.output_bytes,
                           truncated=c.output_bytes > c.output_limit)
        if c.timed_out:
            return dataclasses.replace(out, status=P.TIMEOUT, stuck=self.run_probe() != "ok")
        if c.reply is not None and c.reply["content"].get("status") == "error":
            content = c.reply["content"]
            return dataclasses.replace(out, status=P.ERROR,
                                       ename=str(content.get("ename", ""))[:100],
                                       evalue=str(content.get("evalue", ""))[:P.TEXT_LIMIT])
        return out

    def run_probe(self) -> str:
        c = self.client
        c.nb.cells[self.slot] = self._probe_cell
        c.timed_out = False
        try:
            c.execute_cell(self._probe_cell, self.slot, store_history=False)
        except (DeadKernelError, CellTimeoutError):
            return "dead"
        return "stuck" if c.timed_out else "ok"

    def run_cells(self) -> list[P.CellReport]:
        """Run every code cell not skipped; restart without any cell that kills or hangs the kernel."""
        while True:
            reports, broke = [], None
            for i in self.code_cells:
                if i in self.skip:
                    reports.append(dataclasses.replace(self.skip[i], skipped=True))
                    continue
                if not self.nb.cells[i].source.strip():
                    continue
                r = self.run_source("", self.limits.cell_timeout, history=True, index=i)
                reports.append(r)
                if r.status == P.DIED or r.stuck:
                    broke = i
                    break
            if broke is None:
                return reports
            self.skip[broke] = reports[-1]
            if not self.restart():
                return reports + [P.CellReport(j, P.NOT_RUN) for j in self.code_cells if j > broke]

    # -- hidden cases --------------------------------------------------------------------
    def publish_inputs(self) -> None:
        """Hand the hidden inputs to the kernel, now that the notebook has run (not before, so
        that no cell of the notebook can read them)."""
        self.withdraw_inputs()
        self.inputs_path = f"{self.workdir}/.calls/{secrets.token_hex(12)}.inputs.npz"
        Path(self.inputs_path).write_bytes(self.inputs)

    def withdraw_inputs(self) -> None:
        if self.inputs_path is not None:
            Path(self.inputs_path).unlink(missing_ok=True)
            self.inputs_path = None

    def call(self, ex: P.ExercisePlan, index: int) -> _Call:
        """One hidden case of ``ex``, called in the kernel through the helper."""
        out_path = f"{self.workdir}/.calls/{secrets.token_hex(12)}.npz"
        source = (
            f"__import__('sys').modules[{self.module!r}].call({ex.id!r}, {ex.kind!r}, "
            f"{ex.name!r}, {index}, {ex.n_calls}, {ex.seed_argument!r}, "
            f"{self.inputs_path!r}, {out_path!r})"
        )
        r = self.run_source(source, self.limits.call_timeout)
        if r.status == P.DIED:
            report = P.CaseReport(r.cause, evalue="the kernel died during this call")
            return _Call(report, stop=True, restart=True)
        if r.status == P.TIMEOUT:
            return _Call(P.CaseReport(P.TIMEOUT), stop=True, restart=r.stuck)
        try:
            data = Path(out_path).read_bytes()
            Path(out_path).unlink()
            report = P.CaseReport.from_wire(plain_data.loads(data))
        except (OSError, plain_data.PlainDataError) as exc:
            why = f"{r.ename}: {r.evalue}" if r.status == P.ERROR else str(exc)
            report = P.CaseReport(P.ERROR, ename="GradingHelperError",
                                  evalue=f"the grader could not read this answer ({why[:200]})")
            return _Call(report)
        # out of memory: the next cases would exhaust it the same way
        return _Call(report, stop=report.status == P.MEMORY)


@dataclasses.dataclass(frozen=True)
class _Call:
    """A hidden call's report, and whether to skip the exercise's other cases (and restart)."""

    report: P.CaseReport
    stop: bool = False
    restart: bool = False


def _set_non_dumpable() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _kernelspec(root: Path) -> None:
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "emlib grading", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(root)


def _kill_others() -> None:
    """Inside the sandbox's PID namespace: end every process but PID 1 (bwrap) and this one."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in (1, os.getpid()):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def main(run_dir: str) -> int:
    _set_non_dumpable()
    stdin = sys.stdin.buffer
    key = bytes.fromhex(stdin.readline().strip().decode())
    inputs = stdin.read(int(stdin.readline()))  # the hidden inputs: never a file in the sandbox
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    report_fd = os.dup(1)  # close-on-exec: the kernel never inherits the report pipe
    plan = P.Plan.from_wire(json.loads(Path(run_dir, "plan.json").read_text()))
    workdir = Path(plan.workdir)
    (workdir / ".calls").mkdir(parents=True, exist_ok=True)
    log = os.open(workdir / ".harness.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    writer = report_channel.FrameWriter(report_fd, key)
    _kernelspec(workdir / ".jupyter")
    try:
        nb = nbformat.read(str(Path(run_dir, "submission.ipynb")), as_version=4)
    except Exception as exc:  # the grader checked it already; a race must not crash the report
        writer.send("notebook", P.NotebookReport(False, str(exc)[:P.TEXT_LIMIT]).to_wire())
        writer.send("done", P.DoneReport().to_wire())
        return 0
    session = Session(nb, plan, run_dir, inputs)
    try:
        session.start()
        cells = session.run_cells()
        writer.send("notebook", P.NotebookReport(True, "", tuple(cells), session.restarts).to_wire())
        session.publish_inputs()
        for ex in plan.exercises:
            writer.send("result", P.ExerciseReport(ex.id, tuple(_call_cases(session, ex))).to_wire())
    except Exception as exc:
        writer.send("failure", P.FailureReport(f"{type(exc).__name__}: {str(exc)[:500]}").to_wire())
    finally:
        session.stop()
        if plan.pid_namespace:
            _kill_others()
        tail = "".join(list(session.kernel_log)[-40:])[-8000:]
        writer.send("done", P.DoneReport(tail, session.peak_vm).to_wire())
    return 0


def _call_cases(session: Session, ex: P.ExercisePlan) -> list[P.CaseReport]:
    """Every hidden case of one exercise; after one that hangs, crashes or exhausts the kernel,
    the rest are reported the same way without being run (they would do the same)."""
    cases: list[P.CaseReport] = []
    for index in range(ex.n_cases):
        if session.client is None:
            cases.append(P.CaseReport(P.CRASHED, evalue="the kernel could not be restarted"))
            continue
        call = session.call(ex, index)
        cases.append(call.report)
        if call.stop:
            rest = ex.n_cases - index - 1
            cases += [P.CaseReport(call.report.status, evalue="not run")] * rest
            session.withdraw_inputs()
            if call.restart and session.restart():
                session.run_cells()
            session.publish_inputs()
            break
    return cases


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
