"""Hidden lines are released on purpose, one class at a time: until `make publish`, every channel shows a
hidden line's status and points but not its details. Publishing regenerates the kit's HTML and
Gradescope results of the folder it names (OUT), or nbgrader's class (NBGRADER=1) and nothing else; a
later regrade of a published kit folder stays published, and a published nbgrader class stays published
through `make feedback` and `make autograde` (the course folder remembers it). nbgrader's feedback text
is the kit's: reproducers as code blocks, graded names in the headers, a page for `.py`-only students."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from autograder import cli
from autograder.grading.rubric import load_rubric
from autograder.reporters import write_all
from autograder.reporters.visibility import HIDDEN_FEEDBACK
from autograder.tasks import nbgrader_feedback
from autograder.tasks.nbgrader_course import PUBLISHED_FILE, mark_nbgrader_published, nbgrader_published
from autograder.tasks.nbgrader_plugin import KitFeedback, KitGrades, cell_html, cell_text
from autograder.tasks.publish import publish_folder
from tests.reporters.records import SECRET, build_record

A = "02_optimizers"
REPRO = "```python\nimport torch\nx = torch.ones(3)  # " + "a long line " * 20 + "\nprint('got:', x < 2)\n```"


def secret_class(folder, rubric, student="s001"):
    hidden = next(line for line in rubric.lines if line.visibility == "hidden")
    record = build_record(rubric, student, {hidden.id: "failed"}, feedback={hidden.id: f"expected {SECRET}"})
    write_all([record], rubric, folder, {student: 1.0}, {"jobs": 1})
    return record, hidden


def shows_details(folder, student="s001") -> bool:
    """Whether the student's files in a kit folder show the hidden line's details: on the page, and in
    the Gradescope test of the line itself (until then only an after_published companion holds them)."""
    page = SECRET in (folder / f"feedback/{student}.html").read_text()
    tests = json.loads((folder / f"results/{student}/results.json").read_text())["tests"]
    visible = any(SECRET in t["output"] for t in tests if t["visibility"] == "visible")
    assert page == visible, "the kit's page and Gradescope's results disagree"
    return page


def test_publish_shows_the_hidden_details_in_the_kit_outputs(tmp_path):
    rubric = load_rubric(A)
    record, hidden = secret_class(tmp_path, rubric)
    assert SECRET not in (tmp_path / "feedback/s001.html").read_text()
    assert publish_folder(tmp_path, A) == 1
    assert SECRET in (tmp_path / "feedback/s001.html").read_text()
    tests = {t["name"]: t for t in json.loads((tmp_path / "results/s001/results.json").read_text())["tests"]}
    assert SECRET in tests[hidden.id]["output"] and tests[hidden.id]["visibility"] == "visible"
    assert json.loads((tmp_path / "run.json").read_text())["published"] is True
    assert json.loads((tmp_path / "s001.json").read_text()) == record  # the records are not touched


def test_publish_refuses_a_folder_of_another_assignment(tmp_path, capsys):
    secret_class(tmp_path, load_rubric(A))
    assert cli.main(["publish", "--assignment", "03_regularization", "--out", str(tmp_path)]) == 2
    assert "not grades of 03_regularization" in capsys.readouterr().err


def test_publish_with_nothing_graded_says_what_to_do(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert cli.main(["publish", "--assignment", A, "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nothing graded for 02_optimizers yet" in err and "NBGRADER=1" in err
    assert cli.main(["publish", "--assignment", A, "--nbgrader", "--course", str(tmp_path)]) == 2
    assert f"make autograde ASSIGNMENT={A} first" in capsys.readouterr().err
    assert not nbgrader_published(tmp_path, A)  # nothing to publish: nothing remembered


def test_a_regrade_of_a_published_class_stays_published(tmp_path):
    sub = tmp_path / "c" / "ann.py"
    sub.parent.mkdir()
    sub.write_text("X = 1\n")  # every line `missing`: hidden ones say so only once published
    out = tmp_path / "out"
    assert cli.main(["grade", "--quiet", "--assignment", A, str(sub), "--out", str(out)]) == 0
    page = (out / "feedback/ann.html").read_text()
    assert HIDDEN_FEEDBACK in page
    assert cli.main(["publish", "--assignment", A, "--out", str(out)]) == 0
    published = (out / "feedback/ann.html").read_text()
    # every line's message shown: once per graded name, the name's other lines pointing to it
    rubric = load_rubric(A)
    assert HIDDEN_FEEDBACK not in published
    assert published.count("is not defined in your submission") == len(rubric.graded_names)
    assert published.count("The same message as under") == len(rubric.lines) - len(rubric.graded_names)
    assert cli.main(["grade", "--quiet", "--assignment", A, str(sub), "--out", str(out)]) == 0
    assert (out / "feedback/ann.html").read_text() == published


# --- what publishing touches ------------------------------------------------------------------------


@pytest.fixture
def course(tmp_path, monkeypatch):
    """An nbgrader course with a real class of A (nbgrader's: an autograded notebook and make autograde's
    kit folder; the kit's: grades/A/) and a one-student trial folder outside it. nbgrader's converter
    is replaced by a recorder: what matters here is whether it runs, and published or not."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    rubric = load_rubric(A)
    secret_class(course / "grades" / A, rubric, "ann")
    secret_class(course / "grades" / "nbgrader" / A, rubric, "ann")
    (course / "autograded" / "ann" / A).mkdir(parents=True)
    (course / "autograded" / "ann" / A / f"{A}.ipynb").write_text("{}")
    (course / "submitted" / "ann" / A).mkdir(parents=True)
    (course / "submitted" / "ann" / A / f"{A}.ipynb").write_text("{}")
    secret_class(tmp_path / "trial", rubric, "tess")
    runs = []

    def recorder(converter_cls, config, assignment):
        runs.append((converter_cls.__name__, assignment, config.KitFeedback.published))

    monkeypatch.setattr(nbgrader_feedback, "run_converter", recorder)
    return course, tmp_path / "trial", runs


def test_publish_out_publishes_that_folder_and_nothing_else(course, capsys):
    course, trial, runs = course
    assert cli.main(["publish", "--assignment", A, "--out", str(trial), "--course", str(course)]) == 0
    assert shows_details(trial, "tess")
    assert runs == []  # nbgrader's pages of the real class were not regenerated
    assert not nbgrader_published(course, A) and not (course / PUBLISHED_FILE).exists()
    for folder in (course / "grades" / A, course / "grades" / "nbgrader" / A):
        assert not shows_details(folder, "ann")
        assert json.loads((folder / "run.json").read_text()).get("published") is not True
    assert "nbgrader" not in capsys.readouterr().out


def test_publish_without_out_publishes_the_default_kit_folder_only(course):
    course, trial, runs = course
    assert cli.main(["publish", "--assignment", A, "--course", str(course)]) == 0
    assert shows_details(course / "grades" / A, "ann")
    assert not shows_details(course / "grades" / "nbgrader" / A, "ann")
    assert runs == [] and not nbgrader_published(course, A)


def test_publishing_nbgrader_is_explicit_and_remembered(course):
    course, trial, runs = course
    assert cli.main(["publish", "--assignment", A, "--nbgrader", "--course", str(course)]) == 0
    assert runs == [("GenerateFeedback", A, True)]
    assert nbgrader_published(course, A)
    assert shows_details(course / "grades" / "nbgrader" / A, "ann")  # make autograde's folder
    assert not shows_details(course / "grades" / A, "ann")  # another class: not asked for
    assert not shows_details(trial, "tess")
    # make feedback afterwards keeps nbgrader's class published
    assert cli.main(["feedback", "--assignment", A, "--course", str(course)]) == 0
    assert runs[-1] == ("GenerateFeedback", A, True)


def test_make_feedback_withholds_hidden_details_until_published(course):
    course, _, runs = course
    assert cli.main(["feedback", "--assignment", A, "--course", str(course)]) == 0
    assert runs == [("GenerateFeedback", A, False)]


def test_a_python_only_student_gets_the_kits_page_where_nbgrader_puts_pages(course, capsys):
    course, _, runs = course
    rubric = load_rubric(A)
    folder = course / "submitted" / "eve" / A
    folder.mkdir(parents=True)
    (folder / "optimizers.py").write_text("X = 1\n")
    (folder / "timestamp.txt").write_text("2024-05-01 10:00:00\n")
    # make autograde's kit folder holds ann and eve
    hidden = next(line for line in rubric.lines if line.visibility == "hidden")
    records = [build_record(rubric, s, {hidden.id: "failed"}, feedback={hidden.id: f"expected {SECRET}"})
               for s in ("ann", "eve")]
    write_all(records, rubric, course / "grades" / "nbgrader" / A, {"ann": 1.0, "eve": 1.0}, {"jobs": 1})
    assert cli.main(["feedback", "--assignment", A, "--course", str(course)]) == 0
    page = course / "feedback" / "eve" / A / f"{A}.html"
    assert page.is_file() and "1 students who handed in a .py file only" in capsys.readouterr().out
    text = page.read_text()
    assert "<html" in text and hidden.id in text and SECRET not in text and HIDDEN_FEEDBACK in text
    assert (page.parent / "timestamp.txt").read_text() == "2024-05-01 10:00:00\n"
    assert not (course / "feedback" / "ann").exists()  # ann has a notebook: nbgrader writes hers
    assert cli.main(["publish", "--assignment", A, "--nbgrader", "--course", str(course)]) == 0
    assert SECRET in page.read_text()


# --- nbgrader's feedback text ------------------------------------------------------------------------


def graded_cell(name: str, items: list[dict], rubric) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("check()")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": f"test_{name}", "points": 1}
    cell.metadata["kit"] = {"items": items}
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=cell_text(items, rubric, published=False)),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1.0"}, execution_count=None),
    ]
    return cell




