"""Generate the mutants of a solution's graded code, deterministically, in two kinds.

The solution notebook is read with the grader's own loader (the same cells the grader grades: no
nbgrader test cells, no ``experiment`` cells, magics dropped). Only the definitions of graded names,
and of module-level helpers they use, are mutated. Every operator proposal is spliced into the text,
re-parsed and kept only when the tree is exactly the intended one. *Mechanical* mutants
(``operators.py``: one token or node each) come first, in source order; *semantic* mutants
(``semantic.py``: a misreading of the contract, several places of one definition at once) follow,
by definition in source order. Each kind is deduplicated on its own (a semantic mutant may have the
text of a mechanical one: it is counted in both tallies). An id such as
``Adam:L231:binop-Sub->Add#1`` names the definition, the line in the graded source, the operator
and the occurrence of that operator on that line; semantic labels start with ``misread-``.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ...grading.loader import Submission, load_submission
from ...grading.rubric import Rubric, load_rubric
from .operators import OPERATORS, Context, Edit, Proposal, Source, stmt_drop
from .semantic import SEMANTIC_OPERATORS

REPO = Path(__file__).resolve().parents[3]
TopDef = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Mutant:
    """One mutant of the solution: ``source`` is the whole graded module with one change."""

    id: str
    definition: str  # the top-level definition that holds the change
    owners: tuple[str, ...]  # the graded names whose behaviour it may change
    label: str
    family: str  # the operator that made it ("stmt-drop", "binop", ...)
    line: int
    where: str  # "cell 5, line 12" in the notebook
    source: str
    kind: str = "mechanical"  # or "semantic" (a misreading of the contract, semantic.py)


@dataclass
class Solution:
    """The graded source of a solution notebook and what the mutation tool needs to know about it."""

    assignment: str
    rubric: Rubric
    submission: Submission
    tree: ast.Module
    graded: dict[str, ast.AST]  # graded name -> its (last) top-level definition
    helpers: dict[str, tuple[str, ...]]  # helper name -> graded names that use it
    refs: dict[str, set[str]] = field(default_factory=dict)  # top-level def -> top-level defs it names
    _definitions: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        return self.submission.source

    def definition_text(self, index: int) -> tuple[str, str]:
        """The source text (from its first decorator) and the tree dump of top-level statement ``index``."""
        if index not in self._definitions:
            node = self.tree.body[index]
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            lines = self.source.splitlines(keepends=True)[first - 1 : node.end_lineno]
            self._definitions[index] = ("".join(lines), _dump(node))
        return self._definitions[index]

    def keep_for(self, owners: tuple[str, ...]) -> set[str]:
        """Graded names a mutant of ``owners`` is graded on: the owners, the graded names they use
        (so the module still imports) and the graded names that use them (to confirm isolation)."""
        graded = set(self.graded)
        keep = set(owners)
        frontier = list(owners)
        while frontier:  # what the owners use
            name = frontier.pop()
            for ref in self.refs.get(name, ()):
                if ref not in keep:
                    keep.add(ref)
                    frontier.append(ref)
        users = {n for n in graded if _reaches(self.refs, n, set(owners))}
        return (keep | users) & graded


def _reaches(refs: dict[str, set[str]], start: str, targets: set[str]) -> bool:
    seen, stack = {start}, [start]
    while stack:
        for ref in refs.get(stack.pop(), ()):
            if ref in targets:
                return True
            if ref not in seen:
                seen.add(ref)
                stack.append(ref)
    return False


def solution_path(assignment: str) -> Path:
    return REPO / "solutions" / assignment / f"{assignment}.ipynb"


def load_solution(assignment: str, path: Path | None = None) -> Solution:
    """Read the solution (notebook or .py) through the grader's loader and index its definitions."""
    rubric = load_rubric(assignment)
    sub = load_submission(path or solution_path(assignment), assignment, rubric.module)
    if sub.load_error or sub.tree is None:
        raise ValueError(f"cannot read the solution of {assignment}: {sub.load_error}")
    tree = sub.tree
    top = {}
    for node in tree.body:
        if isinstance(node, TopDef):
            top[node.name] = node  # the last definition of a name is the one that counts
    refs = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in top and n.id != name}
        for name, node in top.items()
    }
    graded = {name: top[name] for name in rubric.graded_names if name in top}
    helpers: dict[str, tuple[str, ...]] = {}
    for name in top:
        if name in graded:
            continue
        users = tuple(g for g in graded if _reaches(refs, g, {name}))
        if users:
            helpers[name] = users
    return Solution(assignment, rubric, sub, tree, graded, helpers, refs)


