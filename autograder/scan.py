"""Static scan of a submission's syntax tree.

Two findings:
- *forbidden*: a top-level definition that delegates the graded computation to torch's own
  implementation (``torch.optim.Adam``, ``F.batch_norm``, ...) or imports the kit. Names are resolved
  through the file's imports (``import torch.nn.functional as F``), and a definition that uses a
  forbidden helper of the same file is forbidden too (transitively).
- *review*: dynamic tricks a static scan cannot resolve (``importlib``, ``__import__``, ``getattr``
  with a computed name, ``exec``/``eval``, ``sys.modules``): flagged for a TA, with the lines quoted.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

_OPTIMIZERS = (
    "SGD",
    "Adam",
    "AdamW",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "LBFGS",
    "Rprop",
    "SparseAdam",
    "Adafactor",
    "Muon",
)
# Dotted prefixes; a use of any name starting with one of these (after alias resolution) is forbidden.
FORBIDDEN_PREFIXES: tuple[str, ...] = (
    *(f"torch.optim.{name}" for name in _OPTIMIZERS),
    "torch.optim._functional",
    "torch.optim.sgd",
    "torch.optim.adam",
    "torch.optim.adamw",
    "torch.optim.adagrad",
    "torch.optim.rmsprop",
    "torch.optim._multi_tensor",
    "torch.nn.functional.batch_norm",
    "torch.nn.functional.instance_norm",
    "torch.batch_norm",
    "torch.native_batch_norm",
    "torch._native_batch_norm_legit",
    "torch.instance_norm",
    "torch.nn.functional.dropout",
    "torch.nn.functional.alpha_dropout",
    "torch.nn.functional.feature_alpha_dropout",
    "torch.dropout",
    "torch.native_dropout",
    "torch.alpha_dropout",
    "torch.feature_dropout",
    "torch.nn.BatchNorm",
    "torch.nn.SyncBatchNorm",
    "torch.nn.LazyBatchNorm",
    "torch.nn.Dropout",
    "torch.nn.modules.batchnorm",
    "torch.nn.modules.dropout",
    "torch.nn.InstanceNorm",
    "torch.ops.aten.batch_norm",
    "torch.ops.aten.native_batch_norm",
    "torch.ops.aten._native_batch_norm",
    "torch.ops.aten.dropout",
    "torch.ops.aten.native_dropout",
    "torch.ops.aten._fused",
    "torch._VF",
    "torch._C._nn",
    "reference",
    "autograder",
    "kitworker",
)
_LR_SCHEDULER = "torch.optim.lr_scheduler."
_ALLOWED_SCHEDULER = {"LRScheduler", "_LRScheduler"}
_DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__", "reload", "globals", "vars", "setattr", "delattr"}


@dataclass
class ScanResult:
    """``forbidden`` maps a top-level name (or ``*`` for the whole module) to the reason."""

    forbidden: dict[str, str] = field(default_factory=dict)
    review: list[tuple[int, str, str]] = field(default_factory=list)  # (line, what, code)

    def forbidden_reason(self, name: str) -> str | None:
        return self.forbidden.get(name) or self.forbidden.get("*")


def _forbidden_path(path: str) -> bool:
    if path.startswith(_LR_SCHEDULER):
        return path[len(_LR_SCHEDULER) :].split(".")[0] not in _ALLOWED_SCHEDULER
    return any(
        path == p
        or path.startswith(p + ".")
        or (path.startswith(p) and p[-1] not in "._" and path[len(p) : len(p) + 1].isalnum())
        for p in FORBIDDEN_PREFIXES
    )


class _Resolver(ast.NodeVisitor):
    """Collects import aliases of the whole file (imports inside functions count too)."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                root = a.name.split(".")[0]
                self.aliases[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative import: a student module has no package
            return
        for a in node.names:
            self.aliases[a.asname or a.name] = (
                f"{node.module}.{a.name}" if a.name != "*" else f"{node.module}.*"
            )


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _uses(node: ast.AST, aliases: dict[str, str]) -> tuple[set[str], set[str]]:
    """(forbidden dotted names used, plain names referenced) inside ``node``."""
    bad, names = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Attribute, ast.Name)):
            path = _dotted(sub, aliases)
            if path and _forbidden_path(path):
                bad.add(path)
            if isinstance(sub, ast.Name):
                names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for a in sub.names:
                full = a.name if isinstance(sub, ast.Import) else f"{sub.module}.{a.name}"
                if sub.__class__ is ast.ImportFrom and sub.level:
                    continue
                if _forbidden_path(full) or (
                    isinstance(sub, ast.ImportFrom) and _forbidden_path(sub.module or "")
                ):
                    bad.add(full)
    # attribute chains are visited part by part; keep only the longest names
    return {b for b in bad if not any(o != b and o.startswith(b + ".") for o in bad)}, names


def _top_level_defs(tree: ast.Module) -> dict[str, ast.AST]:
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    defs[t.id] = node
    return defs


def _review(tree: ast.Module, aliases: dict[str, str], lines: list[str]) -> list[tuple[int, str, str]]:
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] in ("importlib", "ctypes", "builtins") for m in mods):
                what = f"imports {', '.join(mods)}"
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else None
            if name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                what = "getattr with a computed name"
            elif name in _DYNAMIC_CALLS:
                what = f"calls {name}()"
        elif isinstance(node, ast.Attribute):
            path = _dotted(node, aliases)
            if path in ("sys.modules", "importlib.import_module", "builtins.__import__"):
                what = f"uses {path}"
        if what:
            line = getattr(node, "lineno", 0)
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            found.append((line, what, code))
    return sorted(set(found))


def scan_source(tree: ast.Module, source: str) -> ScanResult:
    """Scan a parsed submission; see the module docstring."""
    resolver = _Resolver()
    resolver.visit(tree)
    aliases = resolver.aliases
    result = ScanResult(review=_review(tree, aliases, source.split("\n")))

    # Module-level statements that are not definitions: a forbidden use there taints everything only
    # when it imports the kit; a forbidden import merely binds an alias, judged where it is used.
    defs = _top_level_defs(tree)
    direct: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    for name, node in defs.items():
        direct[name], refs[name] = _uses(node, aliases)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bad, _ = _uses(node, aliases)
            kit = sorted(b for b in bad if b.split(".")[0] in ("reference", "autograder", "kitworker"))
            if kit:
                result.forbidden["*"] = f"imports the grading kit ({kit[0]})"
    # Forbidden aliases bound at module level (``from torch.optim import Adam as A``) count where used.
    bad_aliases = {alias for alias, path in aliases.items() if _forbidden_path(path)}
    for name in defs:
        direct[name] |= {aliases[a] for a in refs[name] & bad_aliases}
    # Propagate through helpers defined in the same file, until nothing changes.
    reason = {n: sorted(b)[0] for n, b in direct.items() if b}
    changed = True
    while changed:
        changed = False
        for name in defs:
            if name in reason:
                continue
            via = sorted(r for r in refs[name] if r in reason and r != name)
            if via:
                reason[name] = f"{reason[via[0]]} (through {via[0]})"
                changed = True
    for name, why in reason.items():
        result.forbidden[name] = f"uses {why}: implement the computation yourself"
    return result
