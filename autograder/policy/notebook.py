"""How the kit reads a notebook: nbgrader's cell conventions and IPython's extra syntax, in one place.

The grader's loader, ``make release``, the nbgrader plugin, the mutation tool and the shipped
``check_submission.py`` all read notebooks through these functions, so what a student checks before
submitting is exactly what the grader grades.

- A solution cell has nbgrader metadata ``solution: true`` (and is not graded); a test cell has
  ``grade: true, solution: false`` and the ``grade_id`` ``test_<GradedName>``; the grader skips test
  cells and cells tagged ``experiment`` (plots, training runs) or ``self-check`` (the public checks,
  which the Submitting section's export command leaves out of a .py as well).
- The graded code is the remaining code cells in order, each ending with one newline.
- Python is read as Python. In a notebook cell, a line is IPython-only (a line magic, a ``!`` shell
  line, ``x = !cmd`` / ``x = %magic``, ``obj?`` help) only where IPython itself reads it so: at the
  start of a logical line, as Python's tokenizer finds them (a continuation line such as ``% lr``
  inside brackets is Python). Those lines are blanked, keeping every line number; ``%time stmt``
  keeps ``stmt``; a cell that starts with a cell magic loses its magic line, and its whole body unless
  the magic runs Python in the notebook's namespace.
- A ``.py`` file has no magics: only the ``get_ipython()`` statements nbconvert writes for them are
  dropped (decided on the syntax tree; ``%time stmt`` and ``%%time`` cells keep their code), and its
  ``# In[ ]:`` markers tell where the notebook's cells were.
"""

from __future__ import annotations

import ast
import json
import re
import tokenize

TEST_PREFIX = "test_"
EXPERIMENT_TAG = "experiment"
# The public self-check cells (nbgrader's test cells and the policy self-check): the export command of
# a notebook's Submitting section leaves them out of a .py, as the grader leaves them out of a notebook.
SELF_CHECK_TAG = "self-check"
EXPORT_TAGS = (EXPERIMENT_TAG, SELF_CHECK_TAG)


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


def cell_tags(cell) -> list:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return tags if isinstance(tags, list) else []


def is_experiment_cell(cell) -> bool:
    return EXPERIMENT_TAG in cell_tags(cell)


def is_self_check_cell(cell) -> bool:
    return SELF_CHECK_TAG in cell_tags(cell)


def export_command(assignment: str, module: str) -> str:
    """The command of a notebook's Submitting section: a .py without experiments and self-checks."""
    tags = " ".join(f"--TagRemovePreprocessor.remove_cell_tags {tag}" for tag in EXPORT_TAGS)
    return f"jupyter nbconvert --to python {tags} --output {module} {assignment}.ipynb"


def graded_source(cells) -> tuple[str, list[tuple[int, int]]]:
    """The code the grader reads from a notebook's cells: code cells that are neither test cells nor
    tagged experiment or self-check, in order; with (cell index, first line) of each cell used."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell) or is_experiment_cell(cell) or is_self_check_cell(cell):
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
# The escapes IPython reads at the start of a logical line (a magic, a shell command, help).
_ESCAPES = ("%", "!", "?")
_TIME_LINE = re.compile(r"^(\s*)%time\s+(\S.*)$")  # `%time stmt` runs `stmt` in the notebook's namespace
_ASSIGNED_ESCAPE = re.compile(r"^\s*[\w.\[\], ]+=\s*(%|!)")  # files = !ls, t = %timeit -o f()
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*(#.*)?$")  # torch.optim? / ??SGD
DROPPED = "pass  # (IPython line dropped by the grader)"
_CELL_MARKER = re.compile(r"^# In\[[ \d]*\]:\s*$")  # what nbconvert writes before each cell of a .py


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


def _statement_end(lines: list[str], first: int, stop: int) -> int:
    """The last physical line (index) of the logical line that starts at ``first``, as Python's own
    tokenizer sees it (brackets, strings and backslashes continue a line), never past ``stop``."""
    rows = iter(range(first, stop))

    def readline() -> str:
        i = next(rows, None)
        if i is None:
            return ""
        return (lines[i].lstrip() if i == first else lines[i]) + "\n"

    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.NEWLINE:
                return first + token.start[0] - 1
            if token.type == tokenize.ENDMARKER:
                break
    except tokenize.TokenError:  # an open bracket or string up to the end: the rest is one line
        return stop - 1
    except SyntaxError as exc:  # newer tokenizers stop at characters Python does not know
        return min(stop - 1, first + max((exc.lineno or 1) - 1, 0))
    return stop - 1


def _escaped(text: str) -> bool:
    """Whether a line that starts a logical line is one IPython reads as a magic, shell or help line."""
    body = text.lstrip()
    return body.startswith(_ESCAPES) or bool(_ASSIGNED_ESCAPE.match(text)) or bool(_HELP.match(text))


def _drop_escapes(lines: list[str], start: int, stop: int) -> None:
    """Blank the IPython-only logical lines of one cell (``lines[start:stop]``): a line is one only when
    it starts a logical line, exactly as IPython decides; ``%time stmt`` keeps ``stmt``."""
    i = start
    while i < stop:
        text = lines[i]
        body = text.strip()
        if not body or body.startswith("#"):
            i += 1
            continue
        if _escaped(text):
            end = i
            while lines[end].rstrip().endswith("\\") and end + 1 < stop:  # a magic continues with `\`
                end += 1
            timed = _TIME_LINE.match(text) if end == i else None
            lines[i] = timed.group(1) + timed.group(2) if timed else _drop_line(text)
            for k in range(i + 1, end + 1):
                lines[k] = ""
            i = end + 1
            continue
        i = _statement_end(lines, i, stop) + 1


def drop_magics(source: str, first_lines: list[int] = ()) -> str:
    """``source`` (a notebook's graded cells) with what only IPython understands blanked, every line
    keeping its number. ``first_lines``: the 1-based first line of each cell (a cell starts a logical
    line; none given: the whole source is one cell)."""
    lines = source.split("\n")
    firsts = list(first_lines) or [1]
    _drop_cell_magics(lines, firsts)
    bounds = [first - 1 for first in firsts]
    for start, stop in zip(bounds, [*bounds[1:], len(lines)], strict=True):
        _drop_escapes(lines, start, stop)
    return "\n".join(lines)


# --- .py files ---------------------------------------------------------------------------------------

def script_cells(source: str) -> list[int]:
    """The 1-based first line of each cell of a ``.py`` exported by nbconvert (after its ``# In[ ]:``
    markers); [] for a file without markers."""
    return [i + 2 for i, line in enumerate(source.split("\n")) if _CELL_MARKER.match(line)]


def _ipython_call(node: ast.AST) -> tuple[str, list] | None:
    """(method, constant arguments) of ``get_ipython().<method>(...)``, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
            and owner.func.id == "get_ipython"):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
    return node.func.attr, args


