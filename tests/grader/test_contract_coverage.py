"""Contract coverage: every clause of each released notebook's contract is checked by a rubric line.

``autograder/grading/rubric/contracts/<assignment>.toml`` maps each clause of the notebook's contract
(the bullets under "**Contract of ...**") to the rubric lines that check it, says what their search
explores for that clause, and names known bugs (``tests/submissions/known_wrong.py``) that violate it.
This test fails when a contract bullet has no entry, an entry has no line or quotes text the notebook
does not say, a line checks no clause, or a clause's witness bug does not lose one of its lines (a check
that cannot fail)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import tomllib

from autograder.grading.rubric import RUBRIC_DIR, assignment_ids, load_rubric
from tests.submissions.known_wrong import KNOWN_WRONG

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = RUBRIC_DIR / "contracts"
HEADER = re.compile(r"\*\*Contract (?:of|shared by).*?\*\*:?")
BULLET = re.compile(r"^(?:\* |\d+\. )")


def _normal(text: str) -> str:
    return " ".join(text.split())


def _section_clauses(section: str) -> list[str]:
    """The bullets of one contract section (each with its indented continuation lines); the text before
    the first bullet introduces them, a paragraph after the list ends it (a note, not a clause). A
    section without bullets is one clause."""
    bullets: list[list[str]] = []
    intro: list[str] = []
    blank = False
    for line in section.split("\n"):
        if line.startswith("#"):
            break
        if BULLET.match(line):
            bullets.append([BULLET.sub("", line).strip()])
        elif not line.strip():
            blank = True
            continue
        elif bullets and blank and not line.startswith(" "):
            break  # a paragraph after the list
        elif bullets:
            bullets[-1].append(line.strip())
        else:
            intro.append(line.strip())
        blank = False
    chunks = [" ".join(b) for b in bullets] or [" ".join(intro)]
    return [_normal(c) for c in chunks if c.strip()]


def contract_bullets(assignment: str) -> list[str]:
    """Every clause under a "**Contract ...**" header of the released notebook (``_section_clauses``)."""
    nb = nbformat.read(ROOT / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in HEADER.finditer(cell.source):
            rest = cell.source[match.end():]
            nxt = HEADER.search(rest)
            out += _section_clauses(rest[: nxt.start()] if nxt else rest)
    return out


def table(assignment: str) -> list[dict]:
    data = tomllib.loads((CONTRACTS / f"{assignment}.toml").read_text(encoding="utf-8"))
    assert data["assignment"] == assignment
    return data["clause"]


ASSIGNMENTS = assignment_ids()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_contract_bullet_has_a_clause(assignment):
    quotes = [_normal(c["quote"]) for c in table(assignment)]
    bullets = contract_bullets(assignment)
    assert bullets, f"{assignment}: no contract found in the released notebook"
    uncovered = [b for b in bullets if not any(q in b for q in quotes)]
    assert not uncovered, f"{assignment}: contract bullets no clause quotes: {uncovered}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_clause_quotes_the_notebook_and_is_checked(assignment):
    rubric = load_rubric(assignment)
    ids = {line.id for line in rubric.lines}
    text = _normal(" ".join(contract_bullets(assignment)))
    wrong = {w.name: w for w in KNOWN_WRONG if w.assignment == assignment}
    problems = []
    for clause in table(assignment):
        cid = clause["id"]
        if _normal(clause["quote"]) not in text:
            problems.append(f"{cid}: the quote is not in the notebook's contract")
        if not clause.get("lines") or set(clause["lines"]) - ids:
            problems.append(f"{cid}: lines {clause.get('lines')} (each must be a rubric line)")
        if not clause.get("explores", "").strip():
            problems.append(f"{cid}: says nothing about what the checks explore")
        witnesses = clause.get("witnesses", [])
        if not witnesses:
            problems.append(f"{cid}: no known bug violates it (a check that cannot fail?)")
        for name in witnesses:
            if name not in wrong:
                problems.append(f"{cid}: witness {name} is not in KNOWN_WRONG")
            elif not set(wrong[name].fails) & set(clause["lines"]):
                problems.append(f"{cid}: witness {name} loses none of the clause's lines")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_rubric_line_checks_a_clause(assignment):
    covered = {line for clause in table(assignment) for line in clause["lines"]}
    idle = [line.id for line in load_rubric(assignment).lines if line.id not in covered]
    assert not idle, f"{assignment}: rubric lines that check no clause of the contract: {idle}"
