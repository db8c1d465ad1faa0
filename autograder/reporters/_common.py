"""Small helpers shared by the reporters: record/rubric pairing, safe file names, number formatting."""

from __future__ import annotations

import hashlib
import re
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
    if (not student or student in {".", ".."} or any(c in student for c in "/\\\0") or student[0] == "."
            or len(student.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES):
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


# Names the output folder uses for itself: a student with one of these ids would collide with them.
RESERVED_IDS = frozenset(
    {"run", "grades", "results", "feedback", "export", "review", "index", "summary", "log"}
)
MAX_ID_BYTES = 200  # file names (<id>.json, <id>.html) stay well under the usual 255-byte limit
_ID = re.compile(r"[^\W_](?:[\w.@+ -]*[\w.@+-])?")


def id_problem(student: str) -> str | None:
    """Why ``student`` cannot be a student id (and the name of its output files), or None."""
    size = len(student.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"the student id is {size} bytes long (at most {MAX_ID_BYTES})"
    if not _ID.fullmatch(student):
        return ("the student id may hold only letters, digits, spaces and . _ @ + - (starting with a "
                f"letter or digit), not {student[:40]!r}")
    if student.lower() in RESERVED_IDS:
        return f"the student id {student!r} is a name the output folder uses for itself"
    return None


def safe_id(student: str) -> str:
    """A file name for the error record of an unusable id: never a valid id (it starts with ``_``),
    so it collides with no student; the hash keeps two bad ids apart."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = re.sub(r"[^\w.@+-]", "_", student)[:40].lstrip(".")
    return f"_invalid-{stem}-{digest}"