def shown(nb) -> tuple[str, str]:
    """The HTML and the plain text KitFeedback wrote into the first cell."""
    data = nb.cells[0].outputs[0].data
    return data["text/html"], data["text/plain"]


def test_nbgrader_feedback_text_withholds_hidden_details_until_published(tmp_path):
    rubric = load_rubric(A)
    hidden = next(line for line in rubric.lines if line.visibility == "hidden")
    name = hidden.name
    record = build_record(rubric, "ann", {hidden.id: "failed"}, feedback={hidden.id: f"expected {SECRET}"})
    items = [i for i in record["items"] if i["id"].startswith(f"{name}.")]
    resources = {"nbgrader": {"assignment": A, "student": "ann"}}
    config = Config({"CourseDirectory": {"root": str(tmp_path)}})  # a course that is not published
    nb = nbformat.v4.new_notebook(cells=[graded_cell(name, items, rubric)])
    html, text = shown(KitFeedback(config=config).preprocess(nb, resources)[0])
    assert SECRET not in html + text and HIDDEN_FEEDBACK in html and f"{hidden.id} (hidden): failed" in text
    assert nb.cells[0].outputs[1].data["text/plain"] == "1.0"  # the points nbgrader reads are untouched
    nb = nbformat.v4.new_notebook(cells=[graded_cell(name, items, rubric)])
    html, text = shown(KitFeedback(config=config, published=True).preprocess(nb, resources)[0])
    assert SECRET in html and f"{hidden.id} (hidden): failed (0/" in text
    # once the course says so (make publish ... NBGRADER=1), a plain generate_feedback shows them too
    mark_nbgrader_published(tmp_path, A)
    nb = nbformat.v4.new_notebook(cells=[graded_cell(name, items, rubric)])
    html, _ = shown(KitFeedback(config=config).preprocess(nb, resources)[0])
    assert SECRET in html and HIDDEN_FEEDBACK not in html


