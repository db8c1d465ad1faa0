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

  What it grades is the notebook's cells and nothing else: it reads no path, flag or field from the
  notebook's metadata or from its cells' (the only thing it reads itself is the ``grade_id`` of the
  test cells, which nbgrader restored from the gradebook). The cells go to the kit's loader exactly as
  a submitted file does, so the record is the one ``make grade`` gives the same content. Every ``kit``
  key the student's notebook may carry is deleted, so the autograded notebook's kit data is KitGrades'
  own.
- ``KitNotebookExporter`` (``Autograde.exporter_class``): a submitted notebook nbgrader cannot read
  (not JSON, not a notebook), or the kit's loader refuses to read (a symbolic link, a special file, a
  file over the size cap: nbgrader would read what the kit's record does not), is replaced by the
  released notebook with a note on top saying why, so the student is still recorded in the gradebook,
  with 0 points and the reason in every test cell. It tells ``KitGrades`` so through a process-local
  registry keyed by (student, assignment, notebook), never through the notebook: ``KitGrades`` then
  takes the kit's record of the student's submission (``submitted/<student>/``, from nbgrader's own
  layout, as ``make autograde``'s lanes graded it), which holds the same reason.
- ``KitFeedback`` (first of ``GenerateFeedback.preprocessors``): writes each test cell's feedback for
  the student as HTML (the reproducers as code blocks, wrapped, never clipped; the loss-curve plots),
  with the details of hidden checks withheld until nbgrader's class is published (``make publish
  ASSIGNMENT=.. NBGRADER=1``, remembered in the course folder: ``nbgrader_course.nbgrader_published``).
  The kit's feedback template names the graded name in each test cell's header and in the contents.
"""

from __future__ import annotations

import atexit
import json
import logging
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import nbformat
import nbgrader
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, List, Unicode

from ..grading.rubric import assignment_ids, load_rubric
from ..policy.notebook import tested_name
from ..reporters import plots
from ..reporters._common import fmt_points
from ..reporters.html import STATUS_LABELS, feedback_parts
from ..reporters.visibility import student_view

KIT_KEY = "kit"  # cell metadata key of the kit in autograded notebooks (written by KitGrades only)
_zygote = None
# How this process's KitGrades got each record: from make autograde's lanes, or graded here.
GRADED = {"from_records": 0, "in_process": 0}

# nbgrader's feedback template without MathJax, which it loads from a CDN: templates/feedback/ comes
# before nbgrader's own feedback/ folder, so its mathjax.html.j2 shadows nbconvert's (the page works
# offline) and its kit_index.html.j2 extends nbgrader's index.html.j2.
TEMPLATES = Path(__file__).resolve().parent / "templates"
FEEDBACK_TEMPLATE_FILE = "kit_index.html.j2"
FEEDBACK_TEMPLATE_DIRS = [
    str(TEMPLATES),
    str(Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"),
]
# What nbconvert's HTMLExporter configures for every NbConvertBase (``NbConvertBase.display_data_
# priority``). nbgrader's preprocessor base re-declares the trait without ``config=True``, so traitlets
# warns "display_data_priority not recognized" for each of our preprocessors; declaring it
# configurable (as nbgrader's own GetGrades does) takes the setting silently.
DISPLAY_PRIORITY = ["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png",
                    "image/jpeg", "text/plain"]


def shared_zygote():
    """One sandbox zygote for every notebook graded in-process by this nbgrader run."""
    global _zygote
    if _zygote is None:
        from ..sandbox.runner import Zygote

        _zygote = Zygote()
        atexit.register(_zygote.close)
    return _zygote


# --- notebooks nbgrader cannot read ----------------------------------------------------------------


@dataclass(frozen=True)
class Unreadable:
    """A submitted notebook nbgrader could not (or must not) read: the student's submission as the kit
    grades it (``submitted/<student>/``, from nbgrader's layout) and why."""

    path: Path
    reason: str


# (student, assignment, notebook) -> Unreadable. Filled by KitNotebookExporter while nbgrader sanitizes
# a submission, taken by KitGrades in the autograde pass that follows, in the same process.
_UNREADABLE: dict[tuple[str, str, str], Unreadable] = {}


def _key(resources) -> tuple[str, str, str]:
    info = (resources or {}).get("nbgrader", {})
    return (str(info.get("student", "")), str(info.get("assignment", "")), str(info.get("notebook", "")))


def take_unreadable(resources) -> Unreadable | None:
    """The exporter's note for the notebook of ``resources`` (removed: it is used once)."""
    return _UNREADABLE.pop(_key(resources), None)


# --- the student-facing text -----------------------------------------------------------------------


def _ordered_view(items: list[dict], rubric, published: bool) -> list[dict]:
    """The items as the student sees them, the ones not passed first (stable: rubric order)."""
    view = student_view({"assignment": rubric.assignment, "items": items}, rubric, published=published)
    return sorted(view["items"], key=lambda item: item["status"] == "passed")


def cell_text(items: list[dict], rubric, *, published: bool) -> str:
    """The plain text of one test cell: one line per rubric line of its graded name, the lines not
    passed first with their feedback (hidden lines only once published), then the passed ones. It is
    what the autograded notebook holds (nbgrader's formgrader shows it to the TA)."""
    lines = []
    for item in _ordered_view(items, rubric, published):
        hidden = " (hidden)" if item.get("visibility") == "hidden" else ""
        text = f"{item['id']}{hidden}: {item['status']} ({item['score']:g}/{item['max_score']:g})"
        if item["status"] != "passed" and item["feedback"]:
            text += "\n    " + item["feedback"].replace("\n", "\n    ")
        lines.append(text)
    return "\n".join(lines) + "\n"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "feedback"),
        autoescape=True,  # feedback quotes the student's own output: it must never become markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def cell_html(items: list[dict], rubric, *, published: bool) -> str:
    """The feedback of one test cell as an HTML fragment: per rubric line not passed its status in words
    (as the kit's own page says it) and points, its feedback as paragraphs and code blocks (the
    reproducers: ``reporters.html.feedback_parts``) and its plot; then the passed lines, in one list."""
    rows = []
    for item in _ordered_view(items, rubric, published):
        shown = item["status"] != "passed" and item["feedback"]
        plot = item.get("plot")
        drawn = plots.svg(plot) if item["status"] != "passed" and plots.valid(plot) else ""
        rows.append({
            "id": item["id"],
            "status": item["status"],
            "label": STATUS_LABELS.get(item["status"], item["status"]),
            "hidden": item.get("visibility") == "hidden",
            "score": fmt_points(item["score"]),
            "max_score": fmt_points(item["max_score"]),
            "parts": feedback_parts(item["feedback"]) if shown else [],
            "plot": drawn,
            "caption": str(plot.get("caption", "")) if drawn else "",
        })
    return _environment().get_template("kit_cell.html.j2").render(rows=rows)


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


