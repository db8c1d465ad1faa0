"""JSON files: the full per-student record (for TAs) and ``run.json`` (everything time-dependent).

Student files are deterministic bytes: key order as built by ``student_record``, ``indent=2``, UTF-8
kept as is, one trailing newline, no timestamps. A regrade of the same submission is byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path

from ._common import student_filename, write_text


def dumps(obj, **kwargs) -> str:
    """The kit's one JSON layout (also used by the Gradescope reporter)."""
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, **kwargs) + "\n"


def write_student_json(record: dict, out_dir: Path) -> Path:
    """Write the full record to ``out_dir/<student>.json`` and return the path."""
    name = student_filename(record["student"])
    return write_text(Path(out_dir) / f"{name}.json", dumps(record))


def write_run_json(info: dict, out_dir: Path) -> Path:
    """Write ``out_dir/run.json``: timings, isolation level, versions, jobs (the only time-dependent file).

    Keys are sorted; values JSON cannot hold (paths, versions objects) are written as strings.
    """
    return write_text(Path(out_dir) / "run.json", dumps(info, sort_keys=True, default=str))
