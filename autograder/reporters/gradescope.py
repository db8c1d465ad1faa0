"""Gradescope's autograder ``results.json``, one per student under ``DIR/results/<student>/``.

Mapping (DESIGN.md): item status ``passed`` → ``passed``, every other status → ``failed``. A hidden rubric
line shows its status and points like every channel does (``student_view``); its details come in an
``after_published`` companion test until the grades are published (``gradescope_results``).
Program output of the grader is never shown (``stdout_visibility: hidden``).

Every text is Markdown (``output_format: "md"``, which Gradescope renders per test and for the whole
submission): the kit's feedback is prose and fenced ``python`` reproducer blocks, which Gradescope then
shows as code blocks. The prose is escaped, so a value quoted from the student's output stays as
written, and each of its lines is a paragraph. Gradescope shows no pictures, so what the feedback says
about the kit's plot is left out.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..families.reproduce import BLOCK
from ._common import fmt_points, paired_items, student_filename, write_text
from .json_report import dumps
from .visibility import is_hidden, student_view

OUTPUT_FORMAT = "md"
# A remark about the kit's picture, e.g. "(the plot shows both loss curves)": Gradescope has no picture.
_PLOT_REMARK = re.compile(r"\s*\([^()]*\bplots?\b[^()]*\)", re.I)
# Characters Markdown reads as markup anywhere, and at the start of a line (headings, lists, quotes);
# a backslash makes each one literal (CommonMark escapes any ASCII punctuation).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_LINE_START = re.compile(r"^(\s*)([#=+-]|\d+[.)])")
_INTRAWORD_UNDERSCORE = re.compile(r"(?<=[0-9A-Za-z])\\_(?=[0-9A-Za-z])")


def gradescope_status(status: str) -> str:
    """Gradescope knows only passed and failed: error, timeout, forbidden and missing are failures."""
    return "passed" if status == "passed" else "failed"


def _literal(text: str) -> str:
    """``text`` with every Markdown character escaped, but for an underscore inside a word
    (``state_dict``), which CommonMark never reads as emphasis."""
    return _INTRAWORD_UNDERSCORE.sub("_", _MARKDOWN_SPECIAL.sub(r"\\\1", text))


def _escaped(line: str) -> str:
    """One prose line as literal Markdown text; a `code span` of the kit's own text stays code."""
    parts = line.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no code spans, all literal
        text = _literal(line)
    else:
        text = "".join(f"`{part}`" if i % 2 else _literal(part) for i, part in enumerate(parts))
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def _prose(text: str) -> str:
    text = _PLOT_REMARK.sub("", text)
    return "\n\n".join(_escaped(line.strip()) for line in text.splitlines() if line.strip())


def markdown(text: str) -> str:
    """A feedback text as Markdown: prose lines as escaped paragraphs, reproducers as fenced code."""
    parts, last = [], 0
    for match in BLOCK.finditer(text):
        if text[last:match.start()].strip():
            parts.append(_prose(text[last:match.start()]))
        code = match.group(1)
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", code)), default=0))
        parts.append(f"{fence}python\n{code}\n{fence}")
        last = match.end()
    if text[last:].strip():
        parts.append(_prose(text[last:]))
    return "\n\n".join(p for p in parts if p)


def summary_output(record: dict, rubric) -> str:
    """The short top-level text: the total, then the errors and review notes of the run (Markdown)."""
    title = rubric.title or rubric.assignment
    lines = [_escaped(f"{title}: {fmt_points(record['score'])} / {fmt_points(record['max_score'])} points.")]
    if record.get("graded_file"):
        lines.append(_escaped(f"Graded file: {record['graded_file']}"))
    errors = record.get("errors", [])
    if errors:
        lines.append("Errors:\n\n" + "\n".join(f"- {_escaped(' '.join(str(e).split()))}" for e in errors))
    flags = record.get("flags", [])
    if flags:
        lines.append("Flagged for review by a TA:\n\n"
                     + "\n".join(f"- {_escaped(' '.join(str(f.get('message', '')).split()))}" for f in flags))
    return "\n\n".join(lines)


def gradescope_results(record: dict, rubric, *, published: bool = False) -> dict:
    """The Gradescope document of one student, built from the student view of the record.

    Every rubric line is a visible test with its status and points, as in the kit's HTML. Until the
    grades are published, a hidden line that did not pass also gets a 0-point companion test
    ``<id> (details)`` with its feedback and Gradescope's ``after_published`` visibility: Gradescope's
    own "Publish Grades" then shows the details, just as ``make publish`` does for the other channels.
    A hidden line that passed has nothing to withhold and says nothing.
    """
    view = student_view(record, rubric, published=published)
    full = {item["id"]: item for item in record["items"]}
    tests = []
    for _, item in paired_items(view, rubric):
        hidden = is_hidden(item, rubric)
        passed = item["status"] == "passed"
        shown = full[item["id"]]["feedback"] if hidden and passed and published else item["feedback"]
        test = {
            "name": item["id"],
            "score": item["score"],
            "max_score": item["max_score"],
            "status": gradescope_status(item["status"]),
            "output": "" if hidden and passed and not published else markdown(shown),
            "output_format": OUTPUT_FORMAT,
            "visibility": "visible",
        }
        tests.append(test)
        details = full[item["id"]]["feedback"]
        if hidden and not published and not passed and details:
            tests.append(
                {
                    **test,
                    "name": f"{item['id']} (details)",
                    "score": 0.0,
                    "max_score": 0.0,
                    "output": markdown(details),
                    "visibility": "after_published",
                }
            )
    return {
        "score": view["score"],
        "output": summary_output(view, rubric),
        "output_format": OUTPUT_FORMAT,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(record: dict, rubric, out_dir: Path, *, published: bool = False) -> Path:
    """Write ``out_dir/results/<student>/results.json`` and return the path."""
    name = student_filename(record["student"])
    path = Path(out_dir) / "results" / name / "results.json"
    return write_text(path, dumps(gradescope_results(record, rubric, published=published)))
