"""Run the kit's grading inside ``nbgrader autograde``.

``KitGrades`` is an nbgrader preprocessor. nbgrader_config.py puts it in place of ``Execute``, so
nbgrader never runs student code in its own kernel. For each notebook it grades the submission with
the kit (sandboxed worker, same checks and rubric as ``python -m autograder grade``). It then replaces
the outputs of every autograded test cell (``grade_id`` ``test_<Name>``) with the kit's feedback for
that graded name and an ``execute_result`` holding the points earned. nbgrader reads that result as
partial credit, so the gradebook and ``make grade`` agree by construction. The outputs are set here,
after ``OverwriteCells`` restored the trusted test cells, so nothing the student's notebook holds
counts.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from .engine import grade_submission
from .results import student_record
from .rubric import assignment_ids, load_rubric
from .sandbox.runner import Zygote


def scores_by_name(record: dict) -> dict[str, tuple[float, list[str]]]:
    """Points earned per graded name and one feedback line per rubric line."""
    out: dict[str, tuple[float, list[str]]] = {}
    for item in record["items"]:
        name = item["id"].split(".")[0]
        points, lines = out.get(name, (0.0, []))
        text = f"{item['id']}: {item['status']} ({item['score']:g}/{item['max_score']:g})"
        if item["status"] != "passed" and item["visibility"] != "hidden":
            text += "\n    " + item["feedback"].replace("\n", "\n    ")
        out[name] = (points + item["score"], [*lines, text])
    return out


def grade_notebook(nb, assignment: str) -> dict:
    """Grade an in-memory notebook as a submission of ``assignment``; return the student record. Grader
    faults (tracebacks of the kit) go to the TA's log only, never into the notebook's feedback."""
    with tempfile.TemporaryDirectory(prefix="kit-nbgrader-") as tmp:
        path = Path(tmp) / f"{assignment}.ipynb"
        nbformat.write(nb, str(path))
        zygote = Zygote()
        try:
            result = grade_submission(path, assignment, zygote)
        finally:
            zygote.close()
    for fault in result.grader_faults:
        logging.getLogger(__name__).error("grader fault (%s): %s", assignment, fault)
    return student_record(result, load_rubric(assignment))


class KitGrades(NbGraderPreprocessor):
    """Write the kit's grade of each graded name into its nbgrader test cell (see the module doc)."""

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        if assignment not in assignment_ids():
            self.log.warning("KitGrades: no rubric for %s; leaving the notebook as it is", assignment)
            return nb, resources
        record = grade_notebook(nb, assignment)
        per_name = scores_by_name(record)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id", "")
            if cell.cell_type != "code" or not meta.get("grade") or not grade_id.startswith("test_"):
                continue
            points, lines = per_name.get(grade_id[len("test_") :], (0.0, ["not graded by the kit"]))
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": repr(float(points))}, execution_count=None
                ),
            ]
        for error in record["errors"]:
            self.log.warning("%s: %s", resources["nbgrader"].get("student"), error)
        return nb, resources
