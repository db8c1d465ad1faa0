"""Gather every graded assignment's per-student JSON into one CSV (one row per student and assignment)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def collect(roots: list[Path]) -> list[dict]:
    """Every ``<root>/<assignment>/<student>.json`` record below the given folders (run.json excluded)."""
    rows = []
    for root in roots:
        for path in sorted(Path(root).glob("*/*.json")):
            if path.name == "run.json":
                continue
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if {"student", "assignment", "score", "max_score"} <= rec.keys():
                rows.append(
                    {
                        "student": rec["student"],
                        "assignment": rec["assignment"],
                        "score": rec["score"],
                        "max_score": rec["max_score"],
                        "source": str(path.parent),
                    }
                )
    return sorted(rows, key=lambda r: (r["student"], r["assignment"], r["source"]))


def write_export(roots: list[Path], out: Path) -> int:
    rows = collect(roots)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["student", "assignment", "score", "max_score", "source"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
