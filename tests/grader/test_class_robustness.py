"""No per-student failure stops the class: arbitrary bytes, notebooks and names graded next to an honest
student leave that student's files byte-identical to a run without them, and every student gets a
record. Also the cases that used to stop a whole class run: a NaN in a loss curve, a notebook nested too
deeply for a recursive reader, a policy scan that was quadratic, and an exit code that read as the
sandbox's own failure."""

from __future__ import annotations

import json
import string
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograder import policy
from autograder.grading.batch import Lanes, choose_level
from autograder.grading.engine import GradingConfig, grade_submission
from autograder.grading.loader import load_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import load_rubric
from autograder.reporters.json_report import dumps
from autograder.tasks.classrun import ClassRun, run_class

ROOT = Path(__file__).resolve().parents[2]
A = "02_optimizers"
HONEST = ROOT / "tests/submissions" / A / "sample_class/alice.py"
CORRECT = ROOT / "tests/submissions" / A / "correct/loop.py"


@pytest.fixture(scope="module")
def lanes():
    with Lanes(1, choose_level(None)) as own:
        yield own


def _alice_files(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes()
             for name in ("alice.json", "results/alice/results.json", "feedback/alice.html")}
    files["grades.csv"] = b"\n".join(line for line in (out / "grades.csv").read_bytes().splitlines()
                                     if line.startswith(b"alice,"))
    return files


def _grade(folder: Path, out: Path, lanes: Lanes) -> list[str]:
    """Grade the class in a thread of its own: the grader runs hypothesis searches, which must not nest in
    the hypothesis test that drew the class (hypothesis keeps its test context per thread)."""
    def run() -> None:
        run_class(ClassRun(load_rubric(A), sorted(folder.iterdir()), out, lanes=lanes))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
    return sorted(json.loads((out / "run.json").read_text())["students"])


@pytest.fixture(scope="module")
def baseline(lanes, tmp_path_factory):
    folder = tmp_path_factory.mktemp("alone")
    (folder / "alice.py").write_bytes(HONEST.read_bytes())
    out = tmp_path_factory.mktemp("alone-out") / "grades"
    _grade(folder, out, lanes)
    return _alice_files(out)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=15)
_cell = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", 7, None]),
     "source": st.text(max_size=80) | st.lists(st.text(max_size=30), max_size=3) | _json,
     "metadata": st.fixed_dictionaries({}, optional={"tags": _json | st.lists(st.sampled_from(
         ["experiment", "self-check", 3]), max_size=2), "nbgrader": _json})})
_notebook = st.fixed_dictionaries({"cells": st.lists(_cell, max_size=4) | _json, "nbformat": _json})
_python = st.sampled_from([
    "import torch\nclass SGD(torch.optim.Optimizer):\n    def step(self, closure=None):\n"
    "        import os\n        os._exit(71)\n",
    "x = " + "(" * 300 + "1" + ")" * 300 + "\n",
    "from torch.optim import *\nclass Adam: pass\n",
    "a, " * 3000 + "b = [0] * 3001\n",
    "\n".join(f"v{i} = eval('{i}')" for i in range(500)) + "\n",
    "def f(:\n",
    "print('%s')\n" % ("x" * 5000),
    "raise SystemExit(3)\n",
]) | st.text(max_size=200)
_alphabet = string.ascii_letters + string.digits + " ._@+-éß€\u200b/\\:"
_name = st.text(alphabet=_alphabet, min_size=1, max_size=24) \
    | st.sampled_from(["run", "grades", "feedback", "results", "alice", ".hidden", "a" * 240])


@st.composite
def junk(draw) -> tuple[str, bytes]:
    name = draw(_name).replace("/", "_").replace("\\", "_").strip() or "x"
    kind = draw(st.sampled_from(["py-text", "py-bytes", "nb-json", "nb-bytes", "nb-shaped"]))
    if kind == "py-text":
        return f"{name}.py", draw(_python).encode("utf-8", "surrogatepass")
    if kind == "py-bytes":
        return f"{name}.py", draw(st.binary(max_size=200))
    if kind == "nb-bytes":
        return f"{name}.ipynb", draw(st.binary(max_size=200))
    if kind == "nb-json":
        return f"{name}.ipynb", json.dumps(draw(_json)).encode()
    return f"{name}.ipynb", json.dumps(draw(_notebook), default=str).encode()


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.lists(junk(), min_size=1, max_size=3, unique_by=lambda f: f[0].lower()))
@example(files=[("deep.ipynb", b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")])
@example(files=[("alice copy.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": "x"}]}).encode()),
                ("run.py", b"import torch\n")])
