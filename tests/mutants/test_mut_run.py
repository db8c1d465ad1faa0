"""A tiny end-to-end mutation run (a handful of mutants of one graded name) through the oracle and the
real grader, its JSON report, the cache on a rerun, the tallies, and the command line's errors. The
full run is the tool (`make mutants`), not a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from autograder.tasks.mutants.generate import Mutant, load_solution
from autograder.tasks.mutants.oracle import Verdict
from autograder.tasks.mutants.report import print_report, summarize, write_json
from autograder.tasks.mutants.run import MutantResult, Options, RunResult, run

ROOT = Path(__file__).resolve().parents[2]
GD = "01_gradient_descent"


@pytest.mark.slow
@pytest.mark.gradient_descent
def test_a_small_run_judges_grades_reports_and_reuses_its_cache(tmp_path):
    options = Options(assignment=GD, jobs=1, out=tmp_path, only=("PowerDecayLR:*",), limit=5, full_every=2)
    result = run(options)
    assert result.baseline and all(lost == [] for lost in result.baseline.values())
    assert len(result.results) == 5
    for r in result.results:
        assert r.mutant.owners == ("PowerDecayLR",)
        assert r.verdict.status in ("equivalent", "differs", "timeout", "crashed")
        assert r.graded == (not r.verdict.equivalent)
        assert all(line.startswith("PowerDecayLR.") for line in r.lost), r.lost
        assert r.violations == []
    assert any(r.full_module for r in result.results if r.graded)
    summary = summarize(result)
    assert summary["killed"] + summary["survived"] == summary["non_equivalent"]
    assert summary["mutants"] == 5 == summary["equivalent"] + summary["non_equivalent"]
    killed_by_lines = {line for r in result.results for line in r.lost}
    assert {k for k, v in summary["by_line"].items() if v["kills"]} == killed_by_lines

    path = write_json(result, tmp_path / f"{GD}.json")
    report = json.loads(path.read_text())
    assert report["summary"]["kill_rate"] == summary["kill_rate"]
    assert [m["id"] for m in report["mutants"]] == [r.mutant.id for r in result.results]

    console = Console(record=True, width=130)
    print_report(result, console)
    text = console.export_text()
    assert "PowerDecayLR.schedule" in text and "non-equivalent mutants killed" in text

    again = run(options)
    assert again.timing["oracle_cached"] == 5
    assert [(r.verdict, r.lost) for r in again.results] == [(r.verdict, r.lost) for r in result.results]


def _fake(
    mutant_id: str, owners: tuple[str, ...], status: str, lost: dict, graded: bool = True
) -> MutantResult:
    mutant = Mutant(mutant_id, owners[0], owners, "const-1->2", "const", 1, "cell 1, line 1", "x = 2\n")
    return MutantResult(
        mutant, Verdict(status, owners[0], "a scenario", "a difference"), graded=graded, lost=lost
    )


def test_tallies_and_survivor_diffs():
    solution = load_solution(GD)
    results = [
        _fake("fit:L1:a#1", ("fit",), "differs", {"fit.training_loop": 2.0, "fit.convergence": 1.0}),
        _fake("fit:L1:b#1", ("fit",), "differs", {}),
        _fake("fit:L1:c#1", ("fit",), "equivalent", {}, graded=False),
        _fake(
            "minibatches:L1:d#1",
            ("minibatches",),
            "differs",
            {"minibatches.coverage": 2.0, "fit.interface": 1},
        ),
    ]
    results[3].violations = ["fit.interface"]
    result = RunResult(
        solution,
        results,
        [],
        0,
        {"baseline-all": []},
        {
            "total_s": 1,
            "oracle_s": 0,
            "grade_s": 1,
            "cpu_s": 1,
            "graded_cached": 0,
            "oracle_cached": 0,
            "graded_submissions": 3,
        },
        {},
        Options(assignment=GD),
    )
    s = summarize(result)
    assert (s["mutants"], s["equivalent"], s["non_equivalent"], s["killed"], s["survived"]) == (4, 1, 3, 2, 1)
    assert s["kill_rate"] == round(2 / 3, 4)
    assert s["by_name"]["fit"] == {
        "mutants": 3,
        "equivalent": 1,
        "non_equivalent": 2,
        "killed": 1,
        "survived": 1,
        "kill_rate": 0.5,
        "isolation_violations": 0,
    }
    assert s["by_name"]["minibatches"]["isolation_violations"] == 1
    assert (
        s["by_line"]["fit.training_loop"]["kills"] == 1
        and s["by_line"]["fit.training_loop"]["only_killer"] == 0
    )
    assert s["by_line"]["minibatches.coverage"]["kills"] == 1
    console = Console(record=True, width=130)
    print_report(result, console)
    text = console.export_text()
    assert "1 surviving non-equivalent mechanical mutants" in text and "fit:L1:b#1" in text
    assert "oracle: differs in fit: a scenario" in text and "+x = 2" in text
    assert "isolation: minibatches:L1:d#1" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--assignment", "04_nope"], "unknown assignment 04_nope"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--examples-scale", "0"], "--examples-scale must be in (0, 1]"),
])
def test_command_line_errors_exit_2(args, message):
    proc = subprocess.run([sys.executable, "-m", "autograder.tasks.mutants", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and message in proc.stderr
