"""Tally a mutation run and show it: kills per rubric line, kill rates per graded name and overall,
isolation violations, survivors as diffs with the oracle's smallest differing case; and the JSON
report (``grades/mutants/<assignment>.json``) that a test or a bench can read."""

from __future__ import annotations

import json
import platform
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .generate import unified_diff
from .run import MutantResult, RunResult, as_dict


def _rate(killed: int, total: int) -> float | None:
    return round(killed / total, 4) if total else None


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def summarize(result: RunResult) -> dict[str, Any]:
    """All the numbers of a run (what the JSON report holds, without the per-mutant list)."""
    rubric = result.solution.rubric
    graded = [r for r in result.results if r.graded and not r.verdict.equivalent]
    by_name: dict[str, Any] = {}
    for name in rubric.graded_names:
        mine = [r for r in result.results if name in r.mutant.owners]
        relevant = [r for r in mine if not r.verdict.equivalent]
        killed = [r for r in relevant if r.graded and r.killed]
        by_name[name] = {
            "mutants": len(mine),
            "equivalent": len(mine) - len(relevant),
            "non_equivalent": len(relevant),
            "killed": len(killed),
            "survived": sum(1 for r in relevant if r.graded and not r.killed),
            "kill_rate": _rate(len(killed), len(relevant)),
            "isolation_violations": sum(1 for r in relevant if r.violations),
        }
    by_line: dict[str, Any] = {}
    for line in rubric.lines:
        kills = [r for r in graded if line.id in r.lost]
        by_line[line.id] = {
            "kills": len(kills),
            "only_killer": sum(1 for r in kills if len(r.lost) == 1),
            "of_mutants_of_its_name": sum(1 for r in graded if line.name in r.mutant.owners),
        }
    by_family: dict[str, Any] = {}
    for family in sorted({r.mutant.family for r in result.results}):
        mine = [r for r in result.results if r.mutant.family == family]
        relevant = [r for r in mine if not r.verdict.equivalent]
        killed = sum(1 for r in relevant if r.killed)
        by_family[family] = {
            "mutants": len(mine),
            "equivalent": len(mine) - len(relevant),
            "killed": killed,
            "kill_rate": _rate(killed, len(relevant)),
        }
    outcomes = Counter(r.outcome for r in result.results)
    relevant = [r for r in result.results if not r.verdict.equivalent]
    killed = sum(1 for r in relevant if r.killed)
    return {
        "mutants": len(result.results),
        "equivalent": outcomes["equivalent"] + outcomes["equivalent-killed"],
        "non_equivalent": len(relevant),
        "killed": killed,
        "survived": outcomes["survived"],
        "kill_rate": _rate(killed, len(relevant)),
        "isolation_violations": sum(1 for r in relevant if r.violations),
        "equivalent_but_killed": outcomes["equivalent-killed"],
        "oracle_statuses": dict(Counter(r.verdict.status for r in result.results)),
        "by_name": by_name,
        "by_line": by_line,
        "by_family": by_family,
    }


def to_json(result: RunResult) -> dict[str, Any]:
    import torch

    summary = summarize(result)
    mutants = []
    for r in result.results:
        entry = as_dict(r)
        if r.outcome in ("survived", "equivalent-killed") or r.violations:
            entry["diff"] = unified_diff(result.solution, r.mutant)
        mutants.append(entry)
    return {
        "assignment": result.options.assignment,
        "solution": str(result.solution.submission.path),
        "summary": summary,
        "baseline": result.baseline,
        "generation": {"rejected": result.rejected, "duplicates": result.duplicates},
        "timing": result.timing | {"jobs": result.options.jobs},
        "versions": result.versions | {"torch": torch.__version__, "python": platform.python_version()},
        "options": {
            "only": list(result.options.only),
            "limit": result.options.limit,
            "full_every": result.options.full_every,
            "grade_equivalent": result.options.grade_equivalent,
        },
        "mutants": mutants,
    }


def write_json(result: RunResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_json(result), indent=1, sort_keys=False))
    tmp.replace(path)
    return path


