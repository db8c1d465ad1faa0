"""Turn what a student handed in into a ``Submission`` record, without running any of it.

The pipeline is a declared, ordered list of small steps (nbgrader's preprocessor style):

    read_file -> graded_code -> parse -> scan

Order matters: ``graded_code`` (``policy.notebook.graded_code``: the cells the grader runs, IPython's
own syntax dropped where IPython reads it) must come before ``parse`` (``%timeit`` is not Python), and
``scan`` needs the syntax tree. Each step only adds to the record; a step that finds a fatal problem
sets ``load_error`` and later steps skip themselves, so a broken submission still yields a record, and
no step can raise for any input (a step's unexpected failure is that submission's load error).
"""

from __future__ import annotations

import ast
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..policy import PolicyReport, check_source
from ..policy.notebook import describe_line
from ..policy.notebook import graded_code as read_graded_code

MAX_BYTES = {"py": 2 << 20, "ipynb": 24 << 20}  # larger is not a homework answer (notebooks hold plots)
IGNORED_IN_FOLDERS = {"conftest.py", "sitecustomize.py", "usercustomize.py", "setup.py"}


@dataclass(frozen=True)
class Cell:
    """Where one graded notebook cell starts in the assembled source (1-based line), and its number
    among the notebook's code cells (1-based, what a student can count)."""

    code_number: int
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
    origin: list[int] | None = None  # a .py's file line of each graded line, where they differ
    tree: ast.Module | None = None
    scan: PolicyReport | None = None
    load_error: str | None = None
    _lines: list[str] | None = field(default=None, repr=False)

    def where(self, line: int) -> str:
        """Where a source line is, in words a student can follow: 'line 12' in a file; in a notebook
        'the cell defining `Adam`, line 3', or 'code cell 4, line 3' for a cell defining nothing
        (markdown cells are not counted)."""
        return describe_line(self.source, [(c.code_number, c.first_line) for c in self.cells], line,
                             self.origin)

    def quote(self, line: int) -> str:
        """The source line ``line`` (1-based) as the student wrote it, stripped; '' when out of range."""
        if self._lines is None:
            self._lines = self.source.splitlines()
        return self._lines[line - 1].strip() if 1 <= line <= len(self._lines) else ""


def student_id(path: Path) -> str:
    """The student id: a file's stem or a folder's name."""
    return path.name if path.is_dir() else path.stem


def _kind(path: Path) -> str:
    """'file', 'folder', 'link', 'missing' or what else the entry is, without following links."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    return "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"


def _refuse_odd_entries(folder: Path) -> str | None:
    """A submission is regular files and folders only: a symbolic link (to anything, inside or
    outside the submission) or a FIFO, socket or device in a folder we look into is an error."""
    for entry in sorted(folder.iterdir()):
        kind = _kind(entry)
        if kind == "link":
            return f"{folder.name}/{entry.name} is a symbolic link; submit regular files only"
        if kind not in ("file", "folder"):
            return f"{folder.name}/{entry.name} is a {kind}, not a regular file"
    return None


def submission_folder(path: Path, assignment: str) -> Path:
    """Where a student's files are: nbgrader's ``submitted/<student>/<assignment>/``, else ``path``."""
    return path / assignment if _kind(path / assignment) == "folder" else path


def candidates(folder: Path, module: str, assignment: str) -> list[Path]:
    """The files of ``folder`` that could be the submission, in the order the grader prefers them.

    The rule (README, "Students"): the notebook ``<assignment>.ipynb`` first, because the notebook is
    what the course hands out and asks back; then the module file ``<module>.py``; then any other
    ``.py``/``.ipynb`` file (only taken when it is the only one). Plugin files that Python or pytest
    would import on their own (``conftest.py``, ``sitecustomize.py``, ...) are never candidates.
    """
    found = [
        p
        for p in folder.iterdir()
        if p.suffix in (".py", ".ipynb") and p.name not in IGNORED_IN_FOLDERS and _kind(p) == "file"
    ]
    preferred = {f"{assignment}.ipynb": 0, f"{module}.py": 1}
    return sorted(found, key=lambda p: (preferred.get(p.name, 2), p.name))


def locate(path: Path, module: str, assignment: str) -> tuple[Path | None, str | None]:
    """The file to grade for ``path`` (a file, or a folder holding the module file or notebook).
    Symbolic links and special files are refused, never followed."""
    kind = _kind(path)
    if kind == "file":
        return path, None
    if kind == "missing":
        return None, f"{path}: no such file or folder"
    if kind == "link":
        return None, f"{path.name} is a symbolic link; submit the file or folder itself"
    if kind != "folder":
        return None, f"{path.name} is a {kind}, not a regular file or folder"
    folder = submission_folder(path, assignment)
    problem = _refuse_odd_entries(path) or (_refuse_odd_entries(folder) if folder != path else None)
    if problem:
        return None, problem
    found = candidates(folder, module, assignment)
    if found and (len(found) == 1 or found[0].name in (f"{assignment}.ipynb", f"{module}.py")):
        return found[0], None
    listing = ", ".join(p.name for p in found) or "nothing"
    return None, (f"folder {folder.name}/ must hold {module}.py or {assignment}.ipynb (found {listing})")


# --- the steps -------------------------------------------------------------------------------------


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, read without following a link or blocking (a FIFO swapped in
    after ``locate`` opens at once and is refused), its size checked with fstat before reading, and
    the read bounded even if the file grows meanwhile. ``ValueError`` with the reason otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{path.name}: file is {st.st_size} bytes; the limit is {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ValueError(f"{path.name}: file is more than {limit} bytes; the limit is {limit}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file(sub: Submission) -> None:
    """Read the file as UTF-8 text (BOM tolerated); refuse links, special files, binaries and huge
    files. Messages name the submission's own files only."""
    target, error = locate(sub.path, sub.module, sub.assignment)
    if error:
        sub.load_error = error
        return
    sub.filename = target.name
    sub.kind = "ipynb" if target.suffix == ".ipynb" else "py"
    try:
        data = read_regular(target, MAX_BYTES[sub.kind])
    except ValueError as exc:
        sub.load_error = str(exc)
        return
    except OSError as exc:  # ELOOP: a link swapped in after locate; EACCES: not readable
        sub.load_error = f"{target.name}: cannot be read ({os.strerror(exc.errno) if exc.errno else exc})"
        return
    try:
        sub.text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sub.load_error = f"{target.name}: not UTF-8 text (byte {exc.start})"
        return
    if not sub.text.strip():
        sub.load_error = f"{target.name}: the file is empty"


