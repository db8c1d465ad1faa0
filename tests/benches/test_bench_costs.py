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
