"""The sandbox's wall in the code: what runs inside imports only the standard library, numpy,
nbclient (with its nbformat), the protocol and its own siblings; the grader outside takes nothing
from the kernel helper; the copies in a run directory import on their own, without emlib."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emlib.grading import sandbox, sandboxed

GRADING = Path(sandbox.__file__).resolve().parent
INSIDE = GRADING / "sandboxed"
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "nbclient", "nbformat", "__future__"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import in the file; level > 0 for relative imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and not node.module:  # from . import x / from .. import x
                found += [(node.level, a.name) for a in node.names]
            else:
                found.append((node.level, node.module or ""))
    return found


def test_the_sandboxed_package_holds_exactly_the_files_copied_in():
    on_disk = {p.name for p in INSIDE.glob("*.py")} - {"__init__.py"}
    assert on_disk == set(sandboxed.MODULES)
    assert {p.name for p in sandbox.HARNESS_FILES} == {*sandboxed.MODULES, "protocol.py"}


@pytest.mark.parametrize("name", [*sandboxed.MODULES, "../protocol.py"])
def test_code_that_runs_inside_imports_only_the_standard_library_numpy_and_nbclient(name):
    path = (INSIDE / name).resolve()
    siblings = {Path(m).stem for m in sandboxed.MODULES} | {"protocol"}
    for level, module in _imports(path):
        top = module.split(".")[0]
        if level == 1 or (level == 2 and module == "protocol"):
            assert top in siblings, f"{path.name} imports .{module}, which is not copied in"
            continue
        assert level == 0, f"{path.name} reaches outside the sandboxed code: {'.' * level}{module}"
        assert top in ALLOWED or top in siblings, f"{path.name} imports {module}"


def test_the_grader_outside_takes_nothing_from_the_kernel_helper_or_the_harness():
    for path in GRADING.glob("*.py"):
        for _, module in _imports(path):
            assert "kernel_helper" not in module and "harness" not in module, path.name
    integrity = {m for _, m in _imports(GRADING / "integrity.py")}
    assert not any("sandboxed" in m for m in integrity)


def test_the_copies_in_a_run_directory_import_without_emlib(tmp_path):
    for path in sandbox.HARNESS_FILES:
        shutil.copyfile(path, tmp_path / path.name)
    script = (
        "import sys\n"
        "sys.modules['emlib'] = None  # any import of emlib now fails\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import harness, kernel_helper, plain_data, protocol, report_channel\n"
        "assert harness.P is protocol and report_channel.plain_data is plain_data\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"
