"""The sandbox: one process tree per submission, walled in by bubblewrap and capped by prlimit.

With bubblewrap (``bwrap``) the harness and the student's kernel see a read-only file system made
of ``/usr``, the Python installation and its site-packages, a copy of emlib *without* its exercise
specs and grading code (``emlib.exercises`` is a stub whose ``check`` does nothing), and the run
directory (``/sandbox``: the submission, the plan, the harness). The only writable place
is a private, size-limited ``/tmp``. There is no network (a network namespace with loopback
only), no view of other processes (a PID namespace), and ``--die-with-parent``. The source
notebooks, the exercise specs, the other submissions and the home directory do not exist inside.

Inside, ``prlimit`` caps each process's address space (``--memory``), CPU seconds, the number of
processes and the size of a file it writes. The number of processes is counted per user: as root
the sandbox therefore runs as a user id of its own (a random id from 200000 up; ``setpriv``, which
also empties the capability sets), and as any other user in a user namespace of its own. Outside,
a wall-clock timeout kills the whole tree: the sandbox's process group, then (a sweep by an
environment marker) any process of the run that escaped it.

Without bubblewrap (``--sandbox off``, or ``auto`` when ``bwrap`` is missing, which is said loudly),
the same harness runs under the same prlimit caps in a new session, with the stripped copy of
emlib first on ``PYTHONPATH``; but the student's code can then read and write whatever the
grading user can. ``required`` refuses to grade without bubblewrap, and so does ``auto`` when
``EMLIB_REQUIRE_SANDBOX=1``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import sandboxed

MODES = ("auto", "required", "off")
_GRADING = Path(__file__).resolve().parent
# What the harness needs beside it: the modules that run inside, and the protocol they speak.
HARNESS_FILES = (
    *(_GRADING / "sandboxed" / name for name in sandboxed.MODULES),
    _GRADING / "protocol.py",
)
MARKER = "EMLIB_GRADING_RUN"
SANDBOX_LIB = "/grading/lib"
INSTALL_HINT = (
    "install bubblewrap: `sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install "
    "bubblewrap` (Fedora), or run `make setup` as root; then check with `bwrap --version`"
)
_STUB = '''"""emlib.exercises is not available while grading: check() does nothing here, and
symbols() hands out the symbols of an expression exercise (public: the notebook names them)."""

_SYMBOLS = {symbols!r}


def check(*args, **kwargs):
    return None


def symbols(exercise_id):
    import sympy

    found = tuple(sympy.Symbol(name, **assumptions) for name, assumptions in _SYMBOLS[exercise_id])
    return found[0] if len(found) == 1 else found


def __getattr__(name):
    def inactive(*args, **kwargs):
        return None

    return inactive
'''


class SandboxUnavailable(RuntimeError):
    """``--sandbox required`` (or ``EMLIB_REQUIRE_SANDBOX=1``) without a working bubblewrap."""


@dataclass(frozen=True)
class SandboxLimits:
    """Caps for one submission's process tree. ``memory_mb`` is the address space of each
    process (the kernel's own time limits are :class:`~emlib.grading.protocol.KernelLimits`)."""

    wall_seconds: float = 1200.0
    memory_mb: int = 4096
    nproc: int = 64
    fsize_mb: int = 64
    tmp_mb: int = 256

    @property
    def cpu_seconds(self) -> int:
        return int(self.wall_seconds) + 30


@dataclass
class RunOutput:
    stdout: bytes
    stderr: str
    returncode: int | None
    timed_out: bool
    seconds: float


@lru_cache(maxsize=1)
def bubblewrap_problem() -> str | None:
    """None when bubblewrap works here, else why not (in words)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    for tool in ("prlimit",) + (("setpriv",) if os.geteuid() == 0 else ()):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    args = [bwrap, "--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind", "/", "/"]
    if os.geteuid() != 0:
        args.insert(1, "--unshare-user")
    try:
        run = subprocess.run([*args, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run ({exc})"
    if run.returncode != 0:
        return f"bwrap does not run here: {run.stderr.decode(errors='replace').strip()[:300]}"
    return None


def resolve_mode(mode: str) -> bool:
    """Whether to use bubblewrap for ``mode`` ("auto" | "required" | "off"); warns or raises."""
    if mode not in MODES:
        raise ValueError(f"--sandbox {mode!r} is not one of {', '.join(MODES)}.")
    if mode == "off":
        return False
    problem = bubblewrap_problem()
    if problem is None:
        return True
    if mode == "required" or os.environ.get("EMLIB_REQUIRE_SANDBOX") == "1":
        why = "--sandbox required" if mode == "required" else "EMLIB_REQUIRE_SANDBOX=1"
        raise SandboxUnavailable(f"{why}, but {problem}. Fix: {INSTALL_HINT}.")
    warnings.warn(
        f"GRADING WITHOUT A SANDBOX: {problem}. Student code will run with your permissions "
        f"(prlimit caps and timeouts still apply). Fix: {INSTALL_HINT}.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


def _symbols() -> dict:
    """The name and SymPy assumptions of every expression exercise's symbols, as plain data."""
    from ..exercises import all_exercises

    return {ex.id: [(v.name, v.assumptions()) for v in ex.variables]
            for ex in all_exercises() if ex.kind == "expression"}


def _emlib_dir() -> Path:
    return Path(__file__).resolve().parents[1]


class Sandbox:
    """Runs the harness on prepared run directories; ``close()`` removes its shared files."""

    def __init__(self, use_bwrap: bool, limits: SandboxLimits):
        self.use_bwrap, self.limits = use_bwrap, limits
        self.shared = Path(tempfile.mkdtemp(prefix="emlib-grading-"))
        self.shared.chmod(0o755)
        lib = self.shared / "lib" / "emlib"
        shutil.copytree(_emlib_dir(), lib, ignore=shutil.ignore_patterns(
            "exercises", "grading", "*.pyc", "__pycache__"))
        (lib / "exercises").mkdir()
        (lib / "exercises" / "__init__.py").write_text(_STUB.replace("{symbols!r}", repr(_symbols())))
        for path in [self.shared, *self.shared.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        self._running: set[str] = set()  # the run ids of the harnesses running now
        self._stopped = False
        self._lock = threading.Lock()

    def close(self) -> None:
        shutil.rmtree(self.shared, ignore_errors=True)

    def stop(self) -> None:
        """Kill every run still going and start no other (``--cluster``: the batch was
        interrupted); each run returns at once, with what it had reported."""
        with self._lock:
            self._stopped = True
        for _ in range(3):  # a run between its start and its first process: caught next time
            with self._lock:
                running = list(self._running)
            for run_id in running:
                sweep(run_id)
            if not running:
                return
            time.sleep(0.2)

    def prepare(self, run_dir: Path) -> None:
        """Copy the harness into ``run_dir`` (which holds plan.json and the submission)."""
        for path in HARNESS_FILES:
            shutil.copyfile(path, run_dir / path.name)
        run_dir.chmod(0o755)
        for path in run_dir.iterdir():
            path.chmod(0o644)

    def workdir(self, run_dir: Path) -> str:
        return "/tmp/work" if self.use_bwrap else str(run_dir / "work")

    # -- command lines -------------------------------------------------------------------
    def _env(self, run_id: str, tmp: str, extra: dict | None = None) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": tmp, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "student",
            "LOGNAME": "student", "TMPDIR": tmp, "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{tmp}/.matplotlib", "IPYTHONDIR": f"{tmp}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{tmp}/.jupyter/config", "JUPYTER_DATA_DIR": f"{tmp}/.jupyter/data",
            "JUPYTER_RUNTIME_DIR": f"{tmp}/.jupyter/runtime", "JUPYTER_PLATFORM_DIRS": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1", MARKER: run_id,
        }
        # The instructor's choice of BLAS kernels holds inside too (the tests grade under two)
        if os.environ.get("OPENBLAS_CORETYPE"):
            env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
        env.update(extra or {})
        return env

    def _prlimit(self) -> list[str]:
        L = self.limits
        return ["prlimit", f"--as={L.memory_mb * 2**20}", f"--cpu={L.cpu_seconds}",
                f"--nproc={L.nproc}", f"--fsize={L.fsize_mb * 2**20}", "--core=0", "--"]

    def _mounts(self) -> list[tuple[str, str]]:
        """(host path, sandbox path) read-only binds, shallow first."""
        paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, *site.getsitepackages()}
        if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
            paths.add(site.getusersitepackages())
        real = {str(Path(p).resolve()) for p in paths if os.path.isdir(p)}
        # keep the outermost of nested paths; the prefixes hold their site-packages
        outer = sorted(p for p in real if not any(p != q and p.startswith(q + "/") for q in real))
        binds = [(p, p) for p in outer]
        # the stripped copy twice: over the real package (hiding its specs wherever it is) and
        # first on PYTHONPATH (so that it wins over any other installation of emlib)
        binds.append((str(self.shared / "lib" / "emlib"), str(_emlib_dir())))
        binds.append((str(self.shared / "lib"), SANDBOX_LIB))
        return binds

    def bwrap_command(self, run_dir: Path, uid: int) -> list[str]:
        cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        root = os.geteuid() == 0
        if root:
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        else:
            cmd += ["--unshare-user"]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64"):
            host = Path("/") / top
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), str(host)]
        for public in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime"):
            if Path(public).exists():
                cmd += ["--ro-bind", public, public]
        cmd += ["--ro-bind", str(run_dir / "passwd"), "/etc/passwd",
                "--ro-bind", str(run_dir / "group"), "/etc/group"]
        # The private /tmp first: bwrap mounts in order, and a tmpfs mounted after the binds would
        # hide every one of them that lives under /tmp (a clone with its .venv in /tmp, as CI has).
        cmd += ["--perms", "1777", "--size", str(self.limits.tmp_mb * 2**20), "--tmpfs", "/tmp"]
        binds = self._mounts()
        made = {"/", "/usr", "/etc", "/tmp", "/sandbox"}
        for _, dest in binds:
            for parent in reversed(Path(dest).parents):
                p = str(parent)
                inside = any(p == d or p.startswith(d + "/") for _, d in binds if d != dest)
                if p not in made and not inside:
                    cmd += ["--perms", "0755", "--dir", p]
                    made.add(p)
        for src, dest in binds:
            cmd += ["--ro-bind", src, dest]
        cmd += ["--ro-bind", str(run_dir), "/sandbox", "--proc", "/proc", "--dev", "/dev",
                "--chdir", "/tmp"]
        if root:
            cmd += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        else:
            cmd += ["--"]
        return cmd + self._prlimit() + [sys.executable, "-E", "-s", "/sandbox/harness.py", "/sandbox"]

    @staticmethod
    def _write_etc(run_dir: Path, uid: int) -> None:
        gid = uid if os.geteuid() == 0 else os.getegid()
        (run_dir / "passwd").write_text(f"student:x:{uid}:{gid}:student:/tmp:/usr/sbin/nologin\n")
        (run_dir / "group").write_text(f"student:x:{gid}:\n")
        for name in ("passwd", "group"):
            (run_dir / name).chmod(0o644)

    # -- running -------------------------------------------------------------------------
    def run(self, run_dir: Path, key: bytes, inputs: bytes) -> RunOutput:
        """Run the harness on ``run_dir``, giving it the report key and the hidden inputs on its
        standard input; kill everything after ``limits.wall_seconds``."""
        run_id = secrets.token_hex(8)
        if self.use_bwrap:
            uid = 200000 + secrets.randbelow(100000) if os.geteuid() == 0 else os.geteuid()
            self._write_etc(run_dir, uid)
            cmd = self.bwrap_command(run_dir, uid)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            sandbox_env = self._env(run_id, "/tmp", {"PYTHONPATH": SANDBOX_LIB})
            cmd[1:1] = ["--clearenv"] + [a for k, v in sandbox_env.items() for a in ("--setenv", k, v)]
        else:
            work = run_dir / "work"
            work.mkdir(exist_ok=True)
            extra = {"PYTHONPATH": str(self.shared / "lib")}
            env = self._env(run_id, str(work), extra)
            cmd = [*self._prlimit(), sys.executable, "-E", "-s", str(run_dir / "harness.py"),
                   str(run_dir)]
        with self._lock:
            if self._stopped:
                return RunOutput(b"", "the batch was stopped", None, False, 0.0)
            self._running.add(run_id)
        try:
            return _supervise(cmd, env,
                              key.hex().encode() + b"\n" + f"{len(inputs)}\n".encode() + inputs,
                              self.limits.wall_seconds, run_id)
        finally:
            with self._lock:
                self._running.discard(run_id)


def _supervise(cmd, env, stdin: bytes, wall: float, run_id: str) -> RunOutput:
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    out, err = bytearray(), bytearray()
    limit = 1 << 30

    def pump(stream, buf, cap, keep_tail):
        while chunk := stream.read1(1 << 16):
            buf.extend(chunk)
            if len(buf) > cap:
                if keep_tail:
                    del buf[: len(buf) - cap]
                else:
                    _kill(proc)
                    return

    readers = [threading.Thread(target=pump, args=(proc.stdout, out, limit, False), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, err, 65536, True), daemon=True)]
    for t in readers:
        t.start()
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    timed_out = False
    try:
        proc.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
        proc.wait()
    for t in readers:
        t.join(timeout=10)
    sweep(run_id)
    return RunOutput(bytes(out), err.decode("utf-8", "replace"), proc.returncode, timed_out,
                     time.monotonic() - started)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def processes_of(run_id: str) -> list[int]:
    """PIDs of live processes whose environment carries this run's marker."""
    needle = f"{MARKER}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def sweep(run_id: str) -> None:
    """Kill any process of the run that survived its process group (e.g. after ``setsid``)."""
    for pid in processes_of(run_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
