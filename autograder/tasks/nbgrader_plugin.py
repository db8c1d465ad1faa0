"""Run the kit's grading inside nbgrader (``nbgrader_config.py`` wires these in).

- ``KitGrades`` (an autograde preprocessor, in place of ``Execute``): nbgrader never runs student code in
  a kernel of its own. For each notebook it takes the kit's record of the student: the one ``make
  autograde`` graded in the kit's parallel lanes (``records_dir``), used only when the content hash of
  the notebook's graded code equals the hash stored with the record, else it grades the notebook
  in-process with one sandbox zygote shared by every notebook of the run. It then replaces the outputs
  of every autograded test cell (``grade_id`` ``test_<Name>``) with the kit's feedback for that graded
  name and an ``execute_result`` holding the points earned; nbgrader reads that as partial credit, so
  the gradebook and ``make grade`` agree by construction. The outputs are set after ``OverwriteCells``
  restored the trusted test cells, so nothing the student's notebook holds counts.
- ``KitNotebookExporter`` (``Autograde.exporter_class``): a submitted notebook nbgrader cannot read
  (not JSON, not a notebook) is replaced by the released notebook with a note on top saying why, so the
  student is still recorded in the gradebook, with 0 points and the reason in every test cell.
- ``KitFeedback`` (first of ``GenerateFeedback.preprocessors``): writes each test cell's text for the
  student, with the details of hidden checks withheld until ``make publish`` sets ``published``.
"""

from __future__ import annotations

import atexit
import json
import logging
import tempfile
from pathlib import Path

import nbformat
import nbgrader
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

from ..grading.rubric import assignment_ids, load_rubric
from ..policy.notebook import tested_name
from ..reporters.visibility import student_view

KIT_KEY = "kit"  # cell / notebook metadata key of the kit
_zygote = None
# How this process's KitGrades got each record: from make autograde's lanes, or graded here.
GRADED = {"from_records": 0, "in_process": 0}

