"""The margin of the checks' example budgets: grade the known-wrong corpus with every hypothesis budget
scaled down (``GradingConfig.examples_scale``, default 0.34: a third) and report, per rubric line, how
many of the bugs meant to lose it still do. A line that keeps all its catches at a third of its budget
has at least a 3x margin on the corpus. Hand-picked cases always run, so a bug they catch is caught at
any scale; the table says which lines rest on the random search alone.

With ``make mutants MUTANTS_ARGS=--examples-scale=0.34`` run first, the mutants' kill counts per line at
full and at scaled budgets are read from ``grades/mutants/`` and shown too.

``python -m bench.budgets [--scale 0.34] [--jobs 2] [--assignment ID]``: not part of ``make bench``
(a few minutes more); a benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.grading.batch import grade_class
from autograder.grading.engine import GradingConfig
from autograder.grading.rubric import assignment_ids, load_rubric
from tests.submissions.known_wrong import KNOWN_WRONG

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "grades" / "mutants"


def corpus_catches(assignment: str, scale: float, jobs: int) -> tuple[Counter, Counter, list[str]]:
    """(bugs meant to lose each line, those that still lose it at ``scale``, bugs that lost a line they
    should not have: a sign the scaled run is not comparable)."""
    rubric = load_rubric(assignment)
    wrong = [w for w in KNOWN_WRONG if w.assignment == assignment]
    meant, caught, strays = Counter(), Counter(), []
    with tempfile.TemporaryDirectory(prefix="kit-budgets-") as tmp:
        paths = []
        for w in wrong:
            folder = Path(tmp) / w.name
            folder.mkdir()
            (folder / f"{rubric.module}.py").write_text(w.mutated_source())
            paths.append(folder)
        records, _, _ = grade_class(paths, rubric, jobs=jobs, config=GradingConfig(examples_scale=scale))
    by_name = {r["student"]: r for r in records}
    for w in wrong:
        lost = {i["id"] for i in by_name[w.name]["items"] if i["score"] < i["max_score"]}
        meant.update(w.fails)
        caught.update(w.fails & lost)
        strays += [f"{w.name}: {line}" for line in sorted(lost - w.fails)]
    return meant, caught, strays


def mutant_kills(assignment: str, scale: float) -> tuple[Counter, Counter, str] | None:
    """Kills per rubric line in the full and the scaled mutants reports, when both exist, and a line
    comparing their kill rates."""
    full, scaled = MUTANTS / f"{assignment}.json", MUTANTS / f"{assignment}-examples-{scale:g}.json"
    if not (full.exists() and scaled.exists()):
        return None
    reports = [json.loads(path.read_text()) for path in (full, scaled)]
    kills = [Counter(line for m in r["mutants"] for line in m.get("lost", {})) for r in reports]
    rates = [f"{r['summary']['killed']}/{r['summary']['non_equivalent']}" for r in reports]
    return kills[0], kills[1], f"mutants killed: {rates[0]} with the full budgets, {rates[1]} at x{scale:g}"


def main(argv: list[str] | tuple[str, ...] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.budgets", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.34)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignment", action="append", choices=assignment_ids())
    args = parser.parse_args(list(argv))
    console = Console(width=120)
    for assignment in args.assignment or assignment_ids():
        meant, caught, strays = corpus_catches(assignment, args.scale, args.jobs)
        mutants = mutant_kills(assignment, args.scale)
        table = Table(title=f"{assignment}: catches with every hypothesis budget x {args.scale:g}")
        columns = ["line", "known bugs", f"still caught at x{args.scale:g}"]
        if mutants:
            columns += ["mutant kills (full)", f"mutant kills (x{args.scale:g})"]
        for col in columns:
            table.add_column(col, justify="left" if col == "line" else "right")
        for line in load_rubric(assignment).lines:
            row = [line.id, str(meant[line.id]), str(caught[line.id])]
            if mutants:
                row += [str(mutants[0][line.id]), str(mutants[1][line.id])]
            fewer_kills = bool(mutants) and mutants[1][line.id] < mutants[0][line.id]
            short = caught[line.id] < meant[line.id] or fewer_kills
            table.add_row(*row, style="bold red" if short else None)
        console.print(table)
        if mutants:
            console.print(mutants[2])
        if strays:
            console.print("lost outside their lines at this scale: " + "; ".join(strays))


if __name__ == "__main__":
    main(sys.argv[1:])
