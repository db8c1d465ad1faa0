"""Class summary on the console (rich tables) for the TA who ran the grader; writes no file.

Off a terminal (CI logs, pipes) the console is plain text at a fixed width, so logs stay readable.
"""

from __future__ import annotations

import statistics

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._common import fmt_points, paired_items

SUMMARY_WIDTH = 120
# Every status that is neither passed nor a plain wrong answer: the submission did not run as intended.
NOT_RUN_STATUSES = ("error", "timeout", "forbidden", "review", "missing")


def summary_console() -> Console:
    """A console for the summary: the terminal's width on a TTY, fixed-width plain text otherwise."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=SUMMARY_WIDTH, no_color=True, highlight=False)
    return console


def pass_rates(records: list[dict], rubric) -> list[tuple[str, int, int]]:
    """``(item id, students who passed it, students)`` for every rubric line, in rubric order."""
    passed = dict.fromkeys((line.id for line in rubric.lines), 0)
    for record in records:
        for line, item in paired_items(record, rubric):
            passed[line.id] += item["status"] == "passed"
    return [(line.id, passed[line.id], len(records)) for line in rubric.lines]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _seconds(timings: dict, student: str) -> str:
    seconds = timings.get(student)
    return "-" if seconds is None else f"{seconds:.1f}"


def overview_table(records: list[dict], rubric) -> Table:
    """(a) Number of students and mean, median, min, max score out of ``max_score``."""
    scores = [record["score"] for record in records]
    out_of = f" / {fmt_points(rubric.max_score)}"
    table = Table(title=f"{rubric.assignment}: class overview")
    for column in ("Students", "Mean", "Median", "Min", "Max"):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(records)),
        f"{statistics.fmean(scores):.2f}{out_of}",
        fmt_points(statistics.median(scores)) + out_of,
        fmt_points(min(scores)) + out_of,
        fmt_points(max(scores)) + out_of,
    )
    return table


def pass_rate_table(records: list[dict], rubric) -> Table:
    """(b) Per rubric line: how many students passed it, as a count and a percentage."""
    visibility = {line.id: line.visibility for line in rubric.lines}
    points = {line.id: line.points for line in rubric.lines}
    table = Table(title="Pass rate per item")
    table.add_column("Item")
    table.add_column("Points", justify="right")
    table.add_column("Passed", justify="right")
    table.add_column("Rate", justify="right")
    for item_id, passed, students in pass_rates(records, rubric):
        label = item_id + (" (hidden)" if visibility[item_id] == "hidden" else "")
        table.add_row(label, fmt_points(points[item_id]), f"{passed}/{students}", _percent(passed, students))
    return table


def students_table(records: list[dict], rubric, timings: dict) -> Table:
    """(c) One row per student, best score first: failed items, items that did not run, seconds."""
    table = Table(title="Students")
    table.add_column("Student")
    table.add_column("Score", justify="right")
    table.add_column("Failed", justify="right")
    table.add_column("Error/timeout/forbidden/review/missing", justify="right")
    table.add_column("Seconds", justify="right")
    table.add_column("Graded file")
    for record in sorted(records, key=lambda r: (-r["score"], r["student"])):
        statuses = [item["status"] for _, item in paired_items(record, rubric)]
        several = any(flag.get("kind") == "several_files" for flag in record.get("flags", []))
        table.add_row(
            Text(record["student"]),  # Text, not markup: ids come from file names
            fmt_points(record["score"]),
            str(statuses.count("failed")),
            str(sum(status in NOT_RUN_STATUSES for status in statuses)),
            _seconds(timings, record["student"]),
            Text(record.get("graded_file", "-") + (" (of several)" if several else "")),
        )
    return table


def slowest_table(records: list[dict], timings: dict, n: int = 3) -> Table:
    """(d) The ``n`` slowest submissions that have a timing."""
    students = {record["student"] for record in records}
    timed = sorted((s for s in students if timings.get(s) is not None), key=lambda s: (-timings[s], s))
    table = Table(title=f"{n} slowest submissions")
    table.add_column("Student")
    table.add_column("Seconds", justify="right")
    for student in timed[:n]:
        table.add_row(Text(student), _seconds(timings, student))
    return table


def print_summary(records: list[dict], rubric, timings: dict, console: Console | None = None) -> None:
    """Print the class overview, pass rate per item, the students table and the slowest submissions."""
    console = console or summary_console()
    if not records:
        console.print(Text(f"{rubric.assignment}: no students graded."))
        return
    console.print(overview_table(records, rubric))
    console.print(pass_rate_table(records, rubric))
    console.print(students_table(records, rubric, timings))
    console.print(slowest_table(records, timings))
