"""How the kit reads a notebook: nbgrader's cell conventions and IPython's extra syntax, in one place.

The grader's loader, ``make release``, the nbgrader plugin, the mutation tool and the shipped
``check_submission.py`` all read notebooks through these functions, so what a student checks before
submitting is exactly what the grader grades.

- A solution cell has nbgrader metadata ``solution: true`` (and is not graded); a test cell has
  ``grade: true, solution: false`` and the ``grade_id`` ``test_<GradedName>``; the grader skips test
  cells and cells tagged ``experiment`` (plots, training runs).
- The graded code is the remaining code cells in order, each ending with one newline.
- IPython-only lines are blanked, keeping every line number: line magics, ``!`` shell lines,
  ``x = !cmd`` / ``x = %magic``, ``obj?`` help and ``get_ipython()`` lines; ``%time stmt`` keeps
  ``stmt``; a cell that starts with a cell magic loses its magic line, and its whole body unless the
  magic runs Python in the notebook's namespace.
"""

from __future__ import annotations

import re

TEST_PREFIX = "test_"
EXPERIMENT_TAG = "experiment"


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata (empty for an ordinary cell; dicts and nbformat nodes alike)."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return dict(nbgrader) if isinstance(nbgrader, dict) else {}


def is_solution_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade")


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not a solution (what the grader skips)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def tested_name(cell) -> str | None:
    """The graded name a test cell grades (``grade_id`` ``test_<Name>``), None for any other cell."""
    grade_id = nbgrader_meta(cell).get("grade_id", "")
    if cell.get("cell_type") != "code" or not is_test_cell(cell) or not str(grade_id).startswith(TEST_PREFIX):
        return None
    return grade_id[len(TEST_PREFIX):]


def is_experiment_cell(cell) -> bool:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return EXPERIMENT_TAG in ((meta.get("tags") if isinstance(meta, dict) else None) or [])


def graded_source(cells) -> tuple[str, list[tuple[int, int]]]:
    """The code the grader reads from a notebook's cells: code cells that are neither test cells nor
    experiments, in order; with (cell index, first line) of each cell used."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell) or is_experiment_cell(cell):
            continue
        src = cell.get("source", "")
        src = ("".join(src) if isinstance(src, list) else str(src)).rstrip("\n") + "\n"
        starts.append((index, line))
        parts.append(src)
        line += src.count("\n")
    return "".join(parts), starts


# Cell magics whose body is Python run in the notebook's own namespace: the body is graded, only the
# magic line goes. Every other cell magic (%%bash, %%html, %%writefile, %%javascript, %%latex, %%timeit,
# ...) runs its body as something else, or in a namespace of its own, so its whole cell is dropped.
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "capture", "prun"})
_CELL_MAGIC = re.compile(r"^%%(\w+)")
# `%time stmt` runs `stmt` in the notebook's namespace: keep the statement.
_TIME_LINE = re.compile(r"^(\s*)%time\s+(\S.*)$")
_MAGIC = re.compile(r"^\s*(%|!)")
_SHELL_ASSIGN = re.compile(r"^\s*[\w.\[\], ]+=\s*(%|!)")  # files = !ls, t = %timeit -o f()
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")  # torch.optim? / ??SGD
_IPYTHON = re.compile(r"\bget_ipython\s*\(\s*\)")
DROPPED = "pass  # (IPython line dropped by the grader)"


def _drop_cell_magics(lines: list[str], first_lines: list[int]) -> None:
    """A cell whose first line is a cell magic: drop the magic line, and the body too unless it is Python."""
    starts = [first - 1 for first in first_lines]
    for start, end in zip(starts, [*starts[1:], len(lines)][: len(starts)], strict=True):
        first = next((i for i in range(start, end) if lines[i].strip()), None)
        match = _CELL_MAGIC.match(lines[first].strip()) if first is not None else None
        if not match:
            continue
        if match.group(1) in PYTHON_BODY_CELL_MAGICS:
            lines[first] = ""
        else:  # blank lines, not removed ones: every later line keeps its number
            lines[start:end] = [""] * (end - start)


def _drop_line(text: str) -> str:
    """What replaces one IPython-only line; an indented one may be the only statement of a block."""
    indent = text[: len(text) - len(text.lstrip())]
    return f"{indent}{DROPPED}" if indent else ""


def drop_magics(source: str, first_lines: list[int] = ()) -> str:
    """``source`` with what only IPython understands blanked, every line keeping its number.
    ``first_lines``: the 1-based first line of each notebook cell in ``source`` (none for a .py file)."""
    lines = source.split("\n")
    _drop_cell_magics(lines, list(first_lines))
    out = []
    for text in lines:
        timed = _TIME_LINE.match(text)
        if timed:
            out.append(timed.group(1) + timed.group(2))
        elif _MAGIC.match(text) or _SHELL_ASSIGN.match(text) or _HELP.match(text) or _IPYTHON.search(text):
            out.append(_drop_line(text))
        else:
            out.append(text)
    return "\n".join(out)