def graded_code(sub: Submission) -> None:
    """What the grader runs of the file (``policy.notebook.graded_code``, the rule the shipped
    self-check applies too): a notebook's code cells except nbgrader test cells and cells tagged
    'experiment', IPython's own syntax dropped where IPython reads it; a ``.py`` as it is, but for the
    ``get_ipython()`` statements nbconvert writes."""
    if sub.load_error:
        return
    try:
        sub.source, cells, sub.origin = read_graded_code(sub.text, sub.kind)
    except ValueError as exc:
        sub.load_error = f"{sub.filename}: not a valid notebook (JSON with a 'cells' list: {exc})"[:400]
        return
    sub.cells = [Cell(number, first) for number, first in cells]
    if not sub.source.strip():
        what = "the notebook has no code cells to grade" if sub.kind == "ipynb" else "the file is empty"
        sub.load_error = f"{sub.filename}: {what}"


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
    except (RecursionError, MemoryError):  # e.g. an expression of 50 000 terms
        sub.load_error = f"{sub.filename}: cannot be parsed (nested or chained too deeply)"


def scan(sub: Submission) -> None:
    """The submission policy on the syntax tree: delegation to torch's own implementations and code
    the policy does not allow (see ``policy.py``)."""
    if sub.load_error or sub.tree is None:
        return
    try:
        sub.scan = check_source(sub.source, sub.tree)
    except (RecursionError, MemoryError):
        sub.load_error = f"{sub.filename}: cannot be checked (nested too deeply)"


PIPELINE = (read_file, graded_code, parse, scan)


def load_submission(path: Path, assignment: str, module: str) -> Submission:
    """Run the pipeline on one path (file or folder) and return the record; never raises for bad input."""
    sub = Submission(student=student_id(path), assignment=assignment, module=module, path=path)
    for step in PIPELINE:
        try:
            step(sub)
        except OSError as exc:  # never the path of what a link pointed to: only the submission's name
            sub.load_error = f"{path.name}: cannot be read ({exc.strerror})"
        except (RecursionError, MemoryError):  # nested too deeply for any step: this student only
            sub.load_error = f"{path.name}: cannot be read (nested too deeply)"
        except Exception as exc:  # noqa: BLE001 - no input may stop a class run
            sub.load_error = f"{path.name}: cannot be read ({type(exc).__name__})"
        if sub.load_error:
            sub.tree = sub.scan = None
            break
    return sub
