"""``emlib review OUT``: the answers of the derivations found in the submissions, one page per
exercise with every answer escaped and the maths left to the vendored MathJax, and
``OUT/marks.csv`` pre-filled without ever overwriting a mark. Derivations never run in the
sandbox, so the module's one grade run is quick."""

from __future__ import annotations

import io
import shutil

import nbformat
import pytest
from _grading_helpers import HOSTILE_PROOF, derivation_submission, write

from emlib.cli import main
from emlib.grading.answers import course_text, stretch, written_answer
from emlib.grading.batch import GradeOptions, grade
from emlib.grading.layout import GradingError
from emlib.grading.review import render_markdown, review

KL = "01.kl-nonneg"
CODE = "kl_support_bound = float(-np.log(0.4))  # </pre><script>alert(3)</script>"


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    """ann writes a hostile proof and code, bob hands in the notebook as given out, dan's notebook
    lost its check cells, cat is on the roster and hands in nothing."""
    tmp = tmp_path_factory.mktemp("review")
    ann = derivation_submission(HOSTILE_PROOF)
    for cell in ann.cells:
        if cell.source.startswith("kl_support_bound = ..."):
            cell.source = CODE
    write(tmp / "subs" / "ann.ipynb", ann)
    write(tmp / "subs" / "bob.ipynb", derivation_submission())
    dan = derivation_submission("my proof")
    dan.cells = [c for c in dan.cells if "check(" not in c.source]
    write(tmp / "subs" / "01_dan.ipynb", dan)
    (tmp / "roster.csv").write_text("id,name\nbob,Bob <B>\nann,Ann A\ncat,Cat C\n01_dan,Dan D\n")
    grade([tmp / "subs"], GradeOptions(out=tmp / "out", sandbox="off", seed=1, exercises=(KL,),
                                       quiet=True, roster=tmp / "roster.csv"),
          stream=io.StringIO())
    return tmp


@pytest.fixture
def out(graded_once, tmp_path):
    shutil.copytree(graded_once / "out", tmp_path / "out")
    return tmp_path / "out"


@pytest.fixture
def mathjax(tmp_path):
    (tmp_path / "mj").mkdir()
    (tmp_path / "mj" / "tex-svg.js").write_text("/* MathJax 3 */\n")
    (tmp_path / "mj" / "LICENSE").write_text("Apache License 2.0\n")
    return tmp_path / "mj" / "tex-svg.js"


def test_the_answers_of_the_derivations_are_kept_in_out(out):
    import json

    data = json.loads((out / "answers" / f"{KL}.json").read_text())
    assert [s["id"] for s in data["students"]] == ["01_dan", "ann", "bob", "cat"]
    ann = data["students"][1]
    assert ann["status"] == "manual"
    assert ann["answer"] == {"file": "ann.ipynb", "found": True, "markdown": HOSTILE_PROOF,
                             "code": [CODE]}
    assert data["students"][2]["answer"]["markdown"] == ""  # the cell as handed out
    assert data["students"][0]["answer"]["found"] is False
    assert data["prompt"].startswith("### Exercise 4 — KL is never negative")
    assert data["solution"].startswith("**Proof.** Let $S = \\{x : p(x) > 0\\}$.")


def test_each_answer_is_escaped_and_the_students_come_in_roster_order(out, mathjax, capsys):
    assert main(["review", str(out), "--mathjax", str(mathjax)]) == 0
    assert capsys.readouterr().out == (
        f"wrote 1 page(s) in {out / 'review'}/; {out / 'marks.csv'}: 4 row(s) added. Type the "
        f"points there, then: emlib grade --out {out}\n")
    page = (out / "review" / f"{KL}.html").read_text()
    assert page.count("<script") == 2  # MathJax's configuration and MathJax itself
    assert "&lt;script&gt;alert('owned')&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:" not in page.replace("[click](javascript:alert(2))", "")
    assert ("<pre><code>kl_support_bound = float(-np.log(0.4))  # &lt;/pre&gt;&lt;script&gt;"
            "alert(3)&lt;/script&gt;</code></pre>") in page
    assert r"$-\operatorname{KL}(p\,\|\,q) \le \ln \sum_{x \in S} q(x) \le 0$" in page
    assert "<em>weights</em> $a_i b_i$" in page
    assert "<h3>bob (Bob &lt;B&gt;)</h3>" in page
    order = [page.index(f"<h3>{sid} (") for sid in ("bob", "ann", "cat", "01_dan")]
    assert order == sorted(order)
    assert "<strong>Proof.</strong>" in page  # the model solution
    assert "Nothing written: the answer cells are as handed out." in page  # bob
    assert "No answer found (missing)" in page  # cat
    assert "No answer found (manual)" in page  # dan: no cell names the exercise
    assert "status manual; file ann.ipynb; marks.csv line 3" in page


