"""One grading run over a class that mixes honest and hostile submissions (tests/submissions/hostile/):
every honest student gets full marks, every hostile one gets the status and reason its threat calls
for, and nothing lands in the output folder but the kit's own reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder.batch import grade_class
from autograder.reporters import write_all
from autograder.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests/submissions/hostile"
ASSIGNMENT = "02_optimizers"

# file -> (statuses its SGD lines may have, a phrase the student JSON must contain; "a|b": either).
# Files whose threat lives outside SGD (or is harmless once sandboxed) keep their honest SGD's points.
EXPECTED = {
    "exit_at_import": ({"error"}, "sys.exit"),
    "sleep_at_import": ({"timeout"}, "module-level code ran longer than"),
    "crash_at_import": ({"error"}, "importing your code raised"),
    "syntax_error": ({"error"}, "SyntaxError"),
    "empty": ({"error"}, "the file is empty"),
    "not_json": ({"error"}, "not a valid notebook"),
    "os_exit_in_step": ({"passed", "error", "failed"}, "exit code"),
    "infinite_loop_in_step": ({"passed", "timeout"}, "timeout"),
    "ignores_signals": ({"passed", "timeout"}, "timeout"),
    # Filling gigabytes can outlast a deadline on a loaded machine: a timeout is a fair outcome too.
    "memory_bomb": ({"passed", "error", "timeout"}, "memory limit exceeded|timeout"),
    "delegate_direct": ({"forbidden"}, "torch.optim.SGD"),
    "delegate_functional": ({"forbidden"}, "torch.optim.sgd.sgd"),
    "delegate_getattr": ({"forbidden"}, "review"),
    "delegate_importlib": ({"forbidden"}, "review"),
    **{
        name: ({"passed"}, "")
        for name in (
            "fork_bomb",
            "setsid_daemon",
            "big_file",
            "print_flood",
            "read_reference",
            "forge_result_json",
            "lying_eq",
            "monkeypatch_torch",
            "pickle_payload",
            "network",
            "conftest_folder",
            "missing_class",
        )
    },
}


@pytest.mark.slow
@pytest.mark.hostile
def test_mixed_class_honest_students_keep_full_marks(tmp_path):
    honest = []
    for style in ("loop", "foreach"):
        path = tmp_path / f"honest_{style}.py"
        shutil.copy(ROOT / f"tests/submissions/{ASSIGNMENT}/correct/{style}.py", path)
        honest.append(path)
    hostile = sorted(p for p in HOSTILE.iterdir() if p.stem in EXPECTED)
    assert {p.stem for p in hostile} == set(EXPECTED), "every hostile sample has an expectation"
    records, timings, info = grade_class(honest + hostile, ASSIGNMENT, jobs=2)
    out = tmp_path / "out"
    out.mkdir()
    write_all(records, load_rubric(ASSIGNMENT), out, timings, info)

    by_student = {r["student"]: r for r in records}
    for path in honest:
        record = by_student[path.stem]
        assert record["score"] == record["max_score"], [i for i in record["items"] if i["status"] != "passed"]
    for name, (statuses, phrase) in EXPECTED.items():
        record = by_student[name]
        sgd = {i["status"] for i in record["items"] if i["id"].startswith("SGD.")}
        assert sgd <= statuses, (name, sgd)
        assert any(p in json.dumps(record) for p in phrase.split("|")), (name, phrase)
    expected_files = {f"{s}.json" for s in by_student} | {"run.json", "grades.csv", "results", "feedback"}
    assert {p.name for p in out.iterdir()} == expected_files
    assert not list(tmp_path.glob("*.bin")) and not (ROOT / "big_file.bin").exists()