def _survivor_text(result: RunResult, r: MutantResult) -> str:
    v = r.verdict
    why = (
        f"oracle: differs in {v.name}: {v.scenario}\n  -> {v.difference}"
        if v.status == "differs"
        else f"oracle: {v.status}: {v.difference}"
    )
    return f"{why}\n{unified_diff(result.solution, r.mutant)}"


def print_report(result: RunResult, console: Console | None = None, diffs: bool = True) -> None:
    # Long on purpose: the report's sections in the order they print.
    console = console or Console()
    s = summarize(result)
    a = result.options.assignment
    broken = {k: v for k, v in result.baseline.items() if v}
    if broken:
        console.print(
            f"[bold red]The unmutated solution loses points[/] ({broken}): fix the checks or the "
            "solution first; the numbers below mean nothing."
        )
    touched = {name for r in result.results for name in r.mutant.owners}
    lines = Table(title=f"{a}: mutants killed per rubric line", title_justify="left")
    for col in ("rubric line", "kills", "sole killer", "graded mutants of its name"):
        lines.add_column(col, justify="left" if col == "rubric line" else "right")
    for line_id, row in s["by_line"].items():
        if line_id.split(".", 1)[0] in touched:
            lines.add_row(
                line_id, str(row["kills"]), str(row["only_killer"]), str(row["of_mutants_of_its_name"])
            )
    console.print(lines)
    names = Table(title=f"{a}: kill rate per graded name", title_justify="left")
    for col in ("name", "mutants", "equiv.", "non-equiv.", "killed", "survived", "kill rate", "isolation"):
        names.add_column(col, justify="left" if col == "name" else "right")
    for name, row in s["by_name"].items():
        if row["mutants"]:
            names.add_row(
                name,
                str(row["mutants"]),
                str(row["equivalent"]),
                str(row["non_equivalent"]),
                str(row["killed"]),
                str(row["survived"]),
                _pct(row["kill_rate"]),
                str(row["isolation_violations"]),
            )
    console.print(names)
    console.print("isolation: killed mutants that also lost points outside their own graded name")
    for r in result.results:
        if r.violations:
            console.print(
                f"[yellow]isolation:[/] {r.mutant.id} ({r.mutant.where}) also lost {', '.join(r.violations)}"
            )
    survivors = [r for r in result.results if r.outcome == "survived"]
    if survivors and diffs:
        console.rule(f"{len(survivors)} surviving non-equivalent mutants")
        for r in survivors:
            console.print(f"[bold]{r.mutant.id}[/] ({r.mutant.where})")
            console.print(_survivor_text(result, r), markup=False, highlight=False, soft_wrap=True)
    suspicious = [r for r in result.results if r.outcome == "equivalent-killed"]
    if suspicious:
        console.rule(f"{len(suspicious)} mutants the oracle calls equivalent lose points")
        console.print("A false fail of the grader, or a gap in the oracle's scenarios: look at each.")
        for r in suspicious:
            console.print(f"[bold]{r.mutant.id}[/] lost {', '.join(r.lost)}")
            if diffs:
                console.print(
                    unified_diff(result.solution, r.mutant), markup=False, highlight=False, soft_wrap=True
                )
    t = result.timing
    console.print(
        f"[bold]{a}: {s['killed']}/{s['non_equivalent']} non-equivalent mutants killed "
        f"({_pct(s['kill_rate'])})[/]; {s['mutants']} mutants, {s['equivalent']} equivalent, "
        f"{s['survived']} survived, {s['isolation_violations']} with points lost outside their graded name. "
        f"Time {t['total_s']:.0f} s (oracle {t['oracle_s']:.0f} s, {t['oracle_cached']} cached; grading "
        f"{t['grade_s']:.0f} s for {t['graded_submissions']} submissions, {t['graded_cached']} cached) "
        f"with {result.options.jobs} jobs, {t['cpu_s']:.0f} CPU-seconds."
    )
    if result.rejected:
        console.print(
            f"[yellow]{len(result.rejected)} operator proposals could not be spliced exactly and were "
            f"skipped:[/] {', '.join(result.rejected[:10])}"
        )
