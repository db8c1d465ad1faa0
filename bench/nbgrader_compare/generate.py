"""Build the comparison's notebooks: ``python -m bench.nbgrader_compare.generate [--check]``.

- ``source/<id>/<id>.ipynb``: the instructor notebook of the nbgrader way, i.e. the solution notebook
  with the hidden tests of ``hidden_tests.py`` appended to each graded name's test cell.
- ``submissions/<id>/<student>.ipynb``: what each student of ``submissions.py`` hands in: the released
  notebook (hidden tests stripped, as ``nbgrader generate_assignment`` does) with the solution code
  typed in place of each stub (the ``### BEGIN/END SOLUTION`` marker lines gone) and, for a buggy
  submission, its one bug applied. No outputs: nbgrader clears them anyway, the kit never reads them.

``--check`` writes nothing and exits 1 when a committed notebook differs from what would be generated.
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
SOURCE = HERE / "source"
SUBMITTED = HERE / "submissions"
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


def source_path(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def submission_path(sub: Submission) -> Path:
    return SUBMITTED / sub.assignment / f"{sub.student}.ipynb"


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


def build_all() -> dict[Path, object]:
    """Every notebook of the material, by the path it is committed at."""
    out: dict[Path, object] = {}
    for assignment in assignments():
        source = build_source(assignment)
        out[source_path(assignment)] = source
        for sub in (s for s in SUBMISSIONS if s.assignment == assignment):
            out[submission_path(sub)] = apply_bug(student_view(source), sub)
    return out


def _text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed notebooks only")
    args = parser.parse_args(argv)
    stale = []
    for path, nb in build_all().items():
        text = _text(nb)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.relative_to(REPO))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    expected = set(build_all()) if args.check else set()
    if args.check:
        extra = [p.relative_to(REPO) for p in SUBMITTED.glob("*/*.ipynb") if p not in expected]
        for path in stale:
            print(f"stale: {path} (run python -m bench.nbgrader_compare.generate)")
        for path in extra:
            print(f"not generated by the table: {path}")
        return 1 if stale or extra else 0
    print(f"wrote {len(SUBMISSIONS)} submissions and {len(assignments())} source notebooks under {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
