"""The loader pipeline: which code of a submission is graded, and precise messages for bad input."""

from __future__ import annotations

import json
import os

import pytest

from autograder.grading.loader import load_submission


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
            code("%matplotlib inline\n!pip install x\nx = get_ipython().getoutput('ls')\nY = 2"),
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
    where = "the cell defining `SGD`, line 2"
    assert sub.load_error.startswith(f"bob.ipynb, {where}: SyntaxError"), sub.load_error


def test_a_cell_defining_nothing_is_named_by_its_code_cell_number(tmp_path):
    nb = notebook(
        [
            {"cell_type": "markdown", "source": "# title", "metadata": {}},
            code("import torch"),
            {"cell_type": "markdown", "source": "x", "metadata": {}},
            code("a = 1\nb = (:"),
        ]
    )
    sub = load(tmp_path, "bob.ipynb", nb)
    # the second code cell, whatever the markdown cells around it
    assert sub.load_error.startswith("bob.ipynb, code cell 2, line 2: SyntaxError"), sub.load_error
    assert sub.load_error.endswith("b = (:")


def test_indented_magic_keeps_the_block_valid(tmp_path):
    sub = load(tmp_path, "c.ipynb", notebook([code("def f():\n    %time g()\n    !ls\n")]))
    assert sub.load_error is None, sub.load_error
    assert "    g()" in sub.source


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


# --- what a submission may be: regular files only, read without following or blocking ------------------

SECRET = "not-part-of-any-submission"


@pytest.fixture
def outside(tmp_path):
    path = tmp_path / "outside.txt"
    path.write_text(f"{SECRET}\n")
    return path


@pytest.mark.parametrize("make", ["fifo", "link_to_file", "link_to_device", "dangling_link"])
def test_special_files_and_links_are_refused_without_reading_them(tmp_path, outside, make):
    path = tmp_path / "optimizers.py"
    if make == "fifo":
        os.mkfifo(path)  # would block a plain read() forever
    elif make == "link_to_file":
        path.symlink_to(outside)
    elif make == "link_to_device":
        path.symlink_to("/dev/zero")  # would read until memory runs out
    else:
        path.symlink_to(tmp_path / "nothing")
    sub = load_submission(path, "02_optimizers", "optimizers")
    assert sub.load_error and ("symbolic link" in sub.load_error or "FIFO" in sub.load_error), sub.load_error
    assert SECRET not in sub.load_error and str(outside) not in sub.load_error


@pytest.mark.parametrize("entry", ["optimizers.py", "notes.txt", "data"])
def test_a_link_anywhere_in_a_student_folder_is_refused(tmp_path, outside, entry):
    folder = tmp_path / "carol"
    folder.mkdir()
    if entry != "optimizers.py":
        (folder / "optimizers.py").write_text("X = 1\n")
    (folder / entry).symlink_to(outside)
    sub = load_submission(folder, "02_optimizers", "optimizers")
    assert sub.load_error == f"carol/{entry} is a symbolic link; submit regular files only"


def test_size_is_checked_before_reading(tmp_path):
    path = tmp_path / "huge.py"
    with open(path, "wb") as fh:
        fh.truncate(1 << 30)  # sparse: 1 GiB announced
    sub = load_submission(path, "02_optimizers", "optimizers")
    assert sub.load_error == f"huge.py: file is {1 << 30} bytes; the limit is {2 << 20}"


def test_a_notebook_may_be_larger_than_a_module(tmp_path):
    nb = json.loads(notebook([code("Y = 2")]))
    nb["cells"].append({"cell_type": "markdown", "source": "x" * (4 << 20), "metadata": {}})
    sub = load(tmp_path, "big.ipynb", json.dumps(nb))
    assert sub.load_error is None and "Y = 2" in sub.source


def test_code_nested_beyond_the_parser_is_an_error_for_that_student(tmp_path):
    sub = load(tmp_path, "deep.py", "x = 1" + " + 1" * 50000 + "\n")
    assert "nested or chained too deeply" in sub.load_error