def test_broken_students_never_change_an_honest_students_files(files, lanes, baseline, tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    (folder / "alice.py").write_bytes(HONEST.read_bytes())
    for name, data in files:
        # another file of alice's would be a second submission of hers: an error for her, rightly
        if Path(name).stem != "alice" and len(name.encode()) < 250:
            (folder / name).write_bytes(data)
    out = tmp_path_factory.mktemp("out") / "grades"
    students = _grade(folder, out, lanes)
    assert _alice_files(out) == baseline
    written = {p.stem for p in out.glob("*.json") if p.name != "run.json"}
    assert len(written) == len(students) == len(list(folder.iterdir())), (students, written)


def test_a_diverged_loss_curve_is_an_ordinary_value(lanes, tmp_path):
    """Adam with v fed the raw gradient (not squared): the square root of a negative average gives NaN
    losses. The class completes; the record says NaN, strict JSON, and the page draws what is finite."""
    text = CORRECT.read_text()
    bug = text.replace("exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)",
                       "exp_avg_sq.mul_(beta2).add_(grad, alpha=1 - beta2)")
    assert bug != text
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "nan.py").write_text(bug)
    (tmp_path / "class" / "alice.py").write_bytes(HONEST.read_bytes())
    out = tmp_path / "grades"
    assert _grade(tmp_path / "class", out, lanes) == ["alice", "nan"]
    record = json.loads((out / "nan.json").read_text())  # strict JSON: no bare NaN token
    assert record["score"] < record["max_score"]
    curves = [i["plot"] for i in record["items"] if i.get("plot")]
    assert any("NaN" in s["y"] for plot in curves for s in plot["series"]), curves
    assert (out / "feedback" / "nan.html").is_file()
    assert "NaN" in dumps({"y": [float("nan"), float("inf")]}) and "Infinity" in dumps({"y": float("inf")})


def test_the_policy_scan_is_linear_and_its_report_capped():
    """8000 names bound by one statement, or thousands of violations: a few seconds at most (it was
    quadratic: 48 s), and a review flag that quotes a dozen lines and counts the rest."""
    names = [f"n{i}" for i in range(8000)]
    start = time.monotonic()
    policy.check_source("import torch\n" + ", ".join(names) + " = " + ", ".join("0" for _ in names) + "\n")
    src = "import torch\n" + "\n".join(f"x{i} = eval('{i}')" for i in range(5000)) + "\nclass SGD:\n pass\n"
    report = policy.check_source(src)
    assert time.monotonic() - start < 30  # an order above what it takes; it is linear
    status, _, found = policy.verdicts(report, ["SGD"])["SGD"]
    assert status == "review" and len(found) == 5000
    from autograder.grading import review

    flag = review.decide(report, ["SGD"], {}, lambda line: f"line {line}")["SGD"].flag
    assert len(flag["lines"]) == policy.report.QUOTED_VIOLATIONS + 1 and "4988 more" in flag["lines"][-1]


def test_an_exit_code_the_student_chooses_never_reads_as_the_sandbox_s_fault(zygote, tmp_path):
    head = "    def step(self, closure=None):"
    text = CORRECT.read_text().replace(head, head + "\n        import os\n        os._exit(71)", 1)
    path = tmp_path / "optimizers.py"
    path.write_text(text)
    rubric = load_rubric(A)
    grants = {"SGD": load_submission(path, A, rubric.module).scan.review_digest("SGD")}  # `import os`, read
    result = grade_submission(path, rubric, zygote, grants=grants)
    assert not result.grader_faults
    record = student_record(result, rubric)
    crashed = [i for i in record["items"] if i["status"] == "error"]
    assert crashed and all("exit code 71" in i["feedback"] and "grader" not in i["feedback"] for i in crashed)


def test_one_student_costs_at_most_the_budget_whatever_it_does(zygote, tmp_path):
    """Module-level code that sleeps (within its own load limit) and a step that never returns: every
    load and reload counts against the student's one budget, so the student ends near it and every line
    still gets a status."""
    head = "    def step(self, closure=None):"
    text = CORRECT.read_text().replace(head, head + "\n        while True:\n            pass", 1)
    path = tmp_path / "optimizers.py"
    path.write_text("import time\ntime.sleep(2.5)\n" + text)
    config = GradingConfig(student_budget_s=12.0, call_timeout_s=2.0, after_hang_call_s=1.0)
    rubric = load_rubric(A)
    start = time.monotonic()
    record = student_record(grade_submission(path, rubric, zygote, config), rubric)
    spent = time.monotonic() - start
    assert spent < 12.0 + 2.0 + 10.0, spent  # the budget, one call, and slack for a loaded machine
    assert {i["status"] for i in record["items"]} <= {"timeout", "passed", "failed", "error"}
    assert any("the grader's time for one submission" in i["feedback"] for i in record["items"]), record
