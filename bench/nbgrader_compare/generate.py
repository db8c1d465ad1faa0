"""Build the comparison's notebooks from ``solutions/`` and the two tables next to this file:
``python -m bench.nbgrader_compare.generate OUT`` writes them under OUT for a look; the bench builds
them afresh into its temporary folder at every run, so they always match the current solutions.

- ``source/<id>/<id>.ipynb``: the instructor notebook of the nbgrader way, i.e. the solution notebook
  with the hidden tests of ``hidden_tests.py`` appended to each graded name's test cell.
- ``submissions/<id>/<student>.ipynb``: what each student of ``submissions.py`` hands in: the released
  notebook (hidden tests stripped, as ``nbgrader generate_assignment`` does) with the solution code
  typed in place of each stub (the ``### BEGIN/END SOLUTION`` marker lines gone) and, for a buggy
  submission, its one bug applied. No outputs: nbgrader clears them anyway, the kit never reads them.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

from .hidden_tests import BEGIN, END, hidden_block
from .submissions import SUBMISSIONS, Submission

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
TEST_PREFIX = "test_"


def nbgrader_meta(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade")


def assignments() -> list[str]:
    return sorted({s.assignment for s in SUBMISSIONS})


def source_path(root: Path, assignment: str) -> Path:
    return root / "source" / assignment / f"{assignment}.ipynb"


def submission_path(root: Path, sub: Submission) -> Path:
    return root / "submissions" / sub.assignment / f"{sub.student}.ipynb"


def _clear_outputs(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def build_source(assignment: str):
    """The solution notebook with each test cell extended by its graded name's hidden tests."""
    nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    _clear_outputs(nb)
    for cell in nb.cells:
        if is_test_cell(cell):
            name = nbgrader_meta(cell)["grade_id"].removeprefix(TEST_PREFIX)
            cell.source = cell.source.rstrip() + "\n" + hidden_block(name)
    return nb


def strip_hidden(source: str) -> str:
    """nbgrader's ClearHiddenTests: drop the marker lines and everything between them."""
    kept, hidden = [], False
    for line in source.splitlines():
        if BEGIN in line:
            hidden = True
        elif END in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).rstrip()


def typed_solution(source: str) -> str:
    """A solution cell as a student who typed the code in would hand it in: no marker lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def student_view(source_nb):
    """The released notebook with the solutions typed in (what a correct student submits)."""
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.source = strip_hidden(cell.source)
        elif is_solution_cell(cell):
            cell.source = typed_solution(cell.source)
    return nb


def apply_bug(nb, sub: Submission):
    """``nb`` with ``sub``'s one replacement made in its cell; an error unless ``old`` occurs once there."""
    if not sub.buggy:
        return nb
    cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == sub.cell and is_solution_cell(c)]
    if len(cells) != 1:
        raise ValueError(f"{sub.student}: {len(cells)} solution cells with grade_id {sub.cell!r}")
    count = cells[0].source.count(sub.old)
    if count != 1:
        raise ValueError(f"{sub.student}: the bug's old snippet occurs {count} times in cell {sub.cell!r}")
    cells[0].source = cells[0].source.replace(sub.old, sub.new)
    return nb


def build_all(root: Path) -> dict[Path, object]:
    """Every notebook of the material, by the path it gets under ``root``."""
    out: dict[Path, object] = {}
    for assignment in assignments():
        source = build_source(assignment)
        out[source_path(root, assignment)] = source
        for sub in (s for s in SUBMISSIONS if s.assignment == assignment):
            out[submission_path(root, sub)] = apply_bug(student_view(source), sub)
    return out


def write_material(root: Path) -> None:
    """Write every notebook of the material under ``root``."""
    for path, nb in build_all(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nbformat.writes(nb) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the notebooks into")
    args = parser.parse_args(argv)
    write_material(args.out)
    print(f"wrote {len(SUBMISSIONS)} submissions and {len(assignments())} source notebooks under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
