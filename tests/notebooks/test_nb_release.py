"""The nbgrader release: in sync with ``solutions/``, free of solution code, points from the rubric."""

from __future__ import annotations

import ast
import copy
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.policy.notebook import is_experiment_cell, is_test_cell
from autograder.tasks import release
from autograder.tasks.release import ReleaseError

from .nbkit import (
    FORBIDDEN_MARKERS,
    assignment_params,
    imported_modules,
    module_source,
    read,
    release_path,
    solution_cells,
    solution_region_lines,
    source_path,
    stub_message,
)

# What the grader's worker can import: torch and the standard library modules a solution needs.
MODULE_IMPORTS = {"__future__", "copy", "math", "torch", "typing", "collections", "functools", "itertools"}
BOTH = [pytest.param(source_path, id="source"), pytest.param(release_path, id="release")]


@pytest.mark.slow
@pytest.mark.gradient_descent
@pytest.mark.optimizers
@pytest.mark.regularization
def test_release_is_in_sync_with_solutions():
    """Regenerating from solutions/ in a temporary folder reproduces the committed release exactly.

    One run for all assignments: nbgrader's start-up and its new gradebook (an ``alembic`` subprocess)
    dominate the cost, so doing them once keeps this test a few seconds.
    """
    problems = release.check(list(assignment_ids()))
    assert not problems, "the release is stale, run `make release`:\n" + "\n".join(problems)


@pytest.mark.parametrize("assignment", assignment_params())
def test_release_contains_no_solution_code(assignment):
    text = release_path(assignment).read_text(encoding="utf-8")
    assert not [m for m in FORBIDDEN_MARKERS if m in text]

    source, released = read(source_path(assignment)), read(release_path(assignment))
    # A line that exists only inside solution regions of the source must not appear in the release.
    inside = {line.strip() for cell in solution_cells(source) for line in solution_region_lines(cell.source)}
    outside = set()
    for cell in source.cells:
        region_lines = set(solution_region_lines(cell.source))
        outside |= {line.strip() for line in cell.source.splitlines() if line not in region_lines}
    secret = inside - outside - {""}
    assert secret, "the source notebook should have solution code"
    released_lines = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    assert not secret & released_lines, f"solution lines leaked: {sorted(secret & released_lines)[:5]}"


@pytest.mark.parametrize("assignment", assignment_params())
def test_every_solution_region_became_the_friendly_stub(assignment):
    stub = f'raise NotImplementedError("{stub_message()}")'
    source, released = read(source_path(assignment)), read(release_path(assignment))
    pairs = list(zip(solution_cells(source), solution_cells(released), strict=True))
    for ours, theirs in pairs:
        regions = ours.source.count("BEGIN SOLUTION")
        assert regions >= 1, f"{ours.metadata.nbgrader['grade_id']}: solution cell without a region"
        assert theirs.source.count(stub) == regions, theirs.source


@pytest.mark.parametrize("path_of", BOTH)
@pytest.mark.parametrize("assignment", assignment_params())
def test_cells_and_points_follow_the_rubric(assignment, path_of):
    """One solution cell then one test cell per graded name; test-cell points are the rubric's."""
    nb, rubric = read(path_of(assignment)), load_rubric(assignment)
    release.validate_layout(nb, rubric)
    solutions, tests = release.graded_cells(nb, rubric)
    for name in rubric.graded_names:
        solution, test = solutions[name][0], tests[name][0]
        assert {k: solution.metadata.nbgrader[k] for k in ("solution", "grade", "locked", "grade_id",
                                                           "schema_version")} == {
            "solution": True, "grade": False, "locked": False, "grade_id": name, "schema_version": 3}
        assert {k: test.metadata.nbgrader[k] for k in ("solution", "grade", "locked", "grade_id", "points",
                                                       "schema_version")} == {
            "solution": False, "grade": True, "locked": True, "grade_id": f"test_{name}",
            "points": rubric.points_of(name), "schema_version": 3}
        index = nb.cells.index(solution)
        assert nb.cells[index + 1] is test, f"{name}: its test cell must follow its solution cell"
        defined = {node.name for node in ast.parse(solution.source).body
                   if isinstance(node, ast.ClassDef | ast.FunctionDef)}
        assert name in defined, f"{name} is not defined at the top level of its solution cell"
    total = sum(c.metadata.nbgrader["points"] for c in nb.cells if is_test_cell(c))
    assert total == rubric.max_score


@pytest.mark.parametrize("path_of", BOTH)
@pytest.mark.parametrize("assignment", assignment_params())
def test_module_cells_are_fast_torch_only_and_define_every_graded_name(assignment, path_of):
    """What the grader runs (no test cells, no experiments) imports only torch and the stdlib."""
    source = module_source(read(path_of(assignment)))
    assert imported_modules(source) <= MODULE_IMPORTS, "move plotting/data imports into experiment cells"
    namespace = {"__name__": f"notebook_module_{assignment}"}
    exec(compile(source, f"<{assignment} module cells>", "exec"), namespace)  # noqa: S102 - our own notebook
    missing = [name for name in load_rubric(assignment).graded_names if name not in namespace]
    assert not missing


