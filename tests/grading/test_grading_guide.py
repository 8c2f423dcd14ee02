"""The instructor's workflow runs as written: the bash block of book/instructor-guide.md (the same
commands as the README's instructor section), in a scratch copy of the repository's layout."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "book" / "instructor-guide.md"
README = REPO / "README.md"


def _bash_blocks(path: Path) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _instructor_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## For instructors", 1)[1].split("\n## ", 1)[0]


def test_the_guide_documents_every_status_flag_and_option():
    from emlib.cli import build_parser
    from emlib.grading.protocol import EXERCISE_STATUSES

    guide = GUIDE.read_text(encoding="utf-8")
    for status in EXERCISE_STATUSES:
        assert f"| `{status}`" in guide or f", `{status}`" in guide, status
    sources = "".join(f.read_text() for f in (REPO / "emlib" / "grading").glob("*.py"))
    flags = set(re.findall(r'flags\.(?:append|add)\(f?"([^"{]+)', sources))
    assert flags >= {"unsandboxed", "forbidden:", "unknown-notebook", "tamper-suspected"}
    for flag in flags:
        assert f"| `{flag}" in guide, flag
    grade = build_parser()._subparsers._group_actions[0].choices["grade"]
    for action in grade._actions:
        for option in action.option_strings:
            if option.startswith("--") and option not in ("--help", "--out"):
                assert f"`{option}" in guide, option


def test_readme_shows_the_guides_workflow():
    block = _bash_blocks(GUIDE)[0]
    assert block in re.findall(r"```bash\n(.*?)```", _instructor_section(), flags=re.S)


@pytest.mark.skipif(not (REPO / "notebooks" / "03_gmm_em.ipynb").exists(),
                    reason="notebook 03 is not written yet")
def test_the_guides_commands_run_as_written(tmp_path):
    (tmp_path / "notebooks").symlink_to(REPO / "notebooks")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    script = "set -euo pipefail\n" + _bash_blocks(GUIDE)[0]
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    header = run.stdout.strip().splitlines()[-3]
    assert header.startswith("id,03.") and header.endswith(",total,maximum,percent,statuses,flags")
    with open(tmp_path / "grades/demo/out/gradebook.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["total"] == "0" and rows["alice"]["statuses"].startswith("not-attempted:")
    assert rows["bob"]["percent"] == "100"
    assert (tmp_path / "grades/demo/out/feedback/alice.html").exists()
    _the_hand_marking_commands_run_as_written(tmp_path, env)


def _the_hand_marking_commands_run_as_written(tmp_path, env):
    """The block of "Hand marking", run on the demonstration's OUT: bob's derivation gets 4."""
    text = GUIDE.read_text(encoding="utf-8").split("## Hand marking", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    run = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    out = tmp_path / "grades/demo/out"
    assert "1 answer(s) remain to be marked by hand" in run.stdout
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert (rows["bob"]["03.tied-cov"], rows["bob"]["percent"]) == ("4", "100")
    assert rows["alice"]["03.tied-cov"] == "manual"
    assert "<strong>Derivation.</strong>" in (out / "review" / "03.tied-cov.html").read_text()
    with zipfile.ZipFile(out / "feedback.zip") as zf:
        assert zf.namelist() == ["alice.html", "bob.html"]
        assert b"marked by hand: complete; the trace step is well argued" in zf.read("bob.html")


def test_the_similarity_section_runs_as_written(tmp_path):
    section = GUIDE.read_text(encoding="utf-8").split("## Similarity report", 1)[1].split("\n## ")[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    (tmp_path / "notebooks").symlink_to(REPO / "notebooks")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    run = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.splitlines()[-1] == "exercise,id_a,id_b,score"  # as the guide says
    page = (tmp_path / "grades/similar-report/similarity.html").read_text()
    assert '<h2 id="01.jensen-gap">' in page and "never a penalty" in page
