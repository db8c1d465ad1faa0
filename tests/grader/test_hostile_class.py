"""One grading run over a class that mixes honest and hostile submissions (tests/submissions/hostile/),
plus submissions made here that attack the loader and the output folder: every honest student gets
full marks, every hostile one gets the status and reason its threat calls for, the class completes,
and nothing lands in the output folder but the kit's own reports (nothing a student sees holds a
traceback or a hidden input).

The submission policy stops most hostile files before they run (review). To keep testing the sandbox
behind it, the files whose threat is the sandbox's business are *granted* here, as a TA would after
reading them: they run, and the sandbox must hold.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from autograder.grading.batch import grade_class
from autograder.grading.engine import GradingConfig
from autograder.grading.loader import load_submission, student_id
from autograder.grading.rubric import load_rubric
from autograder.reporters import write_all
from autograder.sandbox.runner import Limits

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests/submissions/hostile"
ASSIGNMENT = "02_optimizers"
SECRET = "kit-test-secret-line"

# file -> (statuses its SGD lines may have, a phrase the student JSON must contain; "a|b": either).
EXPECTED = {
    "sleep_at_import": ({"timeout"}, "module-level code used more than"),
    # a statement that raises costs only what it was to define: the correct SGD keeps its points
    "crash_at_import": ({"passed"}, "module-level code raised NameError"),
    "syntax_error": ({"error"}, "SyntaxError"),
    "empty": ({"error"}, "the file is empty"),
    "not_json": ({"error"}, "not a valid notebook"),
    "infinite_loop_in_step": ({"passed", "timeout"}, "timeout"),
    # Filling gigabytes can outlast a deadline on a loaded machine: a timeout is a fair outcome too.
    "memory_bomb": ({"passed", "error", "timeout"}, "memory limit exceeded|timeout"),
    # naming torch's implementation is static evidence (review); calling it at run time is forbidden
    "delegate_direct": ({"review"}, "torch.optim.SGD"),
    "delegate_functional": ({"review"}, "torch.optim.sgd"),
    "fused_kernel": ({"forbidden"}, "aten._fused_sgd_"),
    "delegate_getattr": ({"review"}, "torch.optim.SGD"),
    "delegate_importlib": ({"review"}, "importlib"),
    "formatter_escape": ({"review"}, "string.Formatter"),
    "match_unwrap": ({"review"}, "__closure__"),
    "fused_computed": ({"missing"}, "computed attribute name"),  # its cheat is Adam's; it has no SGD
    "unwrap_tripwire": ({"review"}, "__wrapped__"),
    "module_dict": ({"review"}, "__dict__"),
    "globals_kernel": ({"review"}, "__globals__"),
    "leak_hidden_inputs": ({"passed"}, ""),
    "conftest_folder": ({"passed"}, ""),
    "missing_class": ({"passed"}, ""),
}
# Granted by the test as a TA would: the sandbox, not the policy, is what these files test.
GRANTED = {
    "exit_at_import": ({"passed"}, "SystemExit"),
    "os_exit_in_step": ({"passed", "error", "failed"}, "exit code"),
    "ignores_signals": ({"passed", "timeout"}, "timeout"),
    "swap_armed": ({"forbidden"}, "torch.optim.SGD"),
    "protocol_bomb": ({"error", "failed"}, "malformed reply"),  # its SGD signature fails interface
    **{
        name: ({"passed"}, "")
        for name in ("fork_bomb", "setsid_daemon", "big_file", "print_flood", "read_reference",
                     "forge_result_json", "lying_eq", "monkeypatch_torch", "pickle_payload", "network")
    },
}


# What this run tests is the sandbox and the class run, not the checks' search: a quarter of each
# example budget, and a 10 s backstop for module-level code that sleeps (the default is 60 s).
QUICK = GradingConfig(examples_scale=0.25,
                      limits=dataclasses.replace(Limits(), load_seconds=5.0, load_wall_seconds=10.0))

# Hostile files for other assignments, graded in tests/engine/test_engine_trust.py.
FOR_03 = {"ops_batch_norm", "dropout_inplace", "module_alias_disarm", "thread_dropout", "benchmark_timer",
          "standin_return", "borrow_lambdalr"}


def loader_attacks(folder: Path, secret: Path) -> dict[str, tuple[set, str]]:
    """Submissions that attack the loader or the output folder, made in ``folder``."""
    os.mkfifo(folder / "fifo.py")
    (folder / "zero.py").symlink_to("/dev/zero")
    (folder / "copycat.ipynb").symlink_to(ROOT / "solutions/02_optimizers/02_optimizers.ipynb")
    (folder / "peek.py").symlink_to(secret)
    with open(folder / "huge.py", "wb") as fh:  # sparse: 1 GiB announced, nothing written
        fh.truncate(1 << 30)
    (folder / "linked").mkdir()
    (folder / "linked" / "optimizers.py").symlink_to(secret)
    honest = (ROOT / "tests/submissions/02_optimizers/correct/loop.py").read_text()
    (folder / "run.py").write_text(honest)  # would be overwritten by run.json
    (folder / "back\\slash.py").write_text(honest)
    (folder / f"{'x' * 240}.py").write_text(honest)
    return {
        "fifo": ({"error"}, "is a FIFO"),
        "zero": ({"error"}, "symbolic link"),
        "copycat": ({"error"}, "symbolic link"),
        "peek": ({"error"}, "symbolic link"),
        "huge": ({"error"}, "the limit is"),
        "linked": ({"error"}, "symbolic link"),
    }


def grants_for(paths: list[Path]) -> dict[str, dict[str, str]]:
    rubric = load_rubric(ASSIGNMENT)
    out = {}
    for path in paths:
        report = load_submission(path, ASSIGNMENT, rubric.module).scan
        out[student_id(path)] = {name: report.review_digest(name) for name in rubric.graded_names}
    return out


@pytest.mark.slow
@pytest.mark.hostile
def test_mixed_class_honest_students_keep_full_marks(tmp_path):
    classdir = tmp_path / "class"
    classdir.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    honest = []
    for style in ("loop", "foreach"):
        path = classdir / f"honest_{style}.py"
        shutil.copy(ROOT / f"tests/submissions/{ASSIGNMENT}/correct/{style}.py", path)
        honest.append(path)
    expected = {**EXPECTED, **GRANTED, **loader_attacks(classdir, secret)}
    hostile = sorted(p for p in HOSTILE.iterdir() if p.stem not in FOR_03)
    assert {p.stem for p in hostile} == set(EXPECTED) | set(GRANTED), "each hostile file needs an expectation"
    made = sorted(p for p in classdir.iterdir() if p not in honest)
    grants = grants_for([p for p in hostile if p.stem in GRANTED])
    records, timings, info = grade_class(
        honest + hostile + made, load_rubric(ASSIGNMENT), jobs=2, grants=grants, config=QUICK
    )
    out = tmp_path / "out"
    out.mkdir()
    write_all(records, load_rubric(ASSIGNMENT), out, timings, info)

    by_student = {r["student"]: r for r in records}
    for path in honest:
        record = by_student[path.stem]
        assert record["score"] == record["max_score"], [i for i in record["items"] if i["status"] != "passed"]
    for name, (statuses, phrase) in expected.items():
        record = by_student[name]
        sgd = {i["status"] for i in record["items"] if i["id"].startswith("SGD.")}
        assert sgd <= statuses, (name, sgd, record["errors"])
        assert any(p in json.dumps(record) for p in phrase.split("|")), (name, phrase)
    # Unusable ids cost their own record only, under a safe name; `run` never clobbers run.json.
    invalid = sorted(s for s in by_student if s.startswith("_invalid-"))
    assert len(invalid) == 3 and all(by_student[s]["score"] == 0 for s in invalid)
    assert "run" not in by_student and "isolation" in json.loads((out / "run.json").read_text())
    assert "grader_faults" not in info, info.get("grader_faults")
    # Only the kit's reports in the output folder, nothing a student sees holds a traceback, a hidden
    # input or what a link pointed to.
    expected_files = {f"{s}.json" for s in by_student} | {"run.json", "grades.csv", "results", "feedback"}
    assert {p.name for p in out.iterdir()} == expected_files
    student_visible = [*out.glob("feedback/*.html"), *out.glob("results/*/results.json")]
    assert len(student_visible) == 2 * len(records)
    for path in student_visible:
        text = path.read_text()
        assert "Traceback" not in text and "LEAKED" not in text and SECRET not in text, path
    assert SECRET not in "".join(p.read_text() for p in out.glob("*.json"))
    assert not list(tmp_path.glob("*.bin")) and not (ROOT / "big_file.bin").exists()
