"""A class of four students on notebook 01, for the instructor's guide's "The whole loop".

::

    python book/demo_class.py --student student --out grades/loop

``--student`` is the student edition (``emlib student notebooks --out student``). It writes
``OUT/roster.csv`` and, in ``OUT/submissions/``, the notebooks of three of the four students:

- **alice** answers every exercise as the course's solutions do, and writes her own proof of
  (1.5), the derivation an instructor marks by hand;
- **bob** writes ``log_jensen_gap`` his own way (a loop), picks a wrong set in Exercise 2, states
  Jensen's gap of x² without its weights, and leaves the rest untouched;
- **carol** hands in bob's notebook with his names and comments changed: the similarity report
  pairs the two;
- **dave** is on the roster and hands in nothing.

Every notebook is the student edition with cells filled in, as a student's would be; nothing is
run here.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path

NOTEBOOK = "01_jensen.ipynb"
SOURCE = Path(__file__).resolve().parents[1] / "notebooks" / NOTEBOOK

ROSTER = """\
id,name,email,lms_id,section
alice,Alice Martin,alice@example.org,10234,A
bob,Bob Okafor,bob@example.org,10235,A
carol,Carol Lindqvist,carol@example.org,10236,B
dave,Dave Tanaka,dave@example.org,10237,B
"""

ALICE_PROOF = r"""*Your proof* (double-click this cell to write it):

On $S = \{x : p(x) > 0\}$, $-\operatorname{KL}(p\,\|\,q) = \sum_{x \in S} p(x) \ln \frac{q(x)}{p(x)}$.
By Jensen's inequality (1.4) for the concave $\ln$,
$$
\sum_{x \in S} p(x) \ln \frac{q(x)}{p(x)} \le \ln \sum_{x \in S} q(x) \le \ln 1 = 0,
$$
so $\operatorname{KL}(p\,\|\,q) \ge 0$. Equality needs both steps to be equalities: $q/p$ constant
on $S$, and $q$ summing to one on $S$, hence $q = p$.
"""

BOB_GAP = '''def log_jensen_gap(weights, points):
    # ln E[X] - E[ln X], one term at a time
    mean = 0.0
    mean_of_logs = 0.0
    for w, x in zip(weights, points):
        mean = mean + w * x
        mean_of_logs = mean_of_logs + w * np.log(x)
    return float(np.log(mean) - mean_of_logs)'''

BOB = {"log_jensen_gap": BOB_GAP, "gap_nonnegative": 'gap_nonnegative = {"a", "d"}',
       "square_gap": 'square_gap = "(x - y)**2"'}

# Carol's copy of bob's code: other names, another comment, the same program.
CAROL_NAMES = {"mean_of_logs": "avg_log", "mean": "avg", "w": "prob", "x": "value",
               "# ln E[X] - E[ln X], one term at a time": "# the gap of -ln, summed by hand"}


def answer_name(source: str) -> str | None:
    """The name a student's answer cell defines: ``def NAME(`` or ``NAME = ``."""
    found = re.match(r"def (\w+)\(|(\w+) = ", source)
    return (found.group(1) or found.group(2)) if found else None


def course_answers(source_nb: dict) -> dict[str, str]:
    """Each answer cell of the course's notebook, its solution markers taken out."""
    answers = {}
    for cell in source_nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and "SOLUTION" in text and answer_name(text):
            lines = [line.split("  # SOLUTION")[0] for line in text.splitlines()
                     if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")]
            answers[answer_name(text)] = "\n".join(lines)
    return answers


def filled(student_nb: dict, answers: dict[str, str], proof: str | None = None) -> dict:
    """The student edition with the answer cells named in ``answers`` (and the proof) written."""
    nb = copy.deepcopy(student_nb)
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and answer_name(text) in answers:
            cell["source"] = answers[answer_name(text)].splitlines(keepends=True)
        elif proof is not None and text.startswith("*Your proof*"):
            cell["source"] = proof.splitlines(keepends=True)
    return nb


def renamed(code: str, names: dict[str, str]) -> str:
    """``code`` with each whole word (or comment) of ``names`` replaced, longest first."""
    for old in sorted(names, key=len, reverse=True):
        pattern = re.escape(old) if old.startswith("#") else rf"\b{re.escape(old)}\b"
        code = re.sub(pattern, names[old], code)
    return code


def write_class(student: Path, out: Path) -> list[Path]:
    """Write the roster and the three notebooks; returns the notebooks written."""
    edition = student / NOTEBOOK
    if not edition.is_file():
        raise SystemExit(f"demo_class: no {NOTEBOOK} in --student {student}. Fix: write the "
                         f"student edition first: emlib student notebooks --out {student}")
    student_nb = json.loads(edition.read_text(encoding="utf-8"))
    source_nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    carol = {**BOB, "log_jensen_gap": renamed(BOB_GAP, CAROL_NAMES)}
    notebooks = {"alice": filled(student_nb, course_answers(source_nb), ALICE_PROOF),
                 "bob": filled(student_nb, BOB), "carol": filled(student_nb, carol)}
    (out / "submissions").mkdir(parents=True, exist_ok=True)
    (out / "roster.csv").write_text(ROSTER, encoding="utf-8")
    written = []
    for sid, nb in notebooks.items():
        path = out / "submissions" / f"{sid}.ipynb"
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", type=Path, required=True,
                        help="the folder of the student edition (emlib student ... --out)")
    parser.add_argument("--out", type=Path, required=True, help="the folder of the demo class")
    args = parser.parse_args(argv)
    written = write_class(args.student, args.out)
    print(f"wrote {args.out / 'roster.csv'} (4 students) and {len(written)} submissions in "
          f"{args.out / 'submissions'}/ (dave handed in nothing)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
