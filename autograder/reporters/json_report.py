"""JSON files: the full per-student record (for TAs) and ``run.json`` (everything time-dependent).

Student files are deterministic bytes: key order as built by ``student_record``, ``indent=2``, UTF-8
kept as is, one trailing newline, no timestamps. A regrade of the same submission is byte-identical.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ._common import student_filename, write_text

# How a record writes the floats JSON has no number for (a diverged loss curve, a NaN the student's
# code returned): as these strings, which ``number`` reads back.
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def plain(obj):
    """``obj`` with every non-finite float written as one of the ``NONFINITE`` strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def number(value) -> float | None:
    """A record's number (or one of the ``NONFINITE`` strings) as a float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return NONFINITE.get(value) if isinstance(value, str) else None


def dumps(obj, **kwargs) -> str:
    """The kit's one JSON layout (also used by the Gradescope reporter): NaN and infinities are ordinary
    values, written as strings (strict JSON has no number for them)."""
    return json.dumps(plain(obj), indent=2, ensure_ascii=False, allow_nan=False, **kwargs) + "\n"


def write_student_json(record: dict, out_dir: Path) -> Path:
    """Write the full record to ``out_dir/<student>.json`` and return the path."""
    name = student_filename(record["student"])
    return write_text(Path(out_dir) / f"{name}.json", dumps(record))


def write_run_json(info: dict, out_dir: Path) -> Path:
    """Write ``out_dir/run.json``: timings, isolation level, versions, jobs (the only time-dependent file).

    Keys are sorted; values JSON cannot hold (paths, versions objects) are written as strings.
    """
    return write_text(Path(out_dir) / "run.json", dumps(info, sort_keys=True, default=str))
