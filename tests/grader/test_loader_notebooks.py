"""Real notebooks: cell magics, IPython-only lines, and which file of a folder is graded."""

from __future__ import annotations

import json

import pytest

from autograder.grading.loader import candidates, load_submission, locate

NON_PYTHON_CELL_MAGICS = (
    "bash",
    "sh",
    "html",
    "javascript",
    "js",
    "latex",
    "markdown",
    "svg",
    "writefile notes.py",
    "file notes.py",
    "script bash",
    "perl",
    "ruby",
    "timeit -n1",
)


def notebook(*sources: str) -> str:
    cells = [
        {"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
        for s in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def load_nb(tmp_path, *sources: str):
    path = tmp_path / "alice.ipynb"
    path.write_text(notebook(*sources))
    return load_submission(path, "02_optimizers", "optimizers")


@pytest.mark.parametrize("magic", NON_PYTHON_CELL_MAGICS)
def test_a_non_python_cell_magic_drops_its_whole_cell(tmp_path, magic):
    body = "echo 'not python' && ls -la\n<b>nor this</b>\nfunction f() { return 1; }"
    sub = load_nb(tmp_path, "import torch", f"%%{magic}\n{body}", "class SGD:\n    pass")
    assert sub.load_error is None, sub.load_error
    assert "not python" not in sub.source and "<b>" not in sub.source
    assert "class SGD" in sub.source


def test_a_dropped_cell_keeps_the_line_numbers_of_later_cells(tmp_path):
    sub = load_nb(tmp_path, "import torch", "%%bash\necho hi\necho there", "x = 1\ndef f(:\n    pass")
    where = "the cell defining `f`, line 2"
    assert sub.load_error.startswith(f"alice.ipynb, {where}: SyntaxError"), sub.load_error
    assert sub.source.split("\n")[1:4] == ["", "", ""]  # the bash cell's three lines, blanked


def test_a_cell_magic_after_blank_lines_still_drops_the_cell(tmp_path):
    sub = load_nb(tmp_path, "\n\n%%html\n<div>", "Y = 2")
    assert sub.load_error is None and "<div>" not in sub.source and "Y = 2" in sub.source


@pytest.mark.parametrize("magic", ["time", "capture", "capture out", "prun -s cumulative"])
def test_python_cell_magics_keep_their_body(tmp_path, magic):
    sub = load_nb(tmp_path, f"%%{magic}\nclass SGD:\n    lr = 0.1")
    assert sub.load_error is None, sub.load_error
    assert "class SGD" in sub.source and "%%" not in sub.source


def test_a_double_percent_inside_a_cell_is_not_a_cell_magic(tmp_path):
    """Only the first line of a cell can be a cell magic; later `%%` lines are line noise and go alone."""
    sub = load_nb(tmp_path, "A = 1\n%%bash\nB = 2")
    assert sub.load_error is None and "A = 1" in sub.source and "B = 2" in sub.source


def test_ipython_only_lines_go_and_timed_statements_stay(tmp_path):
    sub = load_nb(
        tmp_path,
        "files = !ls\nt = %timeit -o sum([1])\ntorch.optim?\n??SGD\n%time W = 3\nfor i in range(2):\n"
        "    %time V = i\n!pip install torch",
    )
    assert sub.load_error is None, sub.load_error
    assert "W = 3" in sub.source and "    V = i" in sub.source
    for gone in ("!ls", "%timeit", "optim?", "??SGD", "pip install", "%time"):
        assert gone not in sub.source


def test_line_numbers_are_preserved_by_every_drop(tmp_path):
    sources = ("import torch\n!ls\n%matplotlib inline", "%%bash\necho", "%time Q = 1\nR = 2")
    sub = load_nb(tmp_path, *sources)
    assert sub.source.count("\n") == sum(s.count("\n") + 1 for s in sources)
    assert sub.source.split("\n")[5] == "Q = 1"


# --- which file of a folder is graded ---------------------------------------------------------------


def make_folder(tmp_path, *names: str):
    folder = tmp_path / "bob"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(notebook("X = 1") if name.endswith(".ipynb") else "X = 2\n")
    return folder


def test_the_notebook_wins_over_a_stale_module_file(tmp_path):
    folder = make_folder(tmp_path, "optimizers.py", "02_optimizers.ipynb")
    target, error = locate(folder, "optimizers", "02_optimizers")
    assert error is None and target.name == "02_optimizers.ipynb"
    sub = load_submission(folder, "02_optimizers", "optimizers")
    assert sub.filename == "02_optimizers.ipynb" and "X = 1" in sub.source


def test_candidates_lists_every_file_in_the_order_of_the_rule(tmp_path):
    folder = make_folder(tmp_path, "helpers.py", "optimizers.py", "02_optimizers.ipynb", "conftest.py")
    names = [p.name for p in candidates(folder, "optimizers", "02_optimizers")]
    assert names == ["02_optimizers.ipynb", "optimizers.py", "helpers.py"]


def test_the_module_file_wins_over_other_files(tmp_path):
    folder = make_folder(tmp_path, "helpers.py", "optimizers.py")
    assert locate(folder, "optimizers", "02_optimizers")[0].name == "optimizers.py"


def test_one_unnamed_file_is_taken_two_are_ambiguous(tmp_path):
    one = make_folder(tmp_path, "my_answer.ipynb")
    assert locate(one, "optimizers", "02_optimizers")[0].name == "my_answer.ipynb"
    (one / "other.py").write_text("")
    target, error = locate(one, "optimizers", "02_optimizers")
    assert target is None and "found my_answer.ipynb, other.py" in error