# --- walking a definition -------------------------------------------------------------------------

Path_ = tuple[tuple[str, int | None], ...]


def _children(node: ast.AST, path: Path_) -> Iterator[tuple[ast.AST, Path_]]:
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield item, (*path, (name, i))
        elif isinstance(value, ast.AST):
            yield value, (*path, (name, None))


def _skipped_fields(node: ast.AST) -> set[str]:
    """Parts of a node that are never mutated: error messages, annotations, f-strings, decorators
    (a decorator is removed whole by its own operator, never changed inside)."""
    if isinstance(node, ast.Raise):
        return {"exc", "cause"}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {"decorator_list", "returns", "type_params"}
    if isinstance(node, ast.ClassDef):
        return {"decorator_list", "bases", "keywords", "type_params"}
    if isinstance(node, ast.arg):
        return {"annotation"}
    if isinstance(node, ast.AnnAssign):
        return {"annotation"}
    return set()


def _walk(node: ast.AST, path: Path_, ctx: Context) -> Iterator[tuple[ast.AST, Path_, Context]]:
    """Every mutable node of a definition, in source order, with its path and context."""
    if isinstance(node, ast.JoinedStr):
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        ctx = Context(locals=_locals(node))
    yield node, path, ctx
    skipped = _skipped_fields(node)
    for child, child_path in _children(node, path):
        if child_path[-1][0] not in skipped:
            yield from _walk(child, child_path, ctx)


def _locals(fn: ast.AST) -> tuple[tuple[str, int], ...]:
    """Parameters (without self/cls/ctx) and assigned names of a function with the line where each is
    first bound, ordered by that line."""
    first: dict[str, int] = {}
    args = fn.args
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if a.arg not in ("self", "cls", "ctx"):
            first.setdefault(a.arg, fn.lineno)
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    stores = [
        n for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]
    for n in sorted(stores, key=lambda n: (n.lineno, n.col_offset)):
        first.setdefault(n.id, n.lineno)
    return tuple(sorted(first.items(), key=lambda item: item[1]))


def _node_at(tree: ast.AST, path: Path_) -> ast.AST:
    node = tree
    for name, index in path:
        node = getattr(node, name) if index is None else getattr(node, name)[index]
    return node


def expected_definition(definition_text: str, path: Path_, proposal: Proposal) -> ast.AST:
    """A fresh tree of the top-level definition (its source text, at ``path[0]``) with the proposal
    applied to the node at ``path``: what the spliced text must parse to. (Parsing the text again is
    much faster than a deep copy of the tree.)"""
    out = ast.parse(definition_text).body[0]
    inner = path[1:]
    if not inner:
        replacement = proposal.expected(out)
        if not isinstance(replacement, ast.AST):
            raise ValueError("a top-level definition can only be changed, not removed")
        return replacement
    parent = _node_at(out, inner[:-1])
    name, index = inner[-1]
    node = getattr(parent, name) if index is None else getattr(parent, name)[index]
    replacement = proposal.expected(node)
    if index is None:
        setattr(parent, name, replacement)
    else:
        slot = getattr(parent, name)
        if replacement is None:
            del slot[index]
        elif isinstance(replacement, list):
            slot[index : index + 1] = replacement
        else:
            slot[index] = replacement
    return out


