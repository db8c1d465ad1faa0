"""Where a reproducer runs decides its import of the student's code: under a notebook the graded names
are already defined (no import), next to a .py the import names the file as handed in."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.families.reproduce import block, blocks, place, share_repeated

FEEDBACK = "the update differs\n" + block("from optimizers import SGD", "print('got:', SGD)")


@pytest.mark.parametrize(
    ("filename", "notebook", "import_line", "where"),
    [
        ("02_optimizers.ipynb", True, None, "new cell at the end of your notebook"),
        ("optimizers.py", False, "from optimizers import SGD", "next to your optimizers.py"),
        ("alice.py", False, "from alice import SGD", "next to your alice.py"),
        ("my-solution.py", False, "from optimizers import SGD",
         "next to a copy of your my-solution.py named optimizers.py"),
    ],
)
def test_each_submission_kind_gets_an_import_that_works_there(filename, notebook, import_line, where):
    placed = place(FEEDBACK, "optimizers", filename, notebook)
    (code,) = blocks(placed)
    assert where in placed
    imports = [line for line in code.splitlines() if line.startswith("from ")]
    assert imports == ([import_line] if import_line else [])


def test_a_renamed_module_reproducer_runs_next_to_the_file(tmp_path):
    (tmp_path / "alice.py").write_text("SGD = 'the student class'\n")
    (code,) = blocks(place(FEEDBACK, "optimizers", "alice.py", False))
    ran = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0 and "the student class" in ran.stdout, ran.stderr


def test_a_case_repeated_by_a_later_line_of_the_same_name_is_shown_once():
    first = place(FEEDBACK, "optimizers", "optimizers.py", False)
    other = place(FEEDBACK.replace("print('got:', SGD)", "print('got:', 3.0)"), "optimizers", "optimizers.py",
                  False)
    shared = share_repeated([("SGD.step_defaults", first), ("SGD.step_hyperparams", first),
                             ("SGD.closure", other)])
    assert set(shared) == {"SGD.step_hyperparams"}  # the first keeps its code, a new case keeps its own
    assert blocks(shared["SGD.step_hyperparams"]) == []
    assert "The same case as under `SGD.step_defaults`" in shared["SGD.step_hyperparams"]
    assert shared["SGD.step_hyperparams"].split("(The same")[0] == first.split("To see it yourself")[0]


def test_a_case_said_again_with_other_code_is_shown_once():
    """step_defaults and step_hyperparams can fail on one case but print it two ways (the second with
    p.grad too): the same case sentence and numbers are one case."""
    said = "the update differs. The case: Adam(lr=0.1), float64, 1 parameter, 1 step.\nafter step 1: got 2\n"
    one = place(said + block("print('got:', 2)"), "optimizers", "optimizers.py", False)
    two = place(said + block("print('got:', 2, 'grads')"), "optimizers", "optimizers.py", False)
    shared = share_repeated([("Adam.step_defaults", one), ("Adam.step_hyperparams", two)])
    assert set(shared) == {"Adam.step_hyperparams"} and blocks(shared["Adam.step_hyperparams"]) == []
