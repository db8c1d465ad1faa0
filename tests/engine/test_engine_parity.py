"""The same code scores the same as a notebook and as a ``.py`` exported from it, whichever export a
student ran: the Submitting section's command (no experiments, no self-checks) or a plain
``--to script`` (every cell kept, magics as ``get_ipython()`` calls, a failing self-check included)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import PythonExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import load_rubric
from autograder.policy.notebook import EXPORT_TAGS

ROOT = Path(__file__).resolve().parents[2]
A = "02_optimizers"
# A momentum bug that the public self-check of SGD catches: the buffer forgets the new gradient.
SGD_BUG = ("buf.mul_(mu).add_(g, alpha=1 - tau)", "buf.mul_(mu)")


def _notebook():
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "SGD")
    assert SGD_BUG[0] in cell.source
    cell.source = cell.source.replace(*SGD_BUG)
    nb.cells.insert(3, nbformat.v4.new_code_cell("%time probe = torch.zeros(2)\ndisplay(probe)\n!echo hi"))
    return nb


def _export(nb, tags: tuple[str, ...]) -> str:
    exporter = PythonExporter()
    if tags:
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(tags), enabled=True),
                                       enabled=True)
    return exporter.from_notebook_node(nb)[0]


def _lost(path: Path, zygote) -> dict[str, str]:
    rubric = load_rubric(A)
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    return {i["id"]: i["status"] for i in record["items"] if i["score"] < i["max_score"]}


@pytest.mark.optimizers
def test_a_notebook_and_both_of_its_exports_score_the_same(zygote, tmp_path):
    nb = _notebook()
    nbformat.write(nb, tmp_path / f"{A}.ipynb")
    as_notebook = _lost(tmp_path / f"{A}.ipynb", zygote)
    assert as_notebook and set(as_notebook) <= {line.id for line in load_rubric(A).lines_of("SGD")}
    for folder, tags in (("submitting", EXPORT_TAGS), ("script", ())):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "optimizers.py"
        path.write_text(_export(nb, tags))
        if not tags:  # the failing self-check is in this file, and it raises at import
            assert "assert torch.allclose" in path.read_text()
        assert _lost(path, zygote) == as_notebook, folder
