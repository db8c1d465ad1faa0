"""The grader against its corpus, for every assignment at once (one table, generic tests):

- independently written correct submissions get full marks on every rubric line;
- equivalent rewrites in other styles keep full marks (the checks are not stricter than DESIGN.md);
- each realistic single bug of KNOWN_WRONG loses points on exactly the lines it names, nothing else,
  with feedback a student can act on and nothing of the grader's internals in it;
- every rubric line is lost by at least one known bug (no check that cannot fail).

The released stub notebooks scoring 0 is tested with the notebooks (tests/notebooks/test_nb_grade.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder.grading import hints
from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import assignment_ids, load_rubric
from tests.engine.snippets import SnippetRunner, placed_blocks, shown_pairs, stated_got
from tests.submissions.known_equivalent import KNOWN_EQUIVALENT
from tests.submissions.known_wrong import KNOWN_WRONG

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
# how many reproducers each graded known bug ran (read by the report; not committed)
SNIPPET_LOG = Path(__file__).resolve().parents[2] / "grades" / "snippet-test" / "runs.txt"
MARKS = {
    "01_gradient_descent": pytest.mark.gradient_descent,
    "02_optimizers": pytest.mark.optimizers,
    "03_regularization": pytest.mark.regularization,
}


def grade(path: Path, assignment: str, zygote) -> dict:
    rubric = load_rubric(assignment)
    return student_record(grade_submission(path, rubric, zygote), rubric)


def lost(record: dict) -> dict[str, str]:
    return {
        i["id"]: f"{i['status']}: {i['feedback'][-400:]}"
        for i in record["items"]
        if i["score"] < i["max_score"]
    }


def write_variant(tmp_path: Path, assignment: str, base: str, old: str, new: str) -> Path:
    text = (SUBMISSIONS / assignment / base).read_text()
    assert text.count(old) == 1, f"the snippet must occur exactly once in {assignment}/{base}"
    path = tmp_path / f"{load_rubric(assignment).module}.py"
    path.write_text(text.replace(old, new))
    return path


CORRECT = [
    pytest.param(a, p, id=f"{a}-{p.stem}", marks=MARKS[a])
    for a in assignment_ids()
    for p in sorted((SUBMISSIONS / a / "correct").glob("*.py"))
]


@pytest.mark.parametrize(("assignment", "path"), CORRECT)
def test_correct_submission_gets_full_marks(assignment, path, zygote):
    record = grade(path, assignment, zygote)
    assert lost(record) == {}
    assert record["score"] == record["max_score"] == load_rubric(assignment).max_score


@pytest.mark.parametrize(
    "variant", [pytest.param(v, id=v.name, marks=MARKS[v.assignment]) for v in KNOWN_EQUIVALENT]
)
def test_equivalent_rewrite_keeps_full_marks(variant, zygote, tmp_path):
    path = write_variant(tmp_path, variant.assignment, variant.base, variant.old, variant.new)
    assert lost(grade(path, variant.assignment, zygote)) == {}, variant.style


@pytest.fixture(scope="session")
def snippet_runner():
    runner = SnippetRunner()
    yield runner
    runner.close()


@pytest.mark.parametrize(
    "wrong", [pytest.param(w, id=w.name, marks=MARKS[w.assignment]) for w in KNOWN_WRONG]
)
def test_single_bug_loses_exactly_its_lines(wrong, zygote, tmp_path, snippet_runner):
    path = write_variant(tmp_path, wrong.assignment, wrong.base, wrong.old, wrong.new)
    record = grade(path, wrong.assignment, zygote)
    assert set(lost(record)) == set(wrong.fails), (wrong.reason, lost(record))
    for item in record["items"]:
        if item["id"] in wrong.fails:
            assert item["feedback"].strip(), item["id"]
            assert not re.search(
                r"Traceback \(most recent|kitworker|/autograder/|reference\.", item["feedback"]
            )
    reproducers_run_as_printed(record, path, load_rubric(wrong.assignment).module, snippet_runner)
    hints_name_this_misreading(record, wrong)


def hints_name_this_misreading(record: dict, wrong) -> None:
    """A known misreading with a signature of its own (``make hints``) is named on its lines, and a hint
    shown never names another one."""
    shown = [i["feedback"].split("\n", 1)[0] for i in record["items"] if i["feedback"].startswith(hints.LEAD)]
    assert all(line == hints.hint_text(wrong.reason) for line in shown), shown
    listed = {v["name"] for v in hints.table(wrong.assignment).values()}
    if wrong.name in listed:
        assert shown, f"{wrong.name} has a signature of its own but got no hint: run make hints"


def reproducers_run_as_printed(record: dict, path: Path, module: str, runner: SnippetRunner) -> None:
    """Every reproducer of the feedback runs as printed, next to the buggy module and pasted under its
    code as a notebook cell, and prints the student's value (the one the feedback states) and the
    expected one. The guard of the promise that a student sees the bug by running what we print."""
    jobs, items = [], []
    for item in record["items"]:
        for notebook in (False, True):
            for code in placed_blocks(item["feedback"], module, notebook):
                jobs.append({"code": code, "notebook": notebook})
                items.append(item)
    # one case shown once per graded name (a repeat points to the line that shows it)
    for notebook in (False, True):
        shown = [(item["id"].split(".")[0], code) for job, item in zip(jobs, items, strict=True)
                 if job["notebook"] == notebook for code in [job["code"]]]
        assert len(shown) == len(set(shown)), f"a case is shown twice for one graded name: {shown}"
    exact = 0
    results = runner.run(jobs, path, path.parent) if jobs else []
    for job, item, ran in zip(jobs, items, results, strict=True):
        where = (item["id"], "notebook" if job["notebook"] else "module", ran)
        if item["status"] == "error":  # a crash: running the case shows the same exception
            crash = re.search(r"your code raised ([A-Z]\w*)", item["feedback"])
            shown = (ran["raised"] or "") + ran["stdout"]
            assert crash and crash.group(1) in shown, where
            continue
        assert ran["raised"] is None, where
        pairs = shown_pairs(ran["stdout"])
        assert pairs and any(got != expected for got, expected in pairs), where
        # The value the feedback states is printed too, unless the bug keeps state across calls
        # (a global counter): then a fresh process cannot replay the grader's earlier calls, and the
        # snippet still shows a difference (asserted above).
        exact += all(number in ran["stdout"] for number in stated_got(item["feedback"]))
    SNIPPET_LOG.parent.mkdir(parents=True, exist_ok=True)
    with SNIPPET_LOG.open("a") as log:
        log.write(f"{record['student']} snippets={len(jobs)} exact={exact}\n")


@pytest.mark.parametrize("assignment", assignment_ids())
def test_every_rubric_line_is_lost_by_some_known_bug(assignment):
    covered = {line for w in KNOWN_WRONG if w.assignment == assignment for line in w.fails}
    assert {line.id for line in load_rubric(assignment).lines} - covered == set()


def test_every_known_bug_names_real_rubric_lines_of_one_graded_name():
    for w in KNOWN_WRONG:
        ids = {line.id for line in load_rubric(w.assignment).lines}
        assert set(w.fails) <= ids and w.fails, w.name