def splice(text: str, edits: tuple[Edit, ...], use_alt: bool = False) -> str:
    """Apply non-overlapping edits to ``text`` (from the last to the first; of a removal and an
    insertion at the same offset, the removal first, so the inserted text stays)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end), reverse=True)
    for later, earlier in zip(ordered, ordered[1:], strict=False):
        if earlier.end > later.start:
            raise ValueError("overlapping edits")
    for e in ordered:
        replacement = e.alt if use_alt and e.alt is not None else e.text
        text = text[: e.start] + replacement + text[e.end :]
    return text


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=False)


@dataclass
class Generated:
    mutants: list[Mutant]
    rejected: list[str]  # proposals whose splice did not give the intended tree (a bug to report)
    duplicates: int  # proposals identical to an earlier mutant (or to the solution)


def generate(solution: Solution, kinds: tuple[str, ...] = ("mechanical", "semantic")) -> Generated:
    """Every mutant of the solution's graded definitions and helpers: the mechanical ones in source
    order, then the semantic ones (each kind only if asked for; ids do not depend on the choice)."""
    src = Source(solution.source)
    counts: dict[tuple[str, int, str], int] = {}
    out = Generated([], [], 0)
    targets = [(name, node, (name,)) for name, node in solution.graded.items()]
    targets += [(name, _top(solution, name), users) for name, users in solution.helpers.items()]
    targets.sort(key=lambda t: t[1].lineno)
    if "mechanical" in kinds:
        seen = {solution.source}
        for name, node, owners in targets:
            root = (("body", solution.tree.body.index(node)),)
            for sub, path, ctx in _walk(node, root, Context()):
                for operator in OPERATORS:
                    if path == root and operator is stmt_drop:
                        continue  # dropping the whole definition only makes the name missing
                    for proposal in operator(sub, src, ctx):
                        target = (name, owners, path)
                        _add(solution, src, out, seen, counts, target, operator, proposal, "mechanical")
    if "semantic" in kinds:
        seen = {solution.source}
        for name, node, owners in targets:
            root = (("body", solution.tree.body.index(node)),)
            for operator in SEMANTIC_OPERATORS:
                for proposal in operator(node, src):
                    target = (name, owners, root)
                    _add(solution, src, out, seen, counts, target, operator, proposal, "semantic")
    return out


def _add(solution, src, out: Generated, seen: set[str], counts, target, operator, proposal, kind) -> None:
    """Number one proposal, splice and check it, and keep it unless its text is already known."""
    name, owners, path = target
    key = (name, proposal.line, proposal.label)
    counts[key] = counts.get(key, 0) + 1
    mutant_id = f"{name}:L{proposal.line}:{proposal.label}#{counts[key]}"
    text = _validated(solution, src, path, proposal)
    if text is None:
        out.rejected.append(mutant_id)
        return
    if text in seen:
        out.duplicates += 1
        return
    seen.add(text)
    family = operator.__name__.replace("_", "-")
    where = solution.submission.where(proposal.line)
    out.mutants.append(
        Mutant(mutant_id, name, owners, proposal.label, family, proposal.line, where, text, kind)
    )


def _top(solution: Solution, name: str) -> ast.AST:
    return [n for n in solution.tree.body if isinstance(n, TopDef) and n.name == name][-1]


def _validated(solution: Solution, src: Source, path: Path_, proposal: Proposal) -> str | None:
    """The mutant's text if the splice parses to exactly the intended tree, else None. The edits lie
    inside one top-level definition, so the module must keep its statement count (plus the
    proposal's prelude, right before the definition) and only that definition may change, into
    exactly the expected tree."""
    index = path[0][1]
    text, original = solution.definition_text(index)
    want = _dump(expected_definition(text, path, proposal))
    prelude = [_dump(s) for s in ast.parse(proposal.prelude).body]
    if want == original and not prelude:
        return solution.source  # a no-op (counted as a duplicate of the solution)
    n = len(prelude)
    for use_alt in (False, True):
        try:
            text = splice(src.text, proposal.edits, use_alt)
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        if (
            len(tree.body) == len(solution.tree.body) + n
            and [_dump(s) for s in tree.body[index : index + n]] == prelude
            and _dump(tree.body[index + n]) == want
        ):
            return text
    return None


# --- what the grader gets -------------------------------------------------------------------------


def focused_source(solution: Solution, text: str, keep: set[str]) -> str:
    """``text`` without the top-level definitions of graded names outside ``keep``: the grader then
    skips their rubric lines (status ``missing``) instead of spending time on unchanged code."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    drop = []
    for node in tree.body:
        if isinstance(node, TopDef) and node.name in solution.graded and node.name not in keep:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            drop.append((first, node.end_lineno))
    for first, last in sorted(drop, reverse=True):
        del lines[first - 1 : last]
    return "".join(lines)


def unified_diff(solution: Solution, mutant: Mutant, context: int = 2) -> str:
    """The mutant against the solution, as a unified diff of the graded source."""
    name = f"{solution.assignment}.ipynb (graded cells)"
    return "".join(
        difflib.unified_diff(
            solution.source.splitlines(keepends=True),
            mutant.source.splitlines(keepends=True),
            fromfile=f"solution: {name}",
            tofile=f"mutant {mutant.id}",
            n=context,
        )
    )
