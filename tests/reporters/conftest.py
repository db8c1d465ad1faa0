"""Fixtures of the reporter tests: the real 02_optimizers rubric and records built on it."""

from __future__ import annotations

import pytest

from autograder.grading.rubric import load_rubric

from .records import SECRET, build_record


@pytest.fixture
def rubric():
    """The 02_optimizers rubric: several graded names, hidden lines included."""
    return load_rubric("02_optimizers")


@pytest.fixture
def hidden_line(rubric):
    return next(line for line in rubric.lines if line.visibility == "hidden")


@pytest.fixture
def visible_line(rubric):
    return next(line for line in rubric.lines if line.visibility == "visible")


@pytest.fixture
def secret_record(rubric, hidden_line, visible_line):
    """One student who failed a hidden line (feedback holds SECRET) and a visible one."""
    return build_record(
        rubric,
        "s001",
        {hidden_line.id: "failed", visible_line.id: "failed"},
        feedback={
            hidden_line.id: f"expected {SECRET} for the hidden input",
            visible_line.id: "visible feedback:\n    step 3: got 0.5, expected 0.25",
        },
    )
