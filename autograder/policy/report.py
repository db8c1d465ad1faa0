"""What the policy found in one file (``PolicyReport``), and how a dotted name is judged against the
tables: delegation to torch's own implementation, or a policy violation. Both are static evidence:
they make a graded name ``review`` (0 points until a TA has read the lines and granted them), never
``forbidden``, which only the runtime's evidence decides."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field

from .tables import (
    ALLOWED_DUNDERS,
    ALLOWED_IMPORTS,
    ALLOWED_IN_BANNED,
    ALLOWED_PRIVATE,
    ALLOWED_SCHEDULERS,
    BANNED_MODULES,
    BANNED_NAMESPACES,
    DELEGATION,
    DELEGATION_SCHEDULERS,
    KIT_PACKAGES,
)


@dataclass(frozen=True)
class Violation:
    """One policy violation: where (1-based line), what, the code of that line, and the definition it
    sits in (``None``: module-level code, which runs on import); ``key`` tells apart two definitions
    of one name (the statement's identity while the file is checked)."""

    line: int
    what: str
    code: str
    owner: str | None
    key: int = field(default=0, compare=False, hash=False)


@dataclass
class PolicyReport:
    """What the policy found in one source file."""

    delegation: dict[str, str] = field(default_factory=dict)  # top-level name -> why (static evidence)
    violations: list[Violation] = field(default_factory=list)
    uses: dict[str, set[str]] = field(default_factory=dict)  # module-level name -> names its bindings use
    keys: dict[str, set[int]] = field(default_factory=dict)  # module-level name -> its binding statements
    source: str = ""  # the source the report is about
    definitions: list[str] = field(default_factory=list)  # top-level def and class names, in order
    aliases: dict[str, str] = field(default_factory=dict)  # imported name -> dotted name

    def delegation_reason(self, name: str) -> str | None:
        return self.delegation.get(name)

    def reachable(self, name: str) -> list[str]:
        """``name`` and every top-level definition it uses, directly or through others (sorted)."""
        seen, todo = {name}, [name]
        while todo:
            for ref in self.uses.get(todo.pop(), ()):
                if ref not in seen and ref in self.uses:
                    seen.add(ref)
                    todo.append(ref)
        return sorted(seen)

    def violations_of(self, name: str) -> list[Violation]:
        """The violations that concern graded name ``name``: module-level code (it runs on import), and
        the definitions ``name`` is bound to or reaches (an earlier definition it shadows does not)."""
        mine = {key for ref in self.reachable(name) for key in self.keys.get(ref, ())}
        return [v for v in self.violations if v.owner is None or v.key in mine]

    def review_digest(self, name: str) -> str:
        """The sha256 a TA's grant of ``name`` must quote: of the whole graded source. What a flagged
        line obtains can flow anywhere (a global, a helper the line does not name), so any change to
        the submission needs a new grant; a regrade of the same submission keeps it."""
        return hashlib.sha256(f"{name}\n{self.source}".encode()).hexdigest()


def matches(pattern: str, path: str) -> bool:
    """``pattern`` matches ``path`` or a parent of it, segment by segment."""
    pat, parts = pattern.split("."), path.split(".")
    return len(parts) >= len(pat) and all(fnmatch.fnmatchcase(s, p) for s, p in zip(parts, pat, strict=False))


def matches_any(patterns, path: str) -> bool:
    return any(matches(p, path) for p in patterns)


def is_delegation(path: str) -> bool:
    """Whether the dotted name ``path`` is (or is inside) one of torch's own implementations."""
    parts = path.split(".")
    if parts[0] in KIT_PACKAGES:
        return True
    sched = DELEGATION_SCHEDULERS.split(".")
    if parts[: len(sched)] == sched and len(parts) > len(sched):
        return parts[len(sched)] not in ALLOWED_SCHEDULERS
    return matches_any(DELEGATION, path)


def path_problem(path: str) -> str | None:
    """Why the dotted name ``path`` (resolved through the file's imports) breaks the policy, or None."""
    parts = path.split(".")
    if parts[0] in KIT_PACKAGES:
        return None  # delegation, judged by ``is_delegation``
    if not import_allowed(path) and not any(a.startswith(path + ".") for a in ALLOWED_IMPORTS):
        return f"uses `{path}` (not among the modules a submission may import)"
    for i, seg in enumerate(parts[1:], start=1):
        if seg in BANNED_MODULES:
            return f"reaches module `{seg}` through `{'.'.join(parts[:i])}`"
    if matches_any(ALLOWED_IN_BANNED, path):
        return None
    for pattern in BANNED_NAMESPACES:
        if matches(pattern, path):
            return f"uses `{pattern}` (code loading, evaluation, the dispatcher or global state)"
    for i, seg in enumerate(parts[1:], start=1):
        prefix = ".".join(parts[: i + 1])
        if seg.startswith("__") and seg.endswith("__"):
            if seg not in ALLOWED_DUNDERS:
                return f"uses `{prefix}` (introspection)"
        elif seg.startswith("_") and not matches_any(ALLOWED_PRIVATE, prefix):
            return f"uses the private `{prefix}`"
    return None


def import_allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED_IMPORTS)


# At most this many violations are quoted per graded name, then a count: a file of thousands of
# violations costs its record and page a few lines, not megabytes.
QUOTED_VIOLATIONS = 12


def verdicts(report: PolicyReport, names) -> dict[str, tuple[str, str, list[Violation]]]:
    """Per graded name with a finding: ("review", reason, violations) as the grader decides them. Static
    evidence never convicts: delegation and policy violations alike are for a TA to read."""
    out = {}
    for name in names:
        reason = report.delegation_reason(name)
        found = report.violations_of(name)
        if reason:
            out[name] = ("review", reason, found)
        elif found:
            out[name] = ("review", "breaks the submission policy", found)
    return out
