"""Turn what a student handed in into a ``Submission`` record, without running any of it.

The pipeline is a declared, ordered list of small steps (nbgrader's preprocessor style):

    read_file -> pick_cells -> drop_magics -> parse -> scan

Order matters: magics must go before ``parse`` (``%timeit`` is not Python), and ``scan`` needs the
syntax tree. Each step only adds to the record; a step that finds a fatal problem sets
``load_error`` and later steps skip themselves, so a broken submission still yields a record.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .policy import PolicyReport, check_source

MAX_BYTES = 2 << 20  # a source file larger than this is not a homework answer
IGNORED_IN_FOLDERS = {"conftest.py", "sitecustomize.py", "usercustomize.py", "setup.py"}


@dataclass(frozen=True)
class Cell:
    """Where one notebook cell starts in the assembled source (1-based line) and its index."""

    index: int
    first_line: int


@dataclass
class Submission:
    """One student's code, ready to be sent to a worker, and what the static scan found."""

    student: str
    assignment: str
    module: str
    path: Path
    filename: str = ""
    kind: str = "py"
    text: str = ""
    source: str = ""
    cells: list[Cell] = field(default_factory=list)
    tree: ast.Module | None = None
    scan: PolicyReport | None = None
    load_error: str | None = None

    def where(self, line: int) -> str:
        """Human location of a source line: 'line 12' or 'cell 4, line 3' for notebooks."""
        if not self.cells:
            return f"line {line}"
        cell = max(
            (c for c in self.cells if c.first_line <= line), key=lambda c: c.first_line, default=self.cells[0]
        )
        return f"cell {cell.index + 1}, line {line - cell.first_line + 1}"


def student_id(path: Path) -> str:
    """The student id: a file's stem or a folder's name."""
    return path.name if path.is_dir() else path.stem


def locate(path: Path, module: str, assignment: str) -> tuple[Path | None, str | None]:
    """The file to grade for ``path`` (a file, or a folder holding the module file or notebook)."""
    if path.is_file():
        return path, None
    if not path.is_dir():
        return None, f"{path}: no such file or folder"
    if (path / assignment).is_dir():  # nbgrader's layout: submitted/<student>/<assignment>/
        path = path / assignment
    for candidate in (f"{module}.py", f"{assignment}.ipynb"):
        if (path / candidate).is_file():
            return path / candidate, None
    found = sorted(
        p for p in path.iterdir() if p.suffix in (".py", ".ipynb") and p.name not in IGNORED_IN_FOLDERS
    )
    if len(found) == 1:
        return found[0], None
    listing = ", ".join(p.name for p in found) or "nothing"
    return None, (f"folder {path.name}/ must hold {module}.py or {assignment}.ipynb (found {listing})")


# --- the steps -------------------------------------------------------------------------------------


def read_file(sub: Submission) -> None:
    """Read the file as UTF-8 text (BOM tolerated); refuse binaries and huge files."""
    target, error = locate(sub.path, sub.module, sub.assignment)
    if error:
        sub.load_error = error
        return
    sub.filename = target.name
    sub.kind = "ipynb" if target.suffix == ".ipynb" else "py"
    data = target.read_bytes()
    if len(data) > MAX_BYTES:
        sub.load_error = f"{target.name}: file is {len(data)} bytes; the limit is {MAX_BYTES}"
        return
    try:
        sub.text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sub.load_error = f"{target.name}: not UTF-8 text (byte {exc.start})"
        return
    if not sub.text.strip():
        sub.load_error = f"{target.name}: the file is empty"


def _is_test_cell(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _is_experiment(cell: dict) -> bool:
    return "experiment" in (cell.get("metadata", {}).get("tags") or [])


def pick_cells(sub: Submission) -> None:
    """Notebook: the code cells in order, except nbgrader test cells and cells tagged 'experiment'."""
    if sub.load_error or sub.kind != "ipynb":
        sub.source = sub.text
        return
    try:
        nb = json.loads(sub.text)
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        detail = f" ({exc.msg}, line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        sub.load_error = f"{sub.filename}: not a valid notebook (JSON with a 'cells' list){detail}"
        return
    parts: list[str] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if _is_test_cell(cell) or _is_experiment(cell):
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        src = src.rstrip("\n") + "\n"
        sub.cells.append(Cell(index=index, first_line=line))
        parts.append(src)
        line += src.count("\n")
    sub.source = "".join(parts)
    if not sub.source.strip():
        sub.load_error = f"{sub.filename}: the notebook has no code cells to grade"


_MAGIC = re.compile(r"^\s*(%|!)")
_IPYTHON = re.compile(r"\bget_ipython\s*\(\s*\)")


def drop_magics(sub: Submission) -> None:
    """Blank out IPython magics, shell escapes and get_ipython() lines (keeping line numbers)."""
    if sub.load_error:
        return
    lines = sub.source.split("\n")
    out = []
    for text in lines:
        if _MAGIC.match(text) or _IPYTHON.search(text):
            indent = text[: len(text) - len(text.lstrip())]
            # An indented magic may be the only statement of a block: keep the block valid.
            out.append(f"{indent}pass  # (IPython line dropped by the grader)" if indent else "")
        else:
            out.append(text)
    sub.source = "\n".join(out)


def parse(sub: Submission) -> None:
    """Parse the source; a syntax error becomes a precise load error."""
    if sub.load_error:
        return
    try:
        sub.tree = ast.parse(sub.source, filename=sub.filename)
    except SyntaxError as exc:
        where = sub.where(exc.lineno or 1)
        code = (exc.text or "").strip()
        sub.load_error = f"{sub.filename}, {where}: SyntaxError: {exc.msg}" + (
            f"\n    {code}" if code else ""
        )
    except ValueError as exc:  # e.g. null bytes
        sub.load_error = f"{sub.filename}: cannot be parsed ({exc})"


def scan(sub: Submission) -> None:
    """The submission policy on the syntax tree: delegation to torch's own implementations and code
    the policy does not allow (see ``policy.py``)."""
    if sub.load_error or sub.tree is None:
        return
    sub.scan = check_source(sub.source, sub.tree)


PIPELINE = (read_file, pick_cells, drop_magics, parse, scan)


def load_submission(path: Path, assignment: str, module: str) -> Submission:
    """Run the pipeline on one path (file or folder) and return the record; never raises for bad input."""
    sub = Submission(student=student_id(path), assignment=assignment, module=module, path=path)
    for step in PIPELINE:
        try:
            step(sub)
        except OSError as exc:
            sub.load_error = f"{path.name}: cannot be read ({exc.strerror})"
    return sub
