"""Tally a mutation run and show it: kills per rubric line, kill rates per graded name and overall,
isolation violations, survivors as diffs with the oracle's smallest differing case; and the JSON
report (``grades/mutants/<assignment>.json``) that a test or a bench can read.

Mechanical and semantic mutants are tallied apart (``summary["kinds"]``, one set of tables each):
the mechanical rate says how many token-level slips the checks catch, the semantic rate how many
misreadings of the contract. The top-level numbers count every mutant once per kind it belongs to.
"""

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


KINDS = ("mechanical", "semantic")


def summarize(result: RunResult) -> dict[str, Any]:
    """All the numbers of a run (what the JSON report holds, without the per-mutant list): for all
    mutants, and under ``kinds`` for each kind apart."""
    numbers = _numbers(result.results, result.solution.rubric)
    numbers["oracle_statuses"] = dict(Counter(r.verdict.status for r in result.results))
    numbers["kinds"] = {
        kind: _numbers([r for r in result.results if r.mutant.kind == kind], result.solution.rubric)
        for kind in KINDS
    }
    return numbers


def _numbers(results: list[MutantResult], rubric) -> dict[str, Any]:
    graded = [r for r in results if r.graded and not r.verdict.equivalent]
    by_name: dict[str, Any] = {}
    for name in rubric.graded_names:
        mine = [r for r in results if name in r.mutant.owners]
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
    for family in sorted({r.mutant.family for r in results}):
        mine = [r for r in results if r.mutant.family == family]
        relevant = [r for r in mine if not r.verdict.equivalent]
        killed = sum(1 for r in relevant if r.killed)
        by_family[family] = {
            "mutants": len(mine),
            "equivalent": len(mine) - len(relevant),
            "killed": killed,
            "survived": sum(1 for r in relevant if r.outcome == "survived"),
            "kill_rate": _rate(killed, len(relevant)),
        }
    outcomes = Counter(r.outcome for r in results)
    relevant = [r for r in results if not r.verdict.equivalent]
    killed = sum(1 for r in relevant if r.killed)
    return {
        "mutants": len(results),
        "equivalent": outcomes["equivalent"] + outcomes["equivalent-killed"],
        "non_equivalent": len(relevant),
        "killed": killed,
        "survived": outcomes["survived"],
        "kill_rate": _rate(killed, len(relevant)),
        "isolation_violations": sum(1 for r in relevant if r.violations),
        "equivalent_but_killed": outcomes["equivalent-killed"],
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
            "kind": result.options.kind,
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
    """The report in the order it prints: a warning if the solution itself loses points; for each
    kind of mutant, kills per rubric line and kill rates per graded name (and, for the semantic
    kind, per operator); isolation violations; each kind's survivors as diffs with the oracle's case;
    mutants the oracle calls equivalent that lose points; the totals."""
    console = console or Console()
    s = summarize(result)
    a = result.options.assignment
    broken = {k: v for k, v in result.baseline.items() if v}
    if broken:
        console.print(
            f"[bold red]The unmutated solution loses points[/] ({broken}): fix the checks or the "
            "solution first; the numbers below mean nothing."
        )
    for kind in KINDS:
        if s["kinds"][kind]["mutants"]:
            _print_tables(console, a, kind, s["kinds"][kind], result)
    console.print("isolation: killed mutants that also lost points outside their own graded name")
    for r in result.results:
        if r.violations:
            console.print(
                f"[yellow]isolation:[/] {r.mutant.id} ({r.mutant.where}) also lost {', '.join(r.violations)}"
            )
    for kind in KINDS:
        survivors = [r for r in result.results if r.outcome == "survived" and r.mutant.kind == kind]
        if survivors and diffs:
            what = "token-level slips" if kind == "mechanical" else "misreadings the checks miss"
            console.rule(f"{len(survivors)} surviving non-equivalent {kind} mutants ({what})")
            for r in survivors:
                console.print(f"[bold]{r.mutant.id}[/] ({r.mutant.where})")
                console.print(_survivor_text(result, r), markup=False, highlight=False, soft_wrap=True)
    suspicious = [r for r in result.results if r.outcome == "equivalent-killed"]
    if suspicious:
        console.rule(f"{len(suspicious)} mutants the oracle calls equivalent lose points")
        console.print("A false fail of the grader, or a gap in the oracle's scenarios: look at each.")
        for r in suspicious:
            console.print(f"[bold]{r.mutant.id}[/] ({r.mutant.kind}) lost {', '.join(r.lost)}")
            if diffs:
                console.print(
                    unified_diff(result.solution, r.mutant), markup=False, highlight=False, soft_wrap=True
                )
    t = result.timing
    rates = "; ".join(
        f"{kind}: {k['killed']}/{k['non_equivalent']} non-equivalent mutants killed "
        f"({_pct(k['kill_rate'])}), {k['survived']} survived"
        for kind, k in s["kinds"].items()
        if k["mutants"]
    )
    console.print(
        f"[bold]{a}: {rates}[/]; {s['mutants']} mutants, {s['equivalent']} equivalent, "
        f"{s['isolation_violations']} with points lost outside their graded name. "
        f"Time {t['total_s']:.0f} s (oracle {t['oracle_s']:.0f} s, {t['oracle_cached']} cached; grading "
        f"{t['grade_s']:.0f} s for {t['graded_submissions']} submissions, {t['graded_cached']} cached) "
        f"with {result.options.jobs} jobs, {t['cpu_s']:.0f} CPU-seconds."
    )
    if result.rejected:
        console.print(
            f"[yellow]{len(result.rejected)} operator proposals could not be spliced exactly and were "
            f"skipped:[/] {', '.join(result.rejected[:10])}"
        )


def _print_tables(console: Console, assignment: str, kind: str, s: dict[str, Any], result: RunResult) -> None:
    """One kind's tables: kills per rubric line, kill rate per graded name, per operator (semantic)."""
    touched = {name for r in result.results if r.mutant.kind == kind for name in r.mutant.owners}
    lines = Table(title=f"{assignment}, {kind} mutants: killed per rubric line", title_justify="left")
    for col in ("rubric line", "kills", "sole killer", "graded mutants of its name"):
        lines.add_column(col, justify="left" if col == "rubric line" else "right")
    for line_id, row in s["by_line"].items():
        if line_id.split(".", 1)[0] in touched:
            lines.add_row(
                line_id, str(row["kills"]), str(row["only_killer"]), str(row["of_mutants_of_its_name"])
            )
    console.print(lines)
    names = Table(title=f"{assignment}, {kind} mutants: kill rate per graded name", title_justify="left")
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
    if kind != "semantic":
        return
    operators = Table(title=f"{assignment}, semantic mutants: kill rate per operator", title_justify="left")
    for col in ("operator", "mutants", "equiv.", "killed", "survived", "kill rate"):
        operators.add_column(col, justify="left" if col == "operator" else "right")
    for family, row in s["by_family"].items():
        operators.add_row(
            family,
            str(row["mutants"]),
            str(row["equivalent"]),
            str(row["killed"]),
            str(row["survived"]),
            _pct(row["kill_rate"]),
        )
    console.print(operators)
