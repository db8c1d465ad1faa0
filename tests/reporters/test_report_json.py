"""Per-student JSON is deterministic bytes; run.json holds the time-dependent rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.reporters.json_report import write_run_json, write_student_json

from .records import build_record


def test_student_json_is_byte_identical_on_regrade(rubric, secret_record, tmp_path):
    first = write_student_json(secret_record, tmp_path / "a").read_bytes()
    # A regrade builds a fresh record from fresh results.
    regraded = build_record(
        rubric,
        "s001",
        {item["id"]: item["status"] for item in secret_record["items"]},
        feedback={item["id"]: item["feedback"] for item in secret_record["items"]},
    )
    second = write_student_json(regraded, tmp_path / "b").read_bytes()
    assert first == second
    assert write_student_json(secret_record, tmp_path / "a").read_bytes() == first


def test_student_json_layout(secret_record, tmp_path):
    path = write_student_json(secret_record, tmp_path)
    assert path == tmp_path / "s001.json"
    raw = path.read_bytes()
    assert raw.endswith(b"}\n") and not raw.endswith(b"\n\n")
    assert b"\r\n" not in raw
    assert raw.startswith(b'{\n  "student": "s001",')  # indent=2, DESIGN.md key order
    assert json.loads(raw) == secret_record  # the full record, hidden feedback included (TA copy)


def test_student_json_keeps_unicode(rubric, tmp_path):
    record = build_record(
        rubric, "zoë", {rubric.lines[0].id: "failed"}, feedback={rubric.lines[0].id: "größer ≠"}
    )
    raw = write_student_json(record, tmp_path).read_bytes()
    assert "größer ≠".encode() in raw and b"\\u" not in raw
    assert (tmp_path / "zoë.json").is_file()


@pytest.mark.parametrize("student", ["../evil", "a/b", "a\\b", "..", ".hidden", ""])
def test_student_ids_that_escape_the_folder_are_refused(rubric, student, tmp_path):
    record = build_record(rubric, "ok")
    record["student"] = student
    with pytest.raises(ValueError, match="file name"):
        write_student_json(record, tmp_path)


def test_run_json(tmp_path):
    info = {"jobs": 4, "isolation": "process", "timings": {"b": 2.5, "a": 1.0}, "kit": Path("/x")}
    path = write_run_json(info, tmp_path)
    assert path == tmp_path / "run.json"
    raw = path.read_text(encoding="utf-8")
    assert json.loads(raw) == {**info, "kit": "/x"}
    assert list(json.loads(raw)) == sorted(info)
    assert raw.endswith("}\n")
