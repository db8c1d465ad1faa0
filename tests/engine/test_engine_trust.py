"""The trust boundary, graded end to end: a submission earns only the points its own code computes.

Each hostile submission below (tests/submissions/hostile/) tries one way to get points without the
work; the table says what each graded name must get. Honest code in torch's own style keeps its
points. TA grants lift a review, only for the exact code that was read, and the runtime layer still
holds behind a grant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import families
from autograder.grading.engine import GRADER_FAULT, grade_submission
from autograder.grading.loader import load_submission
from autograder.grading.results import GRADER_FAULT_NOTE, student_record
from autograder.grading.rubric import load_rubric
from autograder.reporters import student_view
from autograder.reporters.gradescope import gradescope_results
from autograder.reporters.html import render_feedback_html
from tests.grader.test_policy import torch_paste

HOSTILE = Path(__file__).resolve().parents[1] / "submissions" / "hostile"
OPT, REG = "02_optimizers", "03_regularization"

# file, assignment, {graded name: status of all its lines ("passed": full marks)}, phrase in its feedback
TABLE = [
    ("fused_kernel", OPT, {"SGD": "forbidden", "Adagrad": "passed"}, "aten._fused_sgd_"),
    ("unwrap_tripwire", OPT, {"SGD": "review", "Adagrad": "review"}, "__wrapped__"),
    ("module_dict", OPT, {"SGD": "review", "Adagrad": "passed"}, "__dict__"),
    ("globals_kernel", OPT, {"SGD": "review", "Adagrad": "passed"}, "__globals__"),
    ("swap_armed", OPT, {"SGD": "review", "Adagrad": "review"}, "imports `sys`"),
    ("delegate_getattr", OPT, {"SGD": "review"}, "torch.optim.SGD"),
    ("delegate_importlib", OPT, {"SGD": "review"}, "importlib"),
    ("monkeypatch_torch", OPT, {"SGD": "review", "Adam": "review"}, "monkeypatching"),
    ("ops_batch_norm", REG, {"BatchNormFunction": "review", "Dropout": "passed"}, "torch.ops.aten"),
    ("dropout_inplace", REG, {"Dropout": "review"}, "torch.dropout_"),
]

# The tricks of a student who read the kit's source, each granted by a TA as if the policy had missed it:
# (file, assignment, cheated graded name, its honest neighbour). The cheated name's behaviour lines earn
# 0 (forbidden: it called torch's switched-off implementation; or failed: there was nothing to call),
# the honest one keeps every point.
TRICKS = [
    ("formatter_escape", OPT, "SGD", "Adagrad"),
    ("match_unwrap", OPT, "SGD", "Adagrad"),
    ("fused_computed", OPT, "Adam", "Adagrad"),
    ("swap_armed", OPT, "SGD", "Adagrad"),
    ("delegate_getattr", OPT, "SGD", "Adagrad"),
    ("module_alias_disarm", REG, "BatchNormFunction", "Dropout"),
    ("ops_batch_norm", REG, "BatchNormFunction", "Dropout"),
    ("thread_dropout", REG, "Dropout", "BatchNormFunction"),
    ("benchmark_timer", REG, "Dropout", "BatchNormFunction"),
    ("standin_return", REG, "BatchNormFunction", "Dropout"),
    ("borrow_lambdalr", "01_gradient_descent", "PowerDecayLR", "minibatches"),
]
BEHAVIOUR = ("interface",)  # lines read from the syntax tree, not from what the code computed


def grade(path: Path, assignment: str, zygote, grants=None) -> dict:
    rubric = load_rubric(assignment)
    return student_record(grade_submission(path, rubric, zygote, grants=grants), rubric)


def statuses(record: dict, name: str) -> set[str]:
    return {i["status"] for i in record["items"] if i["id"].split(".")[0] == name}


@pytest.mark.hostile
@pytest.mark.parametrize(
    ("stem", "assignment", "expected", "phrase"), [pytest.param(*row, id=row[0]) for row in TABLE]
)
def test_hostile_submission_earns_nothing_it_did_not_compute(stem, assignment, expected, phrase, zygote):
    record = grade(HOSTILE / f"{stem}.py", assignment, zygote)
    for name, status in expected.items():
        items = [i for i in record["items"] if i["id"].split(".")[0] == name]
        got = {i["status"] for i in items}
        assert got == {status}, (name, [(i["id"], i["feedback"][:200]) for i in items])
        if status != "passed":
            assert sum(i["score"] for i in items) == 0
            assert any(phrase in i["feedback"] for i in items), items[0]["feedback"]


@pytest.mark.hostile
@pytest.mark.parametrize(("stem", "assignment", "cheat", "honest"),
                         [pytest.param(*row, id=row[0]) for row in TRICKS])
def test_a_trick_earns_nothing_even_when_a_ta_grants_it(stem, assignment, cheat, honest, zygote):
    path = HOSTILE / f"{stem}.py"
    rubric = load_rubric(assignment)
    plain = grade(path, assignment, zygote)
    assert sum(i["score"] for i in plain["items"] if i["id"].split(".")[0] == cheat) == 0
    report = load_submission(path, assignment, rubric.module).scan
    grants = {name: report.review_digest(name) for name in rubric.graded_names}
    record = grade(path, assignment, zygote, grants)
    behaviour = [i for i in record["items"]
                 if i["id"].split(".")[0] == cheat and i["id"].split(".")[1] not in BEHAVIOUR]
    assert behaviour and all(i["score"] == 0 for i in behaviour), [(i["id"], i["status"]) for i in behaviour]
    assert {i["status"] for i in behaviour} <= {"forbidden", "failed", "error", "missing"}, behaviour
    assert statuses(record, honest) == {"passed"}, [(i["id"], i["feedback"][:300]) for i in record["items"]
                                                    if i["id"].startswith(honest + ".")]


@pytest.mark.hostile
def test_hidden_inputs_never_reach_a_visible_line(zygote):
    """leak_hidden_inputs.py records what a hidden line sends and raises it in later calls."""
    rubric = load_rubric(OPT)
    record = grade(HOSTILE / "leak_hidden_inputs.py", OPT, zygote)
    hidden = {line.id for line in rubric.lines if line.visibility == "hidden"}
    visible = [i for i in record["items"] if i["id"] not in hidden]
    assert not [i["id"] for i in visible if "LEAKED" in i["feedback"]]
    assert statuses(record, "SGD") == {"passed"}  # its honest update still counts
    for text in (render_feedback_html(record, rubric), str(gradescope_results(record, rubric)),
                 str(student_view(record, rubric))):
        assert "LEAKED" not in text and "-4.0, 1.5" not in text


@pytest.mark.hostile
def test_a_grant_lifts_review_for_that_code_only_and_the_guards_still_hold(zygote, tmp_path):
    """swap_armed.py, granted by a TA after reading it, runs: there is nothing of the guards to disarm in
    the worker (no Python object holds them), so its delegating SGD is forbidden; Adagrad is graded."""
    path = HOSTILE / "swap_armed.py"
    report = load_submission(path, OPT, "optimizers").scan
    grants = {name: report.review_digest(name) for name in ("SGD", "Adagrad")}
    record = grade(path, OPT, zygote, grants)
    assert statuses(record, "SGD") == {"forbidden"} and statuses(record, "Adagrad") == {"passed"}
    flags = {f["name"]: f for f in record["flags"]}
    assert flags["SGD"]["granted"] and flags["SGD"]["sha256"] == grants["SGD"]
    changed = tmp_path / "swap_armed.py"
    changed.write_text(path.read_text().replace('_tw._armed = [False]', '_tw._armed = [0]'))
    stale = grade(changed, OPT, zygote, grants)
    assert statuses(stale, "Adagrad") == {"review"}
    assert "earlier version" in next(i["feedback"] for i in stale["items"] if i["id"].startswith("Adagrad."))


@pytest.mark.optimizers
def test_torch_own_optimizer_sources_keep_their_points(zygote, tmp_path):
    """torch/optim/{sgd,adagrad,rmsprop,adam}.py pasted as one module passes the policy, the AST
    interface lines and the runtime tripwires (its fused branch never runs), and keeps every point:
    torch's int defaults are numbers equal to DESIGN.md's, and torch's Adagrad reading
    initial_accumulator_value from its constructor only is accepted (param groups never vary it)."""
    path = tmp_path / "optimizers.py"
    path.write_text(torch_paste())
    record = grade(path, OPT, zygote)
    lost = {i["id"]: i["status"] for i in record["items"] if i["score"] < i["max_score"]}
    assert lost == {}, lost
    assert record["score"] == record["max_score"]
    assert "flags" not in record


@pytest.mark.optimizers
def test_interface_facts_come_from_the_source_not_the_worker(zygote, tmp_path):
    """A name built by a factory cannot be judged from the source: the interface line says so; a class
    whose worker-side signature lies (``__signature__``) is judged by its ``def``."""
    base = (HOSTILE.parent / "02_optimizers/correct/loop.py").read_text()
    factory = tmp_path / "optimizers.py"
    factory.write_text(base.replace("class SGD(Optimizer):", "class _SGD(Optimizer):") + "\nSGD = _SGD\n")
    record = grade(factory, OPT, zygote)
    interface = next(i for i in record["items"] if i["id"] == "SGD.interface")
    assert interface["status"] == "failed" and "not a plain top-level" in interface["feedback"]
    others = {i["status"] for i in record["items"] if i["id"].startswith("SGD.") and i is not interface}
    assert others == {"passed"}


def test_a_grader_fault_reaches_the_ta_only(zygote, monkeypatch):
    """A bug in a check: the line errors with one sentence, the traceback is kept for run.json, and
    nothing a student sees (JSON errors, HTML, Gradescope) holds it."""
    rubric = load_rubric(OPT)
    line = rubric.lines[0]

    def broken(ctx):
        raise KeyError("kit internals at /autograder/families/secret.py")

    monkeypatch.setitem(families.REGISTRY, line.kind, broken)
    result = grade_submission(HOSTILE.parent / "02_optimizers/correct/loop.py", load_rubric(OPT), zygote)
    record = student_record(result, rubric)
    assert any("Traceback" in f for f in result.grader_faults)
    item = next(i for i in record["items"] if i["id"] == line.id)
    assert item["status"] == "error" and item["feedback"] == GRADER_FAULT
    assert record["errors"] == [GRADER_FAULT_NOTE]
    for text in (str(record), render_feedback_html(record, rubric), str(gradescope_results(record, rubric))):
        assert not re.search(r"Traceback|secret\.py|KeyError", text)