# nbgrader's feedback template without MathJax, which it loads from a CDN: templates/feedback/ comes
# before nbgrader's own feedback/ folder, so its mathjax.html.j2 shadows nbconvert's (the page works
# offline) and its kit_index.html.j2 extends nbgrader's index.html.j2.
FEEDBACK_TEMPLATE_FILE = "kit_index.html.j2"
FEEDBACK_TEMPLATE_DIRS = [
    str(Path(__file__).resolve().parent / "templates"),
    str(Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"),
]


def shared_zygote():
    """One sandbox zygote for every notebook graded in-process by this nbgrader run."""
    global _zygote
    if _zygote is None:
        from ..sandbox.runner import Zygote

        _zygote = Zygote()
        atexit.register(_zygote.close)
    return _zygote


def cell_text(items: list[dict], rubric, *, published: bool) -> str:
    """The student-facing text of one test cell: one line per rubric line of its graded name, the lines
    not passed first with their feedback (hidden lines only once published), as the kit's HTML shows
    it, then the passed ones."""
    view = student_view({"assignment": rubric.assignment, "items": items}, rubric, published=published)
    lines = []
    ordered = sorted(view["items"], key=lambda item: item["status"] == "passed")  # stable: rubric order
    for item in ordered:
        hidden = " (hidden)" if item.get("visibility") == "hidden" else ""
        text = f"{item['id']}{hidden}: {item['status']} ({item['score']:g}/{item['max_score']:g})"
        if item["status"] != "passed" and item["feedback"]:
            text += "\n    " + item["feedback"].replace("\n", "\n    ")
        lines.append(text)
    return "\n".join(lines) + "\n"


def items_by_name(record: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for item in record["items"]:
        out.setdefault(item["id"].split(".")[0], []).append(item)
    return out


def scores_by_name(record: dict) -> dict[str, tuple[float, str]]:
    """Points earned per graded name and its student-facing text (hidden details withheld)."""
    rubric = load_rubric(record["assignment"])
    return {
        name: (sum(i["score"] for i in items), cell_text(items, rubric, published=False))
        for name, items in items_by_name(record).items()
    }


def stored_record(records_dir: str, student: str, digest: str) -> dict | None:
    """The record ``make autograde`` stored for ``student``, if its content hash is ``digest``."""
    if not records_dir or not student:
        return None
    folder = Path(records_dir)
    try:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        if (run.get("inputs") or {}).get(student) != digest:
            return None
        record = json.loads((folder / f"{student}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("student") == student else None


def kit_record(path: Path, assignment: str, student: str, records_dir: str) -> tuple[dict, bool]:
    """The kit's record of the submission at ``path``: ``(record, came from records_dir)``."""
    from ..grading.batch import grade_path
    from .fingerprint import submission_hash

    rubric = load_rubric(assignment)
    record = stored_record(records_dir, student, submission_hash(path, rubric))
    if record is not None:
        return record, True
    faults: list[str] = []
    record = grade_path(path, rubric, shared_zygote(), faults=faults)
    for fault in faults:  # tracebacks of the kit: the TA's log only, never the notebook's feedback
        logging.getLogger(__name__).error("grader fault (%s, %s): %s", assignment, student, fault)
    return record, False


class KitGrades(NbGraderPreprocessor):
    """Write the kit's grade of each graded name into its nbgrader test cell (see the module doc)."""

    records_dir = Unicode(
        "", help="folder of kit records of this assignment (written by make autograde)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment, student = info["assignment"], info.get("student", "")
        if assignment not in assignment_ids():
            self.log.warning("KitGrades: no rubric for %s; leaving the notebook as it is", assignment)
            return nb, resources
        unreadable = nb.metadata.get(KIT_KEY, {}).get("unreadable")
        if unreadable:  # grade the student's own file, as the kit's lanes did
            record, stored = kit_record(Path(unreadable["path"]), assignment, student, self.records_dir)
        else:
            with tempfile.TemporaryDirectory(prefix="kit-nbgrader-") as tmp:
                path = Path(tmp) / f"{info.get('notebook') or assignment}.ipynb"
                nbformat.write(nb, str(path))
                record, stored = kit_record(path, assignment, student, self.records_dir)
        GRADED["from_records" if stored else "in_process"] += 1
        if not stored:
            self.log.info("KitGrades: %s graded in-process (no matching record)", student)
        rubric = load_rubric(assignment)
        per_name = items_by_name(record)
        for cell in nb.cells:
            name = tested_name(cell)
            if name is None:
                continue
            items = per_name.get(name, [])
            points = sum(i["score"] for i in items)
            text = cell_text(items, rubric, published=False) if items else "not graded by the kit\n"
            cell.metadata[KIT_KEY] = {"items": items}  # the TA's copy, for make publish
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=text),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": repr(float(points))}, execution_count=None
                ),
            ]
        return nb, resources


class KitFeedback(NbGraderPreprocessor):
    """Rewrite each test cell's text for nbgrader's feedback page; hidden details only when published."""

    published = Bool(False, help="show the details of hidden checks (make publish)").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        if assignment not in assignment_ids():
            return nb, resources
        rubric = load_rubric(assignment)
        for cell in nb.cells:
            items = cell.get("metadata", {}).get(KIT_KEY, {}).get("items")
            if cell.cell_type != "code" or not items:
                continue
            text = cell_text(items, rubric, published=self.published)
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stdout":
                    output.text = text
        return nb, resources


def unreadable_note(reason: str) -> str:
    return (
        f"**The grader could not read the notebook you submitted.** {reason}\n\n"
        "Nothing in it could be graded, so every graded part scores 0. The cells below are the "
        "released notebook, shown in place of yours. Ask your TA if you believe your file is fine."
    )


class KitNotebookExporter(NotebookExporter):
    """nbgrader's notebook exporter, which never fails on a submitted file it cannot read (module doc)."""

    def from_file(self, file_stream, resources=None, **kw):
        meta = (resources or {}).get("metadata", {})
        path = Path(meta.get("path", ".")) / f"{meta.get('name', 'notebook')}.ipynb"
        try:
            nb = nbformat.reads(file_stream.read(), as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("its 'cells' is not a list")
        except Exception as exc:  # not UTF-8, not JSON, not a notebook: the kit's loader says which
            nb = self.substitute(path, resources, exc)
        return self.from_notebook_node(nb, resources=resources, **kw)

    def substitute(self, path: Path, resources, exc: Exception):
        """The released notebook with a note on top, standing for the unreadable file at ``path``."""
        info = (resources or {}).get("nbgrader", {})
        coursedir = getattr(self.parent, "coursedir", None)
        assignment = info.get("assignment", "")
        if coursedir is None or assignment not in assignment_ids():
            raise exc
        release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / path.name
        if not release.is_file():
            raise exc
        from ..grading.loader import load_submission

        sub = load_submission(path, assignment, load_rubric(assignment).module)
        reason = sub.load_error or f"nbgrader cannot read it ({exc})"
        nb = nbformat.read(str(release), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(unreadable_note(reason)))
        nb.metadata[KIT_KEY] = {"unreadable": {"path": str(path.resolve()), "reason": reason}}
        self.log.warning(
            "student %s: %s; recorded with 0 points, the reason is in their feedback",
            info.get("student", "?"),
            reason,
        )
        return nb