# --- grading ---------------------------------------------------------------------------------------


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


def cells_only(nb):
    """A notebook holding ``nb``'s cells and nothing else (no notebook metadata, no outputs, no kit
    key), as the kit's loader reads it: what KitGrades grades."""
    cells = []
    for cell in nb.cells:
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))
        cell.get("metadata", {}).pop(KIT_KEY, None)
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells, nbformat_minor=nb.get("nbformat_minor", 4))


def scrub_kit_keys(nb) -> None:
    """Delete every ``kit`` key a submitted notebook may carry (its metadata and its cells')."""
    nb.metadata.pop(KIT_KEY, None)
    for cell in nb.cells:
        cell.get("metadata", {}).pop(KIT_KEY, None)


class _KitPreprocessor(NbGraderPreprocessor):
    display_data_priority = List(DISPLAY_PRIORITY, config=True)  # see DISPLAY_PRIORITY


class KitGrades(_KitPreprocessor):
    """Write the kit's grade of each graded name into its nbgrader test cell (see the module doc)."""

    records_dir = Unicode(
        "", help="folder of kit records of this assignment (written by make autograde)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment, student = info["assignment"], info.get("student", "")
        unreadable = take_unreadable(resources)
        if assignment not in assignment_ids():
            self.log.warning("KitGrades: no rubric for %s; leaving the notebook as it is", assignment)
            return nb, resources
        if unreadable is not None:  # the student's own file, as the kit's lanes graded it
            record, stored = kit_record(unreadable.path, assignment, student, self.records_dir)
        else:
            with tempfile.TemporaryDirectory(prefix="kit-nbgrader-") as tmp:
                path = Path(tmp) / f"{info.get('notebook') or assignment}.ipynb"
                nbformat.write(cells_only(nb), str(path))
                record, stored = kit_record(path, assignment, student, self.records_dir)
        GRADED["from_records" if stored else "in_process"] += 1
        if not stored:
            self.log.info("KitGrades: %s graded in-process (no matching record)", student)
        scrub_kit_keys(nb)
        rubric = load_rubric(assignment)
        per_name = items_by_name(record)
        for cell in nb.cells:
            name = tested_name(cell)
            if name is None:
                continue
            items = per_name.get(name, [])
            points = sum(i["score"] for i in items)
            text = cell_text(items, rubric, published=False) if items else "not graded by the kit\n"
            cell.metadata[KIT_KEY] = {"items": items}  # the TA's copy, for make feedback and publish
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=text),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": repr(float(points))}, execution_count=None
                ),
            ]
        return nb, resources


def course_root(configurable) -> Path | None:
    """The course folder of the nbgrader run ``configurable`` belongs to: its converter's course
    directory (preprocessor -> exporter -> converter), else the configured ``CourseDirectory.root``."""
    node = configurable
    while node is not None:
        coursedir = getattr(node, "coursedir", None)
        if coursedir is not None and getattr(coursedir, "root", None):
            return Path(coursedir.root)
        node = getattr(node, "parent", None)
    root = configurable.config.get("CourseDirectory", {}).get("root")
    return Path(root) if root else None


