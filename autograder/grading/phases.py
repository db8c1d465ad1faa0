"""How one student's rubric lines are spread over workers, and what a module load tells the student.

Visible lines run first, in workers grouped by recipe (``families/recipes.py``: the graded names whose
workers switch off the same torch implementations and get the same stand-ins share one); then each
hidden line in a fresh worker of its own, so nothing a hidden input teaches the student's code can
surface in another line's feedback. Every worker loads the student's module itself, one top-level
statement at a time (``kitworker.serve.run_module``): a statement that raises costs only the names it
was to define, and the student is told which statement it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..families.recipes import Recipe, recipe_of
from ..policy import effective_bindings
from ..sandbox import guards, standins
from ..sandbox.runner import Zygote
from ..sandbox.session import WorkerSession
from ..sandbox.worker.guards import MARK
from .loader import Submission
from .rubric import RubricLine


@dataclass(frozen=True)
class Phase:
    """A group of rubric lines graded in one worker prepared by ``recipe``."""

    recipe: Recipe
    lines: tuple[RubricLine, ...]


def phases(lines: list[RubricLine]) -> list[Phase]:
    """The visible lines grouped by their graded name's recipe (in rubric order of first appearance),
    then each hidden line alone."""
    groups: dict[Recipe, list[RubricLine]] = {}
    for line in lines:
        if line.visibility != "hidden":
            groups.setdefault(recipe_of(line.name), []).append(line)
    out = [Phase(recipe, tuple(group)) for recipe, group in groups.items()]
    out += [Phase(recipe_of(line.name), (line,)) for line in lines if line.visibility == "hidden"]
    return out


def session_for(phase: Phase, sub: Submission, zygote: Zygote, limits,
                deadline: float | None) -> WorkerSession:
    """A worker session prepared for ``phase``'s recipe (nothing starts until its first load)."""
    recipe = phase.recipe
    return WorkerSession(
        zygote, sub.source, sub.filename, sub.module, limits,
        disabled={family: guards.GUARDS[family].label for family in recipe.disabled},
        standins=standins.sources(recipe.standins),
        masks=guards.masked_files(recipe.disabled),
        deadline=deadline,
    )


def _exception_line(failure: dict) -> str:
    message = str(failure.get("message", ""))
    return f"{failure.get('type', 'Error')}: {message}".rstrip(": ")


def load_note(sub: Submission, failure: dict) -> str:
    """A module-level statement that raised, in words the student can act on."""
    line = failure.get("line") if isinstance(failure.get("line"), int) else 0
    where = sub.where(line)
    code = sub.quote(line)
    message = str(failure.get("message", ""))
    if message.startswith(MARK):
        what = message[len(MARK):].split(" is torch's own implementation", 1)[0].strip()
        return (f"{where}: `{code}` did not run while your code was graded: it calls {what}, torch's own "
                "implementation of a graded part, which the grader switches off then (this costs no points "
                "unless a graded name needs that line)")
    return (f"{where}: module-level code raised {_exception_line(failure)} (`{code}`); the rest of your "
            "module still ran, so only what this statement was to define is missing")


def missing_message(sub: Submission, name: str, failures: list[dict]) -> str:
    """Why ``name`` is not defined once the module ran: the statement meant to define it raised, or it is
    not in the submission at all."""
    stmts = effective_bindings(sub.tree).get(name, []) if sub.tree is not None else []
    spans = [(s.lineno, s.end_lineno or s.lineno) for s in stmts]
    for failure in failures:
        line = failure.get("line")
        if isinstance(line, int) and any(a <= line <= b for a, b in spans):
            return (f"`{name}` is not defined: the statement that defines it raised "
                    f"{_exception_line(failure)} ({sub.where(line)})")
    if failures:
        return (f"`{name}` is not defined once your module has run ({len(failures)} module-level "
                "statement(s) raised, listed at the top)")
    return f"`{name}` is not defined in your submission"
