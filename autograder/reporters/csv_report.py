"""``grades.csv``: one row per student, one column per rubric line, for the gradebook."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ._common import fmt_points, paired_items, write_text


def grades_header(rubric) -> list[str]:
    """``student``, every rubric item id in rubric order, then ``score, max_score, errors, flags``."""
    return ["student", *(line.id for line in rubric.lines), "score", "max_score", "errors", "flags"]


def grades_row(record: dict, rubric) -> list[str]:
    """One student's row: item scores in rubric order, totals, and counts of errors and flags."""
    scores = [fmt_points(item["score"]) for _, item in paired_items(record, rubric)]
    return [
        record["student"],
        *scores,
        fmt_points(record["score"]),
        fmt_points(record["max_score"]),
        str(len(record.get("errors", []))),
        str(len(record.get("flags", []))),
    ]


def write_grades_csv(records: list[dict], rubric, path: Path) -> Path:
    """Write ``path`` (``DIR/grades.csv``), rows sorted by student id; return the path."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(grades_header(rubric))
    for record in sorted(records, key=lambda r: r["student"]):
        writer.writerow(grades_row(record, rubric))
    return write_text(Path(path), buf.getvalue())
