"""The material of ``make bench``'s comparison with nbgrader is consistent, and the benches' bookkeeping
counts right. No timing is asserted anywhere: the benches measure, the tests check what they measure."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from bench import memory
from bench.nbgrader_compare import compare, generate
from bench.nbgrader_compare.hidden_tests import BEGIN, END, HIDDEN_TESTS
from bench.nbgrader_compare.submissions import SUBMISSIONS
from tests.submissions.known_wrong import KNOWN_WRONG

ROOT = Path(__file__).resolve().parents[2]

BY_NAME = {w.name: w for w in KNOWN_WRONG}


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> dict[str, str]:
    """Code cells by nbgrader grade_id (solution and test cells) or by position (the others)."""
    return {generate.nbgrader_meta(c).get("grade_id") or f"#{i}": c.source
            for i, c in enumerate(nb.cells) if c.cell_type == "code"}


def test_twenty_submissions_three_correct_and_unique_ids():
    assert len(SUBMISSIONS) == 20
    assert sum(not s.buggy for s in SUBMISSIONS) == 3
    assert {s.assignment for s in SUBMISSIONS if not s.buggy} == set(generate.assignments())
    ids = [(s.assignment, s.student) for s in SUBMISSIONS]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope="module")
def material(tmp_path_factory) -> Path:
    """The comparison's notebooks, built from the current solutions as the bench builds them."""
    root = tmp_path_factory.mktemp("material")
    generate.write_material(root)
    return root


def test_the_generator_writes_every_notebook_valid_and_without_outputs(material):
    written = sorted(material.glob("*/*/*.ipynb"))
    assert written == sorted(generate.build_all(material))
    assert len(written) == len(SUBMISSIONS) + len(generate.assignments())
    for path in written:
        nb = read(path)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("sub", [s for s in SUBMISSIONS if s.buggy], ids=lambda s: s.student)
def test_each_buggy_submission_differs_from_the_correct_one_by_its_bug_only(sub, material):
    buggy = code_cells(read(generate.submission_path(material, sub)))
    correct = code_cells(read(material / "submissions" / sub.assignment / "correct.ipynb"))
    assert buggy.keys() == correct.keys()
    assert [k for k in buggy if buggy[k] != correct[k]] == [sub.cell]
    assert correct[sub.cell].count(sub.old) == 1
    assert buggy[sub.cell] == correct[sub.cell].replace(sub.old, sub.new)
    known = BY_NAME[sub.mirrors]  # the bug is one of the kit's catalogue of realistic bugs
    assert (known.assignment, known.reason) == (sub.assignment, sub.reason)


@pytest.mark.parametrize("assignment", generate.assignments())
def test_correct_submission_is_the_solution_typed_in(assignment, material):
    solution = read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    correct = read(material / "submissions" / assignment / "correct.ipynb")
    assert [c.cell_type for c in correct.cells] == [c.cell_type for c in solution.cells]
    for theirs, ours in zip(solution.cells, correct.cells, strict=True):
        assert ours.metadata.get("tags") == theirs.metadata.get("tags")  # experiment cells kept
        if generate.is_solution_cell(theirs):
            assert "BEGIN SOLUTION" not in ours.source
            assert ours.source == generate.typed_solution(theirs.source)
        elif not generate.is_test_cell(theirs):
            assert ours.source == theirs.source


@pytest.mark.parametrize("assignment", generate.assignments())
def test_hidden_tests_sit_in_graded_test_cells_with_points(assignment, material):
    solution = read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    points = {generate.nbgrader_meta(c)["grade_id"]: generate.nbgrader_meta(c)["points"]
              for c in solution.cells if generate.is_test_cell(c)}
    source = read(generate.source_path(material, assignment))
    tests = [c for c in source.cells if generate.is_test_cell(c)]
    assert {generate.nbgrader_meta(c)["grade_id"] for c in tests} == set(points)
    for cell in tests:
        meta = generate.nbgrader_meta(cell)
        assert meta["grade"] is True and meta["solution"] is False and meta["locked"] is True
        assert meta["points"] == points[meta["grade_id"]] > 0
        name = meta["grade_id"].removeprefix("test_")
        hidden = cell.source.split(BEGIN, 1)[1].split(END, 1)[0]
        assert hidden.strip() == HIDDEN_TESTS[name].strip()
        assert "assert" in hidden
    # What students hand in has no hidden tests (nbgrader strips them from the release).
    for path in (material / "submissions" / assignment).glob("*.ipynb"):
        assert BEGIN not in path.read_text() and "assert _raises_value_error" not in path.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("assignment", generate.assignments())
