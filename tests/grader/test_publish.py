"""Hidden lines are released on purpose: until `make publish`, every channel shows a hidden line's status
and points but not its details; publishing regenerates the kit's HTML and Gradescope results and
nbgrader's feedback text with the details, and a later regrade of a published class stays published."""

from __future__ import annotations

import json

import nbformat

from autograder import cli
from autograder.grading.rubric import load_rubric
from autograder.reporters import write_all
from autograder.reporters.visibility import HIDDEN_FEEDBACK
from autograder.tasks.nbgrader_plugin import KitFeedback, cell_text
from autograder.tasks.publish import publish_folder
from tests.reporters.records import SECRET, build_record

A = "02_optimizers"


def secret_class(folder, rubric):
    hidden = next(line for line in rubric.lines if line.visibility == "hidden")
    record = build_record(rubric, "s001", {hidden.id: "failed"}, feedback={hidden.id: f"expected {SECRET}"})
    write_all([record], rubric, folder, {"s001": 1.0}, {"jobs": 1})
    return record, hidden


def student_files(folder) -> str:
    return (folder / "feedback/s001.html").read_text() + (folder / "results/s001/results.json").read_text()


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
    assert "nothing graded for 02_optimizers yet" in capsys.readouterr().err


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
    assert HIDDEN_FEEDBACK not in published and published.count("is not defined in your submission") == len(
        load_rubric(A).lines
    )
    assert cli.main(["grade", "--quiet", "--assignment", A, str(sub), "--out", str(out)]) == 0
    assert (out / "feedback/ann.html").read_text() == published


def test_nbgrader_feedback_text_withholds_hidden_details_until_published():
    rubric = load_rubric(A)
    hidden = next(line for line in rubric.lines if line.visibility == "hidden")
    name = hidden.name
    record = build_record(rubric, "ann", {hidden.id: "failed"}, feedback={hidden.id: f"expected {SECRET}"})
    items = [i for i in record["items"] if i["id"].startswith(f"{name}.")]
    cell = nbformat.v4.new_code_cell("check()")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": f"test_{name}", "points": 1}
    cell.metadata["kit"] = {"items": items}
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=cell_text(items, rubric, published=False)),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1.0"}, execution_count=None),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    resources = {"nbgrader": {"assignment": A, "student": "ann"}}
    shown = KitFeedback().preprocess(nb, resources)[0].cells[0].outputs[0].text
    assert SECRET not in shown and HIDDEN_FEEDBACK in shown and f"{hidden.id} (hidden): failed" in shown
    published = KitFeedback(published=True).preprocess(nb, resources)[0].cells[0].outputs[0].text
    assert SECRET in published and f"{hidden.id} (hidden): failed (0/" in published
    assert nb.cells[0].outputs[1].data["text/plain"] == "1.0"  # the points nbgrader reads are untouched


def test_nbgrader_feedback_text_lists_what_failed_first():
    rubric = load_rubric(A)
    name = rubric.graded_names[0]
    lines = [line for line in rubric.lines if line.name == name]
    last = lines[-1]
    record = build_record(rubric, "ann", {last.id: "failed"}, feedback={last.id: "got 2.0, expected 1.0"})
    text = cell_text([i for i in record["items"] if i["id"].startswith(f"{name}.")], rubric, published=True)
    assert text.index(f"{last.id}") < text.index(f"{lines[0].id}: passed")
    assert text.count(": passed (") == len(lines) - 1 and "got 2.0, expected 1.0" in text
