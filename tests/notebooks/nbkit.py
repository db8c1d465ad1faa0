"""Helpers of the notebook tests: where the notebooks are, which cells the grader runs, a kernel runner."""

from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading.rubric import assignment_ids
from autograder.policy.notebook import is_experiment_cell, is_solution_cell, is_test_cell
from autograder.tasks.release import RELEASE_DIR, REPO, SOURCE_DIR, notebook_path

ASSIGNMENT_MARKS = {
    "01_gradient_descent": pytest.mark.gradient_descent,
    "02_optimizers": pytest.mark.optimizers,
    "03_regularization": pytest.mark.regularization,
}
# Lines nbgrader must never let through to students.
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                     "BEGIN MARK SCHEME", "END MARK SCHEME")
CELL_TIMEOUT_S = 180
# Kernels run one BLAS/OpenMP thread each: with xdist several kernels share a few cores, and
# spinning OpenMP threads then slow tiny-tensor experiments down by orders of magnitude.
KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    # ipykernel's inline backend, whatever MPLBACKEND the test process has: plots must become PNGs.
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "JUPYTER_PLATFORM_DIRS": "1",
}


def assignment_params(*marks):
    """One pytest param per assignment, carrying its assignment marker (and ``marks``)."""
    return [pytest.param(a, marks=[ASSIGNMENT_MARKS[a], *marks], id=a) for a in assignment_ids()]


def source_path(assignment: str) -> Path:
    return notebook_path(REPO, SOURCE_DIR, assignment)


def release_path(assignment: str) -> Path:
    return notebook_path(REPO, RELEASE_DIR, assignment)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def module_cells(nb) -> list:
    """The code cells the grader runs as one module: neither nbgrader test cells nor experiments."""
    return [c for c in nb.cells
            if c.cell_type == "code" and not is_test_cell(c) and not is_experiment_cell(c)]


def module_source(nb) -> str:
    """The graded code of a notebook, IPython lines blanked as the grader's loader does."""
    from autograder.policy import drop_magics

    return "\n\n".join(drop_magics(c.source) for c in module_cells(nb))


def imported_modules(source: str) -> set[str]:
    """Top-level package names imported by ``source``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def solution_cells(nb) -> list:
    return [c for c in nb.cells if is_solution_cell(c)]


def solution_region_lines(source: str) -> list[str]:
    """The lines between BEGIN/END SOLUTION markers of one cell (markers excluded)."""
    inside, lines = False, []
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def stub_message() -> str:
    """The message of the stub nbgrader puts in place of a solution (from ``nbgrader_config.py``)."""
    from autograder.tasks.release import load_config

    stub = load_config(REPO).ClearSolutions.code_stub["python"]
    match = re.search(r'raise NotImplementedError\("(.+)"\)', stub)
    assert match, f"the configured stub should raise NotImplementedError with a message: {stub!r}"
    return match.group(1)


def execute(path: Path, *, allow_errors: bool) -> tuple[object, float]:
    """Run a notebook top to bottom in a fresh ``python3`` kernel; return it with its outputs and the time."""
    from nbclient import NotebookClient

    nb = read(path)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, **KERNEL_ENV})
    return nb, time.perf_counter() - start


def errors_of(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def has_png(cell) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