def test_hidden_tests_pass_on_the_solution(assignment, material, tmp_path):
    """A hidden test that fails a correct notebook would make nbgrader look stricter than it is."""
    script = textwrap.dedent(f"""
        import sys, nbformat
        nb = nbformat.read({str(generate.source_path(material, assignment))!r}, as_version=4)
        ns = {{"__name__": "__main__"}}
        for i, cell in enumerate(nb.cells):
            # IPython lines (the %run of the submission self-check) are not Python.
            if cell.cell_type == "code" and "experiment" not in cell.metadata.get("tags", []) \\
                    and not cell.source.lstrip().startswith("%"):
                exec(compile(cell.source, f"cell {{i}}", "exec"), ns)
        print("all graded cells passed")
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "all graded cells passed" in proc.stdout


def _run(outcomes: dict) -> compare.Run:
    return compare.Run(dict.fromkeys(generate.assignments(), 1.0), outcomes)


def test_summary_counts_catches_and_false_alarms():
    full = {(s.assignment, s.student): compare.Outcome(10, 10, []) for s in SUBMISSIONS}
    kit = dict(full)
    for s in SUBMISSIONS:
        if s.buggy:
            kit[s.assignment, s.student] = compare.Outcome(8, 10, ["X.y"])
    first_bug, second_bug = [s for s in SUBMISSIONS if s.buggy][:2]
    correct = next(s for s in SUBMISSIONS if not s.buggy)
    nbgrader = dict(full)
    nbgrader[first_bug.assignment, first_bug.student] = compare.Outcome(5, 10, ["test_X"])
    nbgrader[correct.assignment, correct.student] = compare.Outcome(9, 10, ["test_X"])
    kit[second_bug.assignment, second_bug.student] = compare.Outcome(10, 10, [])
    summary = compare.summarize(_run(nbgrader), _run(kit))
    assert (summary["caught_nbgrader"], summary["caught_kit"]) == (1, 16)
    assert summary["caught_only_nbgrader"] == []
    assert summary["caught_by_neither"] == [second_bug.student]
    assert first_bug.student not in summary["caught_only_kit"]
    assert summary["false_alarms_nbgrader"] == [f"{correct.assignment}/{correct.student}"]
    assert summary["false_alarms_kit"] == []
    assert summary["ratio"] == 1.0


def test_experiment_cell_seconds_come_from_nbclient_timestamps():
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["execution"] = {"iopub.execute_input": "2025-01-01T10:00:00.250000Z",
                                  "shell.execute_reply": "2025-01-01T10:00:02.000000Z"}
    assert compare._cell_seconds(cell) == pytest.approx(1.75)
    assert compare._cell_seconds(nbformat.v4.new_code_cell("x = 1")) == 0.0


def test_memory_roles_follow_the_process_tree():
    procs = [
        memory.Proc(100, 1, "python -m autograder grade ..."),
        memory.Proc(101, 100, "python -c from multiprocessing.resource_tracker import main"),
        memory.Proc(102, 100, "python -B -c from multiprocessing.spawn import spawn_main; spawn_main()"),
        memory.Proc(103, 102, "python -I -c ...; from kitworker.confinement.zygote import main; main() 11"),
        memory.Proc(104, 103, "python -I -c ...; from kitworker.confinement.zygote import main; main() 11"),
        memory.Proc(105, 103, "python -I -c ...; from kitworker.confinement.zygote import main; main() 11"),
        memory.Proc(106, 105, "python -I -c ...; from kitworker.confinement.zygote import main; main() 11"),
    ]
    memory.assign_roles(procs, root=100)
    assert [p.role for p in procs] == ["cli", "other", "lane", "zygote", "worker", "intermediate", "worker"]


def test_memory_class_cycles_through_the_sample_files(tmp_path):
    paths = memory.make_class(tmp_path / "class", 9)
    assert len(paths) == len({p.name for p in paths}) == 9
    assert paths[0].read_text() == memory.SOURCES[0].read_text()
    assert paths[len(memory.SOURCES)].read_text() == memory.SOURCES[0].read_text()