class KitFeedback(_KitPreprocessor):
    """Rewrite each test cell's feedback for nbgrader's feedback page (see the module doc)."""

    published = Bool(
        False, help="show the details of hidden checks (also when the course folder says published)"
    ).tag(config=True)

    def is_published(self, assignment: str) -> bool:
        from .nbgrader_course import nbgrader_published

        root = course_root(self)
        return self.published or (root is not None and nbgrader_published(root, assignment))

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        if assignment not in assignment_ids():
            return nb, resources
        rubric = load_rubric(assignment)
        published = self.is_published(assignment)
        names = {}
        for cell in nb.cells:
            name = tested_name(cell)
            if name is None:
                continue
            names[cell.metadata["nbgrader"]["grade_id"]] = name
            items = cell.get("metadata", {}).get(KIT_KEY, {}).get("items")
            if not items:
                continue
            points = [o for o in cell.outputs if o.output_type == "execute_result"]
            html = cell_html(items, rubric, published=published)
            text = cell_text(items, rubric, published=published)
            cell.outputs = [
                nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": text}),
                *points,
            ]
        resources["kit_names"] = names  # the template's headers: test_SGD -> SGD
        return nb, resources


# --- nbgrader's exporter ---------------------------------------------------------------------------


def unreadable_note(reason: str) -> str:
    return (
        f"**The grader could not read the notebook you submitted.** {reason}\n\n"
        "Nothing in it could be graded, so every graded part scores 0. The cells below are the "
        "released notebook, shown in place of yours. Ask your TA if you believe your file is fine."
    )


class KitNotebookExporter(NotebookExporter):
    """nbgrader's notebook exporter, which never fails on a submitted file it cannot read, and never reads
    one the kit refuses (module doc).

    While nbgrader sanitizes a submission, the kit's loader looks at the student's submission as ``make
    autograde``'s lanes do (``submitted/<student>/``): a file it refuses to read (a symbolic link, a
    special file, a file over the size cap, not UTF-8, ...) is refused here too, so nbgrader never
    grades what the kit's record does not: the gradebook and the record agree.
    """

    def from_file(self, file_stream, resources=None, **kw):
        meta = (resources or {}).get("metadata", {})
        path = Path(meta.get("path", ".")) / f"{meta.get('name', 'notebook')}.ipynb"
        submitted = self.reads_submission(path, resources)
        if submitted:  # a fresh look at the student's file: no note from an earlier run counts
            _UNREADABLE.pop(_key(resources), None)
        try:
            refusal = self.kit_refusal(resources) if submitted else None
            if refusal:
                raise ValueError(refusal)
            nb = nbformat.reads(file_stream.read(), as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("its 'cells' is not a list")
        except Exception as exc:  # not UTF-8, not JSON, not a notebook: the kit's loader says which
            nb = self.substitute(path, resources, exc)
        return self.from_notebook_node(nb, resources=resources, **kw)

    def student_root(self, resources) -> Path | None:
        """nbgrader's ``submitted/<student>/``: the submission as ``make autograde``'s lanes grade it."""
        coursedir = getattr(self.parent, "coursedir", None)
        student, assignment, _ = _key(resources)
        if coursedir is None or not student or not assignment:
            return None
        return Path(coursedir.format_path(coursedir.submitted_directory, student, ".")).resolve()

    def reads_submission(self, path: Path, resources) -> bool:
        """Whether ``path`` is the student's submitted file (nbgrader's sanitize pass), not the
        sanitized copy nbgrader grades next (its autograde pass). The file itself is not resolved: it
        may be a link."""
        root = self.student_root(resources)
        _, assignment, _ = _key(resources)
        return root is not None and path.parent.resolve() == root / assignment

    def kit_refusal(self, resources) -> str | None:
        """Why the kit's loader refuses to read the student's submission, or None. Only what happens
        before any code is looked at counts: a notebook the kit reads but finds no code in (or a syntax
        error in) is graded by KitGrades like any other, with the same record."""
        from ..grading.loader import load_submission

        _, assignment, _ = _key(resources)
        root = self.student_root(resources)
        if root is None or assignment not in assignment_ids():
            return None
        sub = load_submission(root, assignment, load_rubric(assignment).module)
        return sub.load_error if sub.load_error and not sub.text else None

    def substitute(self, path: Path, resources, exc: Exception):
        """The released notebook with a note on top, standing for the unreadable file at ``path``."""
        student, assignment, _ = _key(resources)
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None or assignment not in assignment_ids():
            raise exc
        release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / path.name
        if not release.is_file():
            raise exc
        from ..grading.loader import load_submission

        submitted = self.reads_submission(path, resources)
        graded = self.student_root(resources) if submitted else path  # what the lanes graded
        sub = load_submission(graded, assignment, load_rubric(assignment).module)
        reason = sub.load_error or f"nbgrader cannot read it ({exc})"
        nb = nbformat.read(str(release), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(unreadable_note(reason)))
        if submitted:
            _UNREADABLE[_key(resources)] = Unreadable(graded, reason)
        self.log.warning(
            "student %s: %s; recorded with 0 points, the reason is in their feedback", student or "?", reason
        )
        return nb
