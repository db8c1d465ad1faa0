"""The syntax-tree walk of the policy: one visitor, one method per node kind, that records policy
violations (with the top-level definition they sit in), delegation and the names each top-level
definition uses; ``check_source`` turns that into a ``PolicyReport``."""

from __future__ import annotations

import ast

from .report import PolicyReport, Violation, import_allowed, is_delegation, matches, matches_any, path_problem
from .tables import (
    ALLOWED_DUNDERS,
    ASSIGNABLE,
    BANNED_ATTRIBUTES,
    BANNED_BUILTINS,
    BANNED_MODULES,
    DYNAMIC_ATTRIBUTE_BUILTINS,
    KIT_PACKAGES,
)

# --- scopes ------------------------------------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _bound_here(node: ast.AST) -> set[str]:
    """Names bound in the scope that ``node`` opens (parameters, assignments, imports, nested defs),
    without descending into nested scopes; ``global``/``nonlocal`` names are not local."""
    bound: set[str] = set()
    declared: set[str] = set()
    args = getattr(node, "args", None)
    if isinstance(args, ast.arguments):
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                bound.add(a.arg)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        for gen in node.generators:
            bound |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        return bound
    body = node.body if isinstance(node.body, list) else [node.body]
    todo = list(body)
    while todo:
        sub = todo.pop()
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared |= set(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(sub.name)
            todo.extend(sub.decorator_list)
            continue
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            bound.add(sub.name)
        elif isinstance(sub, (ast.MatchAs, ast.MatchStar)) and sub.name:
            bound.add(sub.name)
        if isinstance(sub, _SCOPES) and sub is not node:
            continue
        todo.extend(ast.iter_child_nodes(sub))
    return bound - declared


class _Aliases(ast.NodeVisitor):
    """Import aliases of the whole file (imports inside functions count too): local name -> dotted."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for a in node.names:
            if a.name != "*":
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name ``node`` denotes when its root is an imported name (``F.dropout`` ->
    ``torch.nn.functional.dropout``); ``getattr(x, "const")`` counts as ``x.const``."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and _const_str(node.args[1]) is not None):
            parts.append(_const_str(node.args[1]))
            node = node.args[0]
        else:
            break
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


# --- the visitor ---------------------------------------------------------------------------------------

class PolicyVisitor(ast.NodeVisitor):
    """One pass over the tree: policy violations (with their owner), delegation uses and global names
    referenced per top-level definition. One method per node kind."""

    def __init__(self, aliases: dict[str, str], lines: list[str]) -> None:
        self.aliases = aliases
        self.lines = lines
        self.owner: str | None = None  # the top-level definition being visited
        self.scopes: list[set[str]] = []  # names bound in the enclosing function-like scopes
        self.violations: list[Violation] = []
        self.delegates: dict[str | None, set[str]] = {}  # owner -> delegation paths it names
        self.refs: dict[str | None, set[str]] = {}  # owner -> global names it loads
        self.called: set[int] = set()  # ids of Name nodes that are the function of a call

    # helpers
    def flag(self, node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.violations.append(Violation(line, what, code, self.owner))

    def local(self, name: str) -> bool:
        return any(name in s for s in self.scopes)

    def check_path(self, node: ast.AST, path: str) -> None:
        if is_delegation(path):
            self.delegates.setdefault(self.owner, set()).add(path)
        problem = path_problem(path)
        if problem:
            self.flag(node, problem)

    def visit_all(self, nodes) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    # scopes: what a function header evaluates runs in the enclosing scope, the body in its own
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        args = node.args
        self.visit_all([*node.decorator_list, *args.defaults, *args.kw_defaults, node.returns])
        self.visit_all(a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                              args.vararg, args.kwarg) if a is not None)
        self.scopes.append(_bound_here(node))
        self.visit_all(node.body)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit_all([*node.args.defaults, *node.args.kw_defaults])
        self.scopes.append(_bound_here(node))
        self.visit(node.body)
        self.scopes.pop()

    def visit_comprehension_scope(self, node) -> None:
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        self.scopes.append(_bound_here(node))
        for i, gen in enumerate(node.generators):
            self.visit(gen.target)
            if i:
                self.visit(gen.iter)
            self.visit_all(gen.ifs)
        self.visit_all([getattr(node, "elt", None), getattr(node, "key", None), getattr(node, "value", None)])
        self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_scope

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.check_import(node, a.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.flag(node, "relative import (a submission is a single module)")
            return
        module = node.module or ""
        if not self.check_import(node, module):
            return
        for a in node.names:
            if a.name == "*":
                self.flag(node, f"`from {module} import *` (import the names you use explicitly)")
            else:
                self.check_path(node, f"{module}.{a.name}")

    def check_import(self, node: ast.AST, module: str) -> bool:
        if module.split(".")[0] in KIT_PACKAGES:
            self.delegates.setdefault(None, set()).add(module)
            return False
        if not import_allowed(module):
            self.flag(node, f"imports `{module}` (not among the modules a submission may import)")
            return False
        self.check_path(node, module)
        return True

    # names and attributes
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if not isinstance(node.ctx, ast.Load) or self.local(name):
            return
        self.refs.setdefault(self.owner, set()).add(name)
        if name in BANNED_BUILTINS:
            self.flag(node, f"uses `{name}` (dynamic code or the outside world)")
        elif name in DYNAMIC_ATTRIBUTE_BUILTINS and id(node) not in self.called:
            self.flag(node, f"passes `{name}` around (attribute access by computed name)")
        elif name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `{name}` (introspection)")
        if name in self.aliases:
            self.check_path(node, self.aliases[name])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `.{attr}` (introspection)")
        elif attr in BANNED_ATTRIBUTES or attr.startswith(("gi_", "cr_", "ag_", "tb_")):
            self.flag(node, f"uses `.{attr}` (frames, code objects or closures)")
        elif attr in BANNED_MODULES:
            self.flag(node, f"reaches module `{attr}` as an attribute")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.check_assignment(node)
            self.generic_visit(node)
            return
        path = dotted(node, self.aliases)
        if path is None or self.local(path.split(".")[0]):
            self.generic_visit(node)
            return
        self.check_path(node, path)  # the longest chain, judged once: its prefixes are not judged again
        self.visit_chain_rest(node)

    def visit_chain_rest(self, node: ast.AST) -> None:
        """Visit the parts of a resolved attribute chain that are not the chain itself."""
        while True:
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                self.visit_all(node.args[2:])
                node = node.args[0]
            else:
                break
        if isinstance(node, ast.Name):
            self.refs.setdefault(self.owner, set()).add(node.id)

    def check_assignment(self, target: ast.Attribute) -> None:
        """Assigning or deleting an attribute of an imported module or class is monkeypatching."""
        base = dotted(target.value, self.aliases)
        if base is not None and not self.local(base.split(".")[0]) \
                and not matches_any(ASSIGNABLE, f"{base}.{target.attr}"):
            self.flag(target, f"changes `{base}.{target.attr}` (monkeypatching an imported module or class)")

    # calls
    def visit_Call(self, node: ast.Call) -> None:
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id in DYNAMIC_ATTRIBUTE_BUILTINS and not self.local(fn.id):
            self.called.add(id(fn))
            name = _const_str(node.args[1]) if len(node.args) > 1 else None
            if name is None:
                self.flag(node, f"`{fn.id}` with a computed attribute name")
            else:
                self.check_constant_attribute(node, fn.id, name)
                if fn.id == "getattr":
                    path = dotted(node, self.aliases)
                    if path is not None and not self.local(path.split(".")[0]):
                        self.check_path(node, path)
        self.generic_visit(node)

    def check_constant_attribute(self, node: ast.Call, fn: str, name: str) -> None:
        """``getattr(x, "name")`` and friends are judged like ``x.name``."""
        if name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `{name}` (introspection)")
        elif name in BANNED_ATTRIBUTES or name in BANNED_MODULES:
            self.flag(node, f"uses `{name}` (frames, code objects or modules)")
        if fn in ("setattr", "delattr") and node.args:
            self.check_assignment(ast.Attribute(value=node.args[0], attr=name, ctx=ast.Store(),
                                                lineno=node.lineno))

    # top level
    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            self.owner = owner_of(stmt)
            self.visit(stmt)
        self.owner = None


def owner_of(stmt: ast.stmt) -> str | None:
    """The top-level definition a module-level statement belongs to: a def or class, or an attribute
    assignment on one (``SGD.step = ...``); None for everything else (module-level code)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    return None


# --- top-level bindings and delegation ---------------------------------------------------------------

def top_level_bindings(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Every module-level statement (also inside module-level if/for/try/with blocks) that binds a
    name, per name; for ``X.attr = ...`` / ``setattr(X, "attr", ...)`` the statement counts for X."""
    found: dict[str, list[ast.AST]] = {}

    def add(name: str, stmt: ast.AST) -> None:
        found.setdefault(name, []).append(stmt)

    def walk(stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                add(stmt.name, stmt)
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for a in stmt.names:
                    if a.name != "*":
                        add((a.asname or a.name).split(".")[0], stmt)
                continue
            for sub in _walk_no_scopes(stmt):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    add(sub.id, stmt)
                elif isinstance(sub, ast.Attribute) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    root = sub.value
                    while isinstance(root, (ast.Attribute, ast.Subscript)):
                        root = root.value
                    if isinstance(root, ast.Name):
                        add(root.id, stmt)
                elif isinstance(sub, ast.Subscript) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    root = sub.value
                    while isinstance(root, (ast.Attribute, ast.Subscript)):
                        root = root.value
                    if isinstance(root, ast.Name):
                        add(root.id, stmt)
                elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
                      and sub.func.id in ("setattr", "delattr") and sub.args
                      and isinstance(sub.args[0], ast.Name)):
                    add(sub.args[0].id, stmt)
            for block in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(stmt, block, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], (ast.stmt, ast.ExceptHandler)):
                    walk([s for h in inner for s in (h.body if isinstance(h, ast.ExceptHandler) else [h])])
            for case in getattr(stmt, "cases", []) or []:
                walk(case.body)

    walk(tree.body)
    return found


def _walk_no_scopes(node: ast.AST):
    """``ast.walk`` that does not enter function, lambda or class bodies, nor nested statement blocks
    of compound statements (those are walked as statements of their own)."""
    todo = [node]
    while todo:
        sub = todo.pop()
        yield sub
        for child in ast.iter_child_nodes(sub):
            if isinstance(child, _SCOPES) or (isinstance(child, ast.stmt) and sub is node
                                                and not isinstance(node, (ast.Expr, ast.Assign))):
                continue
            todo.append(child)


def _global_writers(tree: ast.Module) -> dict[str, set[str]]:
    """Top-level functions that rebind a module-level name through ``global``: name -> their names."""
    out: dict[str, set[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Global):
                    for name in sub.names:
                        out.setdefault(name, set()).add(stmt.name)
    return out


def check_source(source: str, tree: ast.Module | None = None) -> PolicyReport:
    """Apply the policy to one submission's source (parsed if ``tree`` is not given)."""
    tree = tree if tree is not None else ast.parse(source)
    lines = source.split("\n")
    alias_visitor = _Aliases()
    alias_visitor.visit(tree)
    aliases = alias_visitor.aliases
    visitor = PolicyVisitor(aliases, lines)
    visitor.visit(tree)

    bindings = top_level_bindings(tree)
    report = PolicyReport(violations=sorted(set(visitor.violations), key=lambda v: (v.line, v.what)),
                          aliases=dict(aliases), source=source)
    report.definitions = [s.name for s in tree.body
                          if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    # Per top-level name: delegation it names and names it uses, over every statement that binds it.
    direct: dict[str, set[str]] = {}
    for name, stmts in bindings.items():
        uses, bad = set(), set()
        for stmt in stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt in tree.body:
                uses |= visitor.refs.get(stmt.name, set())
                bad |= visitor.delegates.get(stmt.name, set())
                continue
            sub = PolicyVisitor(aliases, lines)
            sub.owner = name
            sub.visit(stmt)
            uses |= sub.refs.get(name, set())
            bad |= sub.delegates.get(name, set())
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for a in stmt.names:
                    if (a.asname or a.name).split(".")[0] == name:
                        full = a.name if isinstance(stmt, ast.Import) else f"{stmt.module}.{a.name}"
                        if is_delegation(full):
                            bad.add(full)
        uses.discard(name)
        report.uses[name] = uses
        direct[name] = bad
    for name, writers in _global_writers(tree).items():
        report.uses.setdefault(name, set()).update(writers - {name})
        direct.setdefault(name, set())
    kit = sorted(p for p in visitor.delegates.get(None, set()) if p.split(".")[0] in KIT_PACKAGES)
    if kit:
        report.forbidden["*"] = f"imports the grading kit ({kit[0]})"
    # torch._fused_* kernels are judged at run time (see ALLOWED_PRIVATE) unless a graded definition
    # names one itself; through helpers, only the runtime tripwire decides.
    kernels = {n: {p for p in bad if matches("torch._fused_*", p)} for n, bad in direct.items()}
    spread = {n: bad - kernels[n] for n, bad in direct.items()}
    for name in report.uses:
        hits = {}
        for via in report.reachable(name):
            for path in sorted(direct.get(via, set()) if via == name else spread.get(via, set())):
                hits.setdefault(path, via)
        if hits:
            path = sorted(hits)[0]
            via = hits[path]
            where = "" if via == name else f" (through {via})"
            report.forbidden[name] = f"uses {path}{where}: implement the computation yourself"
    return report