def drop_ipython_calls(source: str, *, expand: bool = True) -> tuple[str, list[int]]:
    """``source`` without the ``get_ipython()`` statements nbconvert writes for magics, shell and help
    lines (and without the assignments of their results), decided on the syntax tree. As in a notebook,
    ``%time stmt`` and a ``%%time``/``%%capture``/``%%prun`` cell keep their Python code. Returns the new
    source and, per new line, the line of ``source`` it comes from (1-based). A source that does not
    parse is returned as it is (the loader reports the syntax error). ``expand=False`` keeps every line
    number (a cell magic's Python body is then dropped too, unless it is a single line)."""
    lines = source.split("\n")
    origin = list(range(1, len(lines) + 1))
    if "get_ipython" not in source:
        return source, origin
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, origin
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expr, ast.Assign)):
            continue
        call = _ipython_call(node.value)
        if call is None:
            continue
        method, args = call
        indent = " " * node.col_offset
        keep: list[str] = [indent + DROPPED if indent else ""]
        if isinstance(node, ast.Expr) and method == "run_line_magic" and args[:1] == ["time"] \
                and isinstance(args[1:2] and args[1], str):
            keep = [indent + args[1]]
        elif isinstance(node, ast.Expr) and method == "run_cell_magic" and len(args) == 3 \
                and args[0] in PYTHON_BODY_CELL_MAGICS and isinstance(args[2], str):
            body = [indent + line if line.strip() else "" for line in args[2].rstrip("\n").split("\n")]
            keep = body if body and (expand or len(body) == 1) else keep
        edits.append((node.lineno, node.end_lineno or node.lineno, keep))
    for first, last, keep in sorted(edits, reverse=True):
        lines[first - 1: last] = keep + [""] * max(0, (last - first + 1) - len(keep))
        origin[first - 1: last] = [first] * len(keep) + list(range(first + len(keep), last + 1))[
            : max(0, (last - first + 1) - len(keep))]
    return "\n".join(lines), origin


# --- where a line is, in words a student can follow ---------------------------------------------------

_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.MULTILINE)


def describe_line(source: str, cells: list[tuple[int, int]], line: int,
                  origin: list[int] | None = None) -> str:
    """Where line ``line`` of the graded ``source`` is: in a notebook (``cells``: each graded cell's
    number among the notebook's code cells, as Jupyter users count them, and its first line) 'the cell
    defining `Adam`, line 3', or 'code cell 4, line 3' for a cell defining nothing; in a ``.py`` file
    'line 12' of the file (``origin`` maps graded lines to the file's when they differ)."""
    if not cells:
        if origin and 1 <= line <= len(origin):
            line = origin[line - 1]
        return f"line {line}"
    at = max((k for k, c in enumerate(cells) if c[1] <= line), key=lambda k: cells[k][1], default=0)
    number, first = cells[at]
    end = cells[at + 1][1] - 1 if at + 1 < len(cells) else None
    body = "\n".join(source.split("\n")[first - 1: end])
    names = _DEFINITION.findall(body)
    local = f"line {line - first + 1}"
    if names:
        shown = ", ".join(f"`{n}`" for n in names[:3]) + (" ..." if len(names) > 3 else "")
        return f"the cell defining {shown}, {local}"
    return f"code cell {number}, {local}"


def code_cell_numbers(cells) -> dict[int, int]:
    """Cell index -> its 1-based number among the notebook's code cells (what a student can count)."""
    out: dict[int, int] = {}
    for index, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out[index] = len(out) + 1
    return out


def graded_code(text: str, kind: str) -> tuple[str, list[tuple[int, int]], list[int] | None]:
    """What the grader grades of a submission's text (``kind`` "ipynb" or "py"): the source, its
    notebook cells as (code cell number, first line) ([] for a .py), and for a .py the file line of
    each source line where they differ (None otherwise). Raises ValueError for a notebook that is not
    JSON with a list of cells."""
    if kind != "ipynb":
        source, origin = drop_ipython_calls(text)
        return source, [], origin if origin != list(range(1, len(origin) + 1)) else None
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(cells, list):
        raise ValueError("its 'cells' is not a list")
    source, starts = graded_source(cells)
    source = drop_magics(source, [first for _, first in starts])
    source, _ = drop_ipython_calls(source, expand=False)  # explicit get_ipython() lines, as in a .py
    numbers = code_cell_numbers(cells)
    return source, [(numbers.get(index, index + 1), first) for index, first in starts], None