@pytest.mark.parametrize("path_of", BOTH)
@pytest.mark.parametrize("assignment", assignment_params())
def test_notebooks_are_valid_clean_and_tagged(assignment, path_of):
    nb = read(path_of(assignment))
    nbformat.validate(nb)
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == len(ids), "cell ids must be unique (and stable, for readable diffs)"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert nb.metadata.kernelspec.name == "python3"
    plots = [c for c in code if "plt.show()" in c.source]
    assert plots and all(is_experiment_cell(c) for c in plots), "plots belong in experiment cells"
    assert not [c for c in code if is_experiment_cell(c) and (is_test_cell(c) or c.metadata.get("nbgrader"))]


@pytest.mark.parametrize("assignment", assignment_params())
def test_last_cell_explains_how_to_submit(assignment):
    last = read(source_path(assignment)).cells[-1]
    assert last.cell_type == "markdown"
    module = load_rubric(assignment).module
    needles = (f"{assignment}.ipynb", f"{module}.py", "experiment", "smallest failing case", "Hidden checks")
    for needle in needles:
        assert needle in last.source, needle


def test_stamping_points_is_idempotent_and_uses_the_rubric():
    assignment = "02_optimizers"
    nb, rubric = read(source_path(assignment)), load_rubric(assignment)
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.metadata.nbgrader["points"] = 0
    changes = release.stamp_points(nb, rubric)
    assert len(changes) == len(rubric.graded_names)
    assert release.stamp_points(nb, rubric) == []
    stamped = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
               for c in nb.cells if is_test_cell(c)}
    assert stamped == {f"test_{name}": rubric.points_of(name) for name in rubric.graded_names}


def test_layout_problems_stop_the_release():
    assignment = "03_regularization"
    nb, rubric = read(source_path(assignment)), load_rubric(assignment)
    without_test = copy.deepcopy(nb)
    without_test.cells = [c for c in without_test.cells
                          if c.metadata.get("nbgrader", {}).get("grade_id") != "test_Dropout"]
    with pytest.raises(ReleaseError, match="Dropout: 0 test cells"):
        release.stamp_points(without_test, rubric)
    unknown = copy.deepcopy(nb)
    next(c for c in unknown.cells if is_test_cell(c)).metadata.nbgrader["grade_id"] = "test_Nothing"
    with pytest.raises(ReleaseError, match="test_Nothing"):
        release.stamp_points(unknown, rubric)


def test_python3_kernel_runs_this_interpreter():
    """nbclient's ``python3`` kernel must be the venv's python (jupyter_client swaps in sys.executable)."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    assert manager.format_kernel_cmd()[0] == sys.executable
    assert Path(sys.executable).parent.joinpath("alembic").exists(), "nbgrader needs alembic beside python"


@pytest.mark.parametrize("assignment", assignment_params())
def test_the_release_ships_the_policy_as_a_standalone_self_check(assignment, tmp_path):
    """check_submission.py next to the released notebook is the grader's policy with the assignment's
    graded names, imports only the standard library, and runs on its own, outside the repository."""
    import subprocess

    rubric = load_rubric(assignment)
    shipped = release_path(assignment).parent / release.POLICY_COPY
    assert shipped.read_text() == release.policy_copy(rubric)
    assert (source_path(assignment).parent / release.POLICY_COPY).read_text() == shipped.read_text()
    assert imported_modules(shipped.read_text()) <= set(sys.stdlib_module_names) | {"__future__"}
    assert str(rubric.graded_names) in shipped.read_text()
    shutil.copy(shipped, tmp_path / release.POLICY_COPY)
    for path_of in (source_path, release_path):
        shutil.copy(path_of(assignment), tmp_path / f"{assignment}.ipynb")
        ok = subprocess.run([sys.executable, "-I", release.POLICY_COPY, f"{assignment}.ipynb"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0 and "no problems found" in ok.stdout, ok.stdout + ok.stderr
    nb = read(source_path(assignment))
    name = rubric.graded_names[0]
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name)
    cell.source += "\n\ndef _peek(name):\n    return getattr(torch, name)\n"
    cell.source = cell.source.replace("    ### END SOLUTION", "    _peek('ops')\n    ### END SOLUTION", 1)
    nbformat.write(nb, tmp_path / f"{assignment}.ipynb")
    bad = subprocess.run([sys.executable, "-I", release.POLICY_COPY, f"{assignment}.ipynb"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and f"{name}: review" in bad.stdout and "computed" in bad.stdout, bad.stdout


def test_a_stale_policy_copy_is_rewritten_and_reported(tmp_path):
    rubric = load_rubric("02_optimizers")
    assert release.write_policy_copy(tmp_path, rubric) != []
    assert release.write_policy_copy(tmp_path, rubric) == []
    (tmp_path / release.POLICY_COPY).write_text("# edited by hand\n")
    assert release.write_policy_copy(tmp_path, rubric) != []