def test_nbgrader_feedback_text_lists_what_failed_first():
    rubric = load_rubric(A)
    name = rubric.graded_names[0]
    lines = [line for line in rubric.lines if line.name == name]
    last = lines[-1]
    record = build_record(rubric, "ann", {last.id: "failed"}, feedback={last.id: "got 2.0, expected 1.0"})
    text = cell_text([i for i in record["items"] if i["id"].startswith(f"{name}.")], rubric, published=True)
    assert text.index(f"{last.id}") < text.index(f"{lines[0].id}: passed")
    assert text.count(": passed (") == len(lines) - 1 and "got 2.0, expected 1.0" in text


def test_nbgrader_feedback_shows_reproducers_as_code_blocks():
    rubric = load_rubric(A)
    line = next(line for line in rubric.lines if line.visibility == "visible")
    feedback = f"the update differs <b>here</b>: got 1.5\nTo see it yourself, run this:\n{REPRO}"
    record = build_record(rubric, "ann", {line.id: "failed"}, feedback={line.id: feedback})
    items = [i for i in record["items"] if i["id"].startswith(f"{line.name}.")]
    html = cell_html(items, rubric, published=False)
    assert "```" not in html and "<b>here</b>" not in html and "&lt;b&gt;here&lt;/b&gt;" in html
    code = re.search(r'<pre class="kit-code"><code>(.*?)</code></pre>', html, re.S)
    assert code and code.group(1).startswith("import torch\n") and "a long line " * 20 in code.group(1)
    assert "x &lt; 2" in code.group(1)  # escaped, whole: no line clipped, no indentation added
    prose = "the update differs &lt;b&gt;here&lt;/b&gt;: got 1.5\nTo see it yourself, run this:"
    assert f'<p class="kit-text">{prose}</p>' in html  # wrapped text (pre-wrap keeps the line break)
    assert f"<code>{line.id}</code>: <span class=\"kit-status\">wrong result</span>" in html