def test_marks_csv_is_prefilled_and_what_was_typed_is_kept(out, mathjax):
    review(out, mathjax)
    assert (out / "marks.csv").read_text() == (
        f"id,exercise,points,comment\nbob,{KL},,\nann,{KL},,\ncat,{KL},,\n01_dan,{KL},,\n")
    typed = f"id,exercise,points,comment\nbob,{KL},0,\"nothing, really\"\nann,{KL},3,ok"
    (out / "marks.csv").write_text(typed)
    pages, added, _ = review(out, mathjax)
    assert added == 2
    assert (out / "marks.csv").read_text() == typed + f"\ncat,{KL},,\n01_dan,{KL},,\n"
    page = pages[0].read_text()
    assert "marks.csv line 2; marked 0: nothing, really" in page
    review(out, mathjax)
    assert (out / "marks.csv").read_text() == typed + f"\ncat,{KL},,\n01_dan,{KL},,\n"


def test_mathjax_is_copied_beside_the_pages_so_they_work_offline(out, mathjax):
    review(out, mathjax)
    assert (out / "review" / "mathjax" / "tex-svg.js").read_bytes() == mathjax.read_bytes()
    assert (out / "review" / "mathjax" / "LICENSE").read_text() == "Apache License 2.0\n"
    page = (out / "review" / f"{KL}.html").read_text()
    assert '<script src="mathjax/tex-svg.js" defer></script>' in page
    assert "macros: {href: ['{#2}', 2], class:" in page  # TeX cannot add links or attributes


def test_without_mathjax_the_pages_show_the_tex_and_the_command_says_so(out, tmp_path, capsys):
    absent = tmp_path / "none" / "tex-svg.js"
    assert main(["review", str(out), "--mathjax", str(absent)]) == 0
    assert capsys.readouterr().err == (
        f"emlib review: warning: MathJax ({absent}) is not there: the pages show the TeX source "
        f"of the maths. Fix: run make book (it vendors MathJax into book/_vendor/), or give "
        f"--mathjax with the path of a copy of MathJax 3's tex-svg.js.\n")
    page = (out / "review" / f"{KL}.html").read_text()
    assert "<script" not in page
    assert "MathJax was not found: the maths shows as TeX." in page


def test_review_needs_the_answers_that_grade_keeps(out, mathjax):
    (out / "answers" / f"{KL}.json").unlink()
    with pytest.raises(GradingError) as exc:
        review(out, mathjax)
    assert str(exc.value) == (f"{out}/answers/{KL}.json is missing or is not the gradebook's. "
                              f"Fix: run emlib grade again with the submissions into {out}.")
    assert not (out / "marks.csv").exists() and not (out / "review").exists()


def test_a_gradebook_without_derivations_has_nothing_to_review(tmp_path, capsys):
    (tmp_path / "gradebook.csv").write_text("id,01.zero-gap,total\nann,2,2\n")
    assert main(["review", str(tmp_path)]) == 0
    assert "is marked by hand: nothing to review" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradebook.csv"]


def test_markdown_is_rendered_safely_and_the_maths_is_kept_as_written():
    html = render_markdown("*a* $x_i * y_i$ and $$\\sum_i a_i < b$$ <b>bold</b> `$c$`")
    assert html == ("<p><em>a</em> $x_i * y_i$ and $$\\sum_i a_i &lt; b$$ &lt;b&gt;bold&lt;/b&gt; "
                    "<code>$c$</code></p>\n")
    assert 'href="javascript' not in render_markdown("[x](javascript:alert(1)) ![i](http://e/i.png)")
    assert "<img" not in render_markdown("![i](http://e/i.png)")


def test_an_answer_is_what_the_student_wrote_between_two_exercises():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [code('check("01.zero-gap", w)'), md("### Exercise 4 — KL is never negative"),
             md("my own proof"), code("x = 1"), code(f'check("{KL}", x)'), md("later text")]
    nb = nbformat.v4.new_notebook(cells=cells)
    assert stretch(nb.cells, KL) == range(1, 4)
    course = course_text(KL)
    assert nb.cells[1].source not in course["cells"]  # not the course's heading word for word
    answer = written_answer(nb, KL)
    assert answer == {"found": True, "markdown": "### Exercise 4 — KL is never negative\n\n"
                      "my own proof", "code": ["x = 1"]}
    nb.cells[1].source = course["prompt"]  # the prompt as handed out is the course's, left out
    assert written_answer(nb, KL)["markdown"] == "my own proof"
    assert written_answer(nbformat.v4.new_notebook(cells=cells[:2]), KL) == {
        "found": False, "markdown": "", "code": []}
