"""Small helpers shared by the reporters: record/rubric pairing, safe file names, number formatting."""

from __future__ import annotations

from pathlib import Path


def paired_items(record: dict, rubric) -> list[tuple[object, dict]]:
    """``(rubric line, item)`` pairs in rubric order; raise ``ValueError`` if record and rubric disagree.

    Records come from ``student_record``, so their items are the rubric lines in order. A mismatch means
    the wrong rubric was passed, and a report built from it would silently show wrong points.
    """
    if record["assignment"] != rubric.assignment:
        student, assignment = record["student"], record["assignment"]
        raise ValueError(f"record of {student!r} is for {assignment!r}, rubric is {rubric.assignment!r}")
    by_id = {item["id"]: item for item in record["items"]}
    line_ids = [line.id for line in rubric.lines]
    if sorted(by_id) != sorted(line_ids) or len(by_id) != len(record["items"]):
        raise ValueError(f"items of {record['student']!r} do not match the rubric of {rubric.assignment!r}")
    return [(line, by_id[line.id]) for line in rubric.lines]


def student_filename(student: str) -> str:
    """The student id as a file name; refuse ids that would escape the output folder."""
    if not student or student in {".", ".."} or any(c in student for c in "/\\\0") or student[0] == ".":
        raise ValueError(f"student id {student!r} cannot be used as a file name")
    return student


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text with ``\\n`` line ends on every platform (byte-identical regrades)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def fmt_points(x: float) -> str:
    """Points without float noise: ``3.0`` → ``"3"``, ``2.5`` → ``"2.5"`` (6 decimals at most)."""
    text = f"{round(float(x), 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
