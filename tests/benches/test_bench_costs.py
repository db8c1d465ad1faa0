"""The per-line cost table of ``make bench`` (bench/costs.py) counts what it says: every rubric line's
worker round trips, the hypothesis examples of the lines that search, and the workers' loads apart."""

from __future__ import annotations

from autograder.families import base
from autograder.grading.rubric import load_rubric
from bench import costs

A = "01_gradient_descent"


def test_cost_table_counts_round_trips_and_examples_per_line(zygote):
    before = dict(base.REGISTRY)
    result = costs.measure(A, zygote)
    assert base.REGISTRY == before  # the meter's wrappers are gone again
    rubric = load_rubric(A)
    lines = result["lines"]
    assert set(lines) == {line.id for line in rubric.lines} | {costs.START}
    assert all(trips >= 1 for _secs, trips, _ex in lines.values())  # each line talks to its worker
    searched = {"PowerDecayLR.schedule", "minibatches.coverage", "fit.early_stopping"}
    assert all(lines[i][2] >= 10 for i in searched)  # hypothesis-driven lines report their examples
    assert lines["fit.interface"][2] == 0
    hidden = sum(line.visibility == "hidden" for line in rubric.lines)
    assert lines[costs.START][1] >= 1 + hidden  # one load per phase: the visible lines, each hidden one
    assert len(result["walls"]) == 3 and all(s > 0 for s in result["walls"].values())
    assert "total" in str(costs.table(A, result).columns[0]._cells)


def test_budget_table_reads_the_full_and_the_scaled_mutants_reports(tmp_path, monkeypatch):
    import json

    from bench import budgets

    def report(kills: list[dict], killed: int) -> str:
        mutants = [{"id": f"m{i}", "lost": lost} for i, lost in enumerate(kills)]
        return json.dumps({"mutants": mutants, "summary": {"killed": killed, "non_equivalent": 2}})

    (tmp_path / "01_gradient_descent.json").write_text(
        report([{"fit.interface": 1.0, "fit.training_loop": 2.0}, {"fit.training_loop": 2.0}], 2))
    (tmp_path / "01_gradient_descent-examples-0.34.json").write_text(report([{"fit.interface": 1.0}, {}], 1))
    monkeypatch.setattr(budgets, "MUTANTS", tmp_path)
    full, scaled, line = budgets.mutant_kills("01_gradient_descent", 0.34)
    assert full["fit.training_loop"] == 2 and scaled["fit.training_loop"] == 0
    assert full["fit.interface"] == scaled["fit.interface"] == 1
    assert line == "mutants killed: 2/2 with the full budgets, 1/2 at x0.34"
    assert budgets.mutant_kills("01_gradient_descent", 0.5) is None  # no scaled report: no columns