def test_the_feedback_template_wraps_code_and_names_each_test_cell():
    rubric = load_rubric(A)
    line = next(line for line in rubric.lines if line.visibility == "visible")
    record = build_record(rubric, "ann", {line.id: "failed"}, feedback={line.id: REPRO})
    cells = [graded_cell(name, [i for i in record["items"] if i["id"].startswith(f"{name}.")], rubric)
             for name in rubric.graded_names]
    for cell in cells:
        cell.metadata["nbgrader"].update(score=1.0, points=1.0)
    nb = nbformat.v4.new_notebook(cells=cells)
    resources = {"nbgrader": {"assignment": A, "student": "ann", "notebook": A, "score": 1.0,
                              "max_score": 4.0, "late_penalty": 0}}
    nb, resources = KitFeedback().preprocess(nb, resources)
    from autograder.tasks.nbgrader_plugin import FEEDBACK_TEMPLATE_DIRS, FEEDBACK_TEMPLATE_FILE

    bootstrap = Path(FEEDBACK_TEMPLATE_DIRS[-1]).parent / "static/node_modules/bootstrap/dist/css"
    exporter = HTMLExporter(template_name="feedback", template_file=FEEDBACK_TEMPLATE_FILE,
                            extra_template_basedirs=FEEDBACK_TEMPLATE_DIRS,
                            extra_template_paths=[str(bootstrap)])
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    assert "Test cell" not in page
    for name in rubric.graded_names:
        assert page.count(f"Tests of <code>{name}</code>") == 2  # the contents and the cell's header
    assert "```" not in page and "white-space: pre-wrap" in page and '<pre class="kit-code">' in page


def test_the_preprocessors_take_htmls_display_priority_silently():
    """nbconvert's HTMLExporter configures NbConvertBase.display_data_priority for every preprocessor;
    nbgrader's base class re-declares it unconfigurable, which made every make feedback warn."""
    logger = logging.getLogger("traitlets")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        exporter = HTMLExporter()
        for preprocessor in (KitFeedback, KitGrades):
            exporter.register_preprocessor(preprocessor, enabled=True)
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if "not recognized" in r.getMessage()] == []


def test_the_published_marker_lives_in_the_course_folder(tmp_path):
    assert not nbgrader_published(tmp_path, A)
    path = mark_nbgrader_published(tmp_path, A)
    assert path == tmp_path / PUBLISHED_FILE and Path(path).is_file()
    assert nbgrader_published(tmp_path, A) and not nbgrader_published(tmp_path, "03_regularization")
