"""Reproducers: the failing case of a check as code a student runs as printed.

Every family writes its case with ``block(code)``: a fenced ``python`` block inside the feedback text,
so that the engine can say where to run it (``place``: under the notebook, or next to the module) and
the kit's tests can find and run every block. A block imports what it uses, imports the graded name
from the student's module with ``from <module> import <Name>`` (dropped for a notebook, whose cells
define the names already), performs every step the feedback mentions, and ends by printing the
compared values on lines that start with ``got:`` and ``expected:``.
"""

from __future__ import annotations

import keyword
import re

OPEN, CLOSE = "```python", "```"
BLOCK = re.compile(r"^```python\n(.*?)\n```$", re.DOTALL | re.MULTILINE)
GOT, EXPECTED = "got:", "expected:"


def block(*lines: str) -> str:
    """A reproducer block from lines of code (each may hold several lines)."""
    code = "\n".join(line.rstrip("\n") for line in lines)
    return f"{OPEN}\n{code}\n{CLOSE}"


def student_import(module: str, *names: str) -> str:
    """The import of graded names from the student's module (the engine drops it for notebooks)."""
    return f"from {module} import {', '.join(names)}"


def show(got: str, expected: str, indent: str = "") -> str:
    """Two print lines: the student's value and the expected one (expressions of the snippet)."""
    return f"{indent}print({GOT + '     '!r}, {got})\n{indent}print({EXPECTED!r}, {expected})"


def blocks(feedback: str) -> list[str]:
    """The code of every reproducer block in a feedback text."""
    return BLOCK.findall(feedback)


def place(feedback: str, module: str, filename: str, notebook: bool) -> str:
    """Say where each block runs, and fit its imports to the submission: a notebook's cells define the
    graded names, so the import of the student's module goes; a ``.py`` keeps it."""
    if OPEN not in feedback:
        return feedback
    if notebook:
        where = ("To see it yourself, paste this into a new cell at the end of your notebook and run it "
                 "(then delete that cell: it is not part of your solution):")
    else:
        where = (f"To see it yourself, save this next to your {filename} (e.g. as repro.py; do not hand it "
                 "in) and run `python repro.py` there:")
    own = re.compile(rf"^from {re.escape(module)} import [^\n]*\n", re.MULTILINE)

    stem = filename[:-3] if filename.endswith(".py") else ""
    # A .py handed in under another name (e.g. alice.py) is imported under that name next to it; one
    # whose name cannot be imported needs a copy named like the module.
    rename = stem.isidentifier() and stem != module and not keyword.iskeyword(stem)
    if not notebook and stem and stem != module and not rename:
        where = where.replace(f"next to your {filename}",
                              f"next to a copy of your {filename} named {module}.py")

    def fit(match: re.Match) -> str:
        if notebook:
            code = own.sub("", match.group(1) + "\n").rstrip("\n")
        elif rename:
            code = own.sub(lambda m: m.group(0).replace(f"from {module} ", f"from {stem} ", 1),
                           match.group(1))
        else:
            code = match.group(1)
        return f"{where}\n{OPEN}\n{code}\n{CLOSE}"

    return BLOCK.sub(fit, feedback)


SAME_CASE = "(The same case as under"
# a case said in one sentence and its first difference (families write "The case: ...")
CASE = re.compile(r"The case: .*?(?=\nTo see it yourself|\n```python|\Z)", re.DOTALL)
# a placed block with the line that says where to run it (``place``)
PLACED = re.compile(r"^To see it yourself[^\n]*\n```python\n(.*?)\n```$", re.DOTALL | re.MULTILINE)


def share_repeated(feedbacks: list[tuple[str, str]]) -> dict[str, str]:
    """One case shown once: for (line id, placed feedback) pairs of one graded name, in rubric order,
    the feedback of each line whose case repeats an earlier line's (the same code, or the same case
    sentence and numbers printed another way), with its block replaced by a pointer to the earlier
    line. Lines without a repeat are left out of the result."""
    seen: dict[str, str] = {}
    out = {}
    for line_id, feedback in feedbacks:
        case = CASE.search(feedback)

        def point(match: re.Match, line_id=line_id, case=case) -> str:
            keys = [match.group(1)] + ([case.group(0)] if case else [])
            first = next((seen[k] for k in keys if k in seen), line_id)
            for k in keys:
                seen.setdefault(k, line_id)
            if first == line_id:
                return match.group(0)
            return f"{SAME_CASE} `{first}`: its code is shown there.)"

        shared = PLACED.sub(point, feedback)
        if shared != feedback:
            out[line_id] = shared
    return out
