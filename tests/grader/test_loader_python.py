"""Python is read as Python: an IPython escape is one only where IPython itself reads it (a notebook
cell, at the start of a logical line as Python's tokenizer finds them); a ``.py`` file has no magics but
the ``get_ipython()`` statements nbconvert writes; a notebook and its export grade the same code."""

from __future__ import annotations

import json

import pytest

from autograder.grading.loader import load_submission
from autograder.policy import describe_line, drop_ipython_calls, drop_magics, graded_code

# What black / ruff format make of long expressions: continuation lines that start with an operator.
FORMATTED = """\
def step(p, g, lr):
    a = (
        p
        % lr
    )
    b = (
        g
        != 0
    )
    return a, b
"""


def notebook(*sources: str) -> str:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def load(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return load_submission(path, "02_optimizers", "optimizers")


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_operator_first_continuation_lines_are_python(tmp_path, kind):
    text = FORMATTED if kind == "py" else notebook(FORMATTED)
    sub = load(tmp_path, f"alice.{kind}", text)
    assert sub.load_error is None, sub.load_error
    assert "% lr" in sub.source and "!= 0" in sub.source


@pytest.mark.parametrize(
    ("line", "kept"),
    [("%timeit f()", None), ("!ls -la", None), ("files = !ls", None), ("t = %timeit -o f()", None),
     ("torch.optim?", None), ("??SGD", None), ("%time x = f()", "x = f()"), ("  %time y = 2", "  y = 2"),
     ("%matplotlib inline", None), ("!!pip list", None)],
)
def test_an_escape_at_the_start_of_a_logical_line_is_ipython(line, kept):
    out = drop_magics(f"if True:\n{line}\nz = 1" if line.startswith(" ") else f"{line}\nz = 1")
    lines = out.split("\n")
    target = lines[1] if line.startswith(" ") else lines[0]
    if kept is None:
        assert target.strip() in ("", "pass  # (IPython line dropped by the grader)"), out
    else:
        assert target == kept, out
    assert lines[-1] == "z = 1"


@pytest.mark.parametrize(
    "source",
    ['s = """\n%not a magic\n!nor this\n"""\n', "x = (1,\n % 2)\n", "z = 3 \\\n    % 2\n",
     "w = {\n    'k':\n    ?x\n}\n"],
)
def test_inside_a_string_brackets_or_a_backslash_nothing_is_an_escape(source):
    assert drop_magics(source) == source


def test_a_magic_in_a_py_file_is_not_dropped(tmp_path):
    sub = load(tmp_path, "optimizers.py", "import torch\n%timeit torch.zeros(3)\n")
    assert sub.load_error and "SyntaxError" in sub.load_error


def test_nbconvert_exports_lose_their_get_ipython_lines_and_keep_timed_code(tmp_path):
    text = ("import torch\n\n\n# In[1]:\n\n\nget_ipython().run_line_magic('matplotlib', 'inline')\n"
            "get_ipython().system('ls')\nfiles = get_ipython().getoutput('ls')\n"
            "get_ipython().run_line_magic('time', 'x = torch.zeros(2)')\n\n\n# In[2]:\n\n\n"
            "get_ipython().run_cell_magic('time', '', 'y = 1\\nz = y + 1\\n')\nclass SGD:\n    pass\n")
    sub = load(tmp_path, "optimizers.py", text)
    assert sub.load_error is None, sub.load_error
    assert "get_ipython" not in sub.source
    assert "x = torch.zeros(2)" in sub.source and "y = 1\nz = y + 1" in sub.source
    # a line is named by the file's own numbering, although the %%time cell grew to two lines
    line = sub.source.split("\n").index("class SGD:") + 1
    assert sub.where(line) == f"line {text.split(chr(10)).index('class SGD:') + 1}"


def test_a_notebook_and_its_export_grade_the_same_code(tmp_path):
    cells = ["import torch", "%time a = torch.ones(1)", "!echo hi", FORMATTED, "display(a)"]
    nb_source, _, _ = graded_code(notebook(*cells), "ipynb")
    exported = ("\n\n\n# In[ ]:\n\n\n".join(
        ["import torch", "get_ipython().run_line_magic('time', 'a = torch.ones(1)')",
         "get_ipython().system('echo hi')", FORMATTED.rstrip("\n"), "display(a)"]) + "\n")
    py_source, _ = drop_ipython_calls(exported)
    def code(s: str) -> list[str]:
        return [line for line in s.split("\n") if line.strip() and not line.startswith(("# In[", "pass  #"))]
    assert code(nb_source) == code(py_source)


def test_describe_line_counts_code_cells_only():
    source = "import torch\nclass SGD:\n    pass\nx = 1\ny = 2\n"
    cells = [(1, 1), (3, 2), (4, 4)]
    assert describe_line(source, cells, 3) == "the cell defining `SGD`, line 2"
    assert describe_line(source, cells, 5) == "code cell 4, line 2"
    assert describe_line(source, [], 5) == "line 5"
    assert describe_line(source, [], 2, origin=[1, 1, 2, 3, 4]) == "line 1"
