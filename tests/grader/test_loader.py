"""The loader pipeline: which code of a submission is graded, and precise messages for bad input."""

from __future__ import annotations

import json

import pytest

from autograder.loader import load_submission


def notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code(src: str, **meta) -> dict:
    return {"cell_type": "code", "source": src, "metadata": meta, "outputs": [], "execution_count": None}


def load(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return load_submission(path, "02_optimizers", "optimizers")


def test_notebook_skips_test_cells_experiments_and_markdown(tmp_path):
    nb = notebook(
        [
            code(
                "import torch\nclass SGD: pass",
                nbgrader={"solution": True, "grade": False, "grade_id": "SGD"},
            ),
            code(
                "assert SGD is not None", nbgrader={"solution": False, "grade": True, "grade_id": "test_SGD"}
            ),
            code("train_for_an_hour()", tags=["experiment"]),
            {"cell_type": "markdown", "source": "# notes", "metadata": {}},
            code("%matplotlib inline\n!pip install x\nx = get_ipython()\nY = 2"),
        ]
    )
    sub = load(tmp_path, "alice.ipynb", nb)
    assert sub.load_error is None
    assert "class SGD" in sub.source and "Y = 2" in sub.source
    assert "assert SGD" not in sub.source and "train_for_an_hour" not in sub.source
    assert (
        "%matplotlib" not in sub.source
        and "pip install" not in sub.source
        and "get_ipython" not in sub.source
    )
    assert sub.student == "alice"


def test_notebook_error_location_names_the_cell(tmp_path):
    nb = notebook(
        [
            code("import torch"),
            {"cell_type": "markdown", "source": "x", "metadata": {}},
            code("a = 1\nclass SGD(:\n    pass"),
        ]
    )
    sub = load(tmp_path, "bob.ipynb", nb)
    assert sub.load_error.startswith("bob.ipynb, cell 3, line 2: SyntaxError")


def test_indented_magic_keeps_the_block_valid(tmp_path):
    sub = load(tmp_path, "c.py", "def f():\n    %time g()\n")
    assert sub.load_error is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.py", "", "the file is empty"),
        ("blank.py", "\n\n  \n", "the file is empty"),
        ("binary.py", b"\xff\xfe\x00bad", "not UTF-8 text"),
        ("syntax.py", "def f(:\n", "syntax.py, line 1: SyntaxError"),
        ("nulls.py", "x = 1\x00\n", "null bytes"),
        ("broken.ipynb", "{not json", "not a valid notebook"),
        ("nocells.ipynb", json.dumps({"cells": "nope"}), "not a valid notebook"),
        (
            "onlymd.ipynb",
            notebook([{"cell_type": "markdown", "source": "hi", "metadata": {}}]),
            "no code cells",
        ),
    ],
)
def test_bad_input_gets_a_specific_message(tmp_path, name, content, message):
    assert message in load(tmp_path, name, content).load_error


def test_folder_submission_picks_the_module_file_and_ignores_plugins(tmp_path):
    folder = tmp_path / "carol"
    folder.mkdir()
    (folder / "optimizers.py").write_text("X = 1\n")
    (folder / "conftest.py").write_text("raise SystemExit\n")
    (folder / "sitecustomize.py").write_text("raise SystemExit\n")
    sub = load_submission(folder, "02_optimizers", "optimizers")
    assert sub.student == "carol" and sub.filename == "optimizers.py" and sub.source == "X = 1\n"


def test_folder_without_the_module_says_what_it_expected(tmp_path):
    folder = tmp_path / "dave"
    folder.mkdir()
    (folder / "a.py").write_text("")
    (folder / "b.py").write_text("")
    sub = load_submission(folder, "02_optimizers", "optimizers")
    assert "must hold optimizers.py or 02_optimizers.ipynb" in sub.load_error


def test_nbgrader_submitted_layout_uses_the_student_folder_as_id(tmp_path):
    inner = tmp_path / "erin" / "02_optimizers"
    inner.mkdir(parents=True)
    (inner / "02_optimizers.ipynb").write_text(notebook([code("Z = 3")]))
    sub = load_submission(tmp_path / "erin", "02_optimizers", "optimizers")
    assert sub.student == "erin" and sub.kind == "ipynb" and "Z = 3" in sub.source
