"""Run the notebooks in a kernel: the solutions end to end, the release as a student first sees it."""

from __future__ import annotations

import pytest

from autograder.grading.rubric import load_rubric
from autograder.policy.notebook import is_experiment_cell, is_test_cell

from .nbkit import (
    assignment_params,
    errors_of,
    execute,
    has_png,
    release_path,
    source_path,
    stdout_of,
    stub_message,
)


@pytest.mark.parametrize("assignment", assignment_params(pytest.mark.slow))
def test_solution_notebook_runs_top_to_bottom(assignment, record_property):
    nb, seconds = execute(source_path(assignment), allow_errors=False)
    record_property("execution_seconds", round(seconds, 1))
    print(f"{assignment}: solution notebook executed in {seconds:.1f} s")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c.id for c in code if errors_of(c)]
    for cell in code:
        if is_test_cell(cell):
            assert "public self-check passed" in stdout_of(cell), cell.metadata.nbgrader["grade_id"]
    policy_check = [c for c in code if c.source.startswith("%run check_submission.py")]
    assert len(policy_check) == 1 and "no problems found" in stdout_of(policy_check[0])
    plots = [c for c in code if is_experiment_cell(c) and "plt.show()" in c.source]
    assert len(plots) >= 3
    assert not [c.id for c in plots if not has_png(c)], "every plotting experiment should render a PNG"


@pytest.mark.parametrize("assignment", assignment_params(pytest.mark.slow))
def test_release_notebook_fails_only_at_the_stubs(assignment):
    """As a student opens it: self-checks and experiments stop at the stub's message, nothing else breaks."""
    nb, _ = execute(release_path(assignment), allow_errors=True)
    message = stub_message()
    tested = set()
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        errors = [(e.ename, e.evalue) for e in errors_of(cell)]
        if is_test_cell(cell):
            assert errors == [("NotImplementedError", message)], cell.metadata.nbgrader["grade_id"]
            tested.add(cell.metadata.nbgrader["grade_id"].removeprefix("test_"))
        elif is_experiment_cell(cell):
            assert set(errors) <= {("NotImplementedError", message)}, (cell.id, errors)
        else:
            assert not errors, (cell.id, errors)
    assert tested == set(load_rubric(assignment).graded_names)
