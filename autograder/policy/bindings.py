"""What a module binds, read the way Python runs it on import (part of the standalone policy).

- Code that never runs binds nothing: ``if __name__ == "__main__":`` blocks (the grader imports the
  module under its own name), ``if TYPE_CHECKING:`` blocks and branches of a constant-false test.
- ``effective_bindings``: the statements whose binding a module-level name may hold once the module has
  run (a later ``class SGD`` replaces an earlier ``from torch.optim import SGD``; a binding in a branch
  joins the earlier ones).
- ``Scope``: what one function-like scope binds, which locals alias a dotted name and which hold
  only known strings.
- ``module_aliases``: names bound to a dotted name, by an import anywhere or by a module-level
  assignment (``nnf = torch.nn.functional``), and module-level names bound only to strings.
"""

from __future__ import annotations

import ast

# --- code that never runs ------------------------------------------------------------------------------

_FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPES = (*_FUNCTION_SCOPES, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _is_main_guard(test: ast.AST) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def never_true(test: ast.AST) -> bool:
    """A test whose body never runs when the grader imports the module."""
    if isinstance(test, ast.Constant):
        return not test.value
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return _is_main_guard(test)


def always_true(test: ast.AST) -> bool:
    return isinstance(test, ast.Constant) and bool(test.value)


def live_blocks(stmt: ast.stmt) -> list[tuple[list[ast.stmt], bool]]:
    """The statement blocks of a module-level compound statement that can run on import, each with
    whether it runs unconditionally (a ``with`` or ``try`` body) or not (a branch, a loop body)."""
    if isinstance(stmt, ast.If):
        if never_true(stmt.test):
            return [(stmt.orelse, False)]
        if always_true(stmt.test):
            return [(stmt.body, True)]
        return [(stmt.body, False), (stmt.orelse, False)]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [(stmt.body, True)]
    if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
        return [(stmt.body, False), (stmt.orelse, False)]
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        return [(stmt.body, True), *[(h.body, False) for h in stmt.handlers], (stmt.orelse, False),
                (stmt.finalbody, True)]
    if type(stmt).__name__ == "Match":
        return [(case.body, False) for case in stmt.cases]
    return []


def head_expressions(stmt: ast.stmt) -> list[ast.AST]:
    """What a compound statement evaluates itself, outside its blocks (tests, iterables, items)."""
    if isinstance(stmt, ast.If):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.target, stmt.iter]
    if isinstance(stmt, ast.While):
        return [stmt.test]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [x for item in stmt.items for x in (item.context_expr, item.optional_vars) if x is not None]
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        return [h.type for h in stmt.handlers if h.type is not None]
    if type(stmt).__name__ == "Match":
        parts = [p for case in stmt.cases for p in (case.pattern, case.guard) if p is not None]
        return [stmt.subject, *parts]
    return []


def compound(stmt: ast.stmt) -> bool:
    return bool(live_blocks(stmt)) or isinstance(stmt, ast.If)


def bound_names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _single_name_assign(stmt: ast.AST) -> bool:
    """``name = value`` (one target, a plain name)."""
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)


def _literal_rows(node: ast.AST) -> list[list[ast.AST]] | None:
    """The rows a literal iterable yields, each as the list of its items (one item for a plain value):
    a tuple/list/set literal (of tuples, for several loop targets), ``zip`` of such literals, and a dict
    literal's ``.items()``/``.keys()``; None for anything else."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        return [list(e.elts) if isinstance(e, (ast.Tuple, ast.List)) else [e] for e in node.elts]
    literal_args = all(isinstance(a, (ast.Tuple, ast.List)) for a in getattr(node, "args", ()))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip" \
            and node.args and literal_args and not node.keywords:
        return [list(row) for row in zip(*(a.elts for a in node.args), strict=False)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
            and isinstance(node.func.value, ast.Dict) and node.func.attr in ("items", "keys"):
        literal = node.func.value
        pairs = [(k, v) for k, v in zip(literal.keys, literal.values, strict=True) if k is not None]
        return [[k, v] for k, v in pairs] if node.func.attr == "items" else [[k] for k, _ in pairs]
    return None


def const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def literal_strings(node: ast.AST) -> set[str] | None:
    """The strings of a literal tuple/list/set of string constants, else None."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        values = [const_str(e) for e in node.elts]
        return set(values) if all(v is not None for v in values) else None
    return None


def dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name ``node`` denotes when its root is an imported name (``F.dropout`` ->
    ``torch.nn.functional.dropout``); ``getattr(x, "const")`` counts as ``x.const``."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and const_str(node.args[1]) is not None):
            parts.append(const_str(node.args[1]))
            node = node.args[0]
        else:
            break
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


# --- what the module binds ---------------------------------------------------------------------------

def statement_bindings(stmt: ast.stmt) -> tuple[list[str], list[str]]:
    """(names a simple module-level statement binds, names whose object it changes: ``X.a = v``)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name], []
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"], []
    bound: list[str] = []
    changed: list[str] = []
    for sub in _walk_no_scopes(stmt):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.append(sub.id)
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            root = sub.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name):
                changed.append(root.id)
        elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
              and sub.func.id in ("setattr", "delattr") and sub.args and isinstance(sub.args[0], ast.Name)):
            changed.append(sub.args[0].id)
    return bound, changed


def _walk_no_scopes(node: ast.AST):
    """``ast.walk`` that does not enter function, lambda, class or comprehension bodies."""
    todo = [node]
    while todo:
        sub = todo.pop()
        yield sub
        for child in ast.iter_child_nodes(sub):
            if not isinstance(child, SCOPES):
                todo.append(child)


def effective_bindings(tree: ast.Module) -> dict[str, list[ast.stmt]]:
    """For every module-level name, the statements whose binding it may hold once the module has run:
    an unconditional binding replaces the earlier ones, a conditional one (a branch, a loop body, an
    ``except``) joins them, ``X.attr = v`` joins ``X``'s. Code that never runs binds nothing."""
    found: dict[str, list[ast.stmt]] = {}

    def walk(stmts, certain: bool) -> None:
        for stmt in stmts:
            if compound(stmt):
                for name in headbound_names(stmt):
                    found.setdefault(name, []).append(stmt)
                for block, runs in live_blocks(stmt):
                    walk(block, certain and runs)
                continue
            bound, changed = statement_bindings(stmt)
            for name in bound:
                if certain:
                    found[name] = [stmt]
                else:
                    found.setdefault(name, []).append(stmt)
            for name in changed:
                found.setdefault(name, []).append(stmt)

    walk(tree.body, True)
    for stmt in tree.body:  # functions that rebind a module-level name through ``global``
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Global):
                    for name in sub.names:
                        found.setdefault(name, []).append(stmt)
    return found


def headbound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return bound_names(stmt.target)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [n for item in stmt.items if item.optional_vars is not None
                for n in bound_names(item.optional_vars)]
    return []


def top_level_bindings(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Every module-level statement that can run on import (also inside module-level if/for/try/with
    blocks, never inside ``if __name__ == "__main__":``) that binds a name, per name, in source order;
    for ``X.attr = ...`` / ``setattr(X, "attr", ...)`` the statement counts for X."""
    found: dict[str, list[ast.AST]] = {}

    def walk(stmts) -> None:
        for stmt in stmts:
            if compound(stmt):
                for name in headbound_names(stmt):
                    found.setdefault(name, []).append(stmt)
                for block, _ in live_blocks(stmt):
                    walk(block)
                continue
            bound, changed = statement_bindings(stmt)
            for name in [*bound, *changed]:
                found.setdefault(name, []).append(stmt)

    walk(tree.body)
    return found


def module_aliases(tree: ast.Module) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Imported names (imports anywhere in the file count) and module-level variables bound to a dotted
    name (``nnf = torch.nn.functional``): local name -> dotted; and module-level names bound only to
    strings or literal tuples of strings (for computed attribute names)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    strings: dict[str, set[str]] = {}
    opaque: set[str] = set()

    def walk(stmts) -> None:
        for stmt in stmts:
            if compound(stmt):
                for block, _ in live_blocks(stmt):
                    walk(block)
                continue
            if _single_name_assign(stmt):
                name = stmt.targets[0].id
                path = dotted(stmt.value, aliases)
                if path is not None and name not in aliases:
                    aliases[name] = path
                values = literal_strings(stmt.value) or (
                    {const_str(stmt.value)} if const_str(stmt.value) is not None else None)
                if values is None:
                    opaque.add(name)
                else:
                    strings.setdefault(name, set()).update(values)
            else:
                bound, _ = statement_bindings(stmt)
                opaque.update(bound)

    walk(tree.body)
    return aliases, {k: v for k, v in strings.items() if k not in opaque}


def import_paths(stmt: ast.stmt, name: str) -> set[str]:
    """The dotted names an import statement binds to ``name``."""
    out = set()
    for a in stmt.names:
        if (a.asname or a.name).split(".")[0] != name or a.name == "*":
            continue
        if isinstance(stmt, ast.Import):
            out.add(a.name if a.asname else a.name.split(".")[0])
        elif not stmt.level and stmt.module:
            out.add(f"{stmt.module}.{a.name}")
    return out


# --- names bound in a scope -------------------------------------------------------------------------------

def scope_nodes(node: ast.AST):
    """The nodes of one scope's body, not descending into nested scopes (their headers excepted)."""
    body = node.body if isinstance(getattr(node, "body", None), list) else [getattr(node, "body", None)]
    todo = [n for n in body if n is not None]
    while todo:
        sub = todo.pop()
        yield sub
        if isinstance(sub, SCOPES):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                todo.extend(sub.decorator_list)
            continue
        todo.extend(ast.iter_child_nodes(sub))


def bound_here(node: ast.AST) -> set[str]:
    """Names bound in the scope that ``node`` opens (parameters, assignments, imports, nested defs),
    without descending into nested scopes; ``global``/``nonlocal`` names are not local."""
    bound: set[str] = set()
    declared: set[str] = set()
    args = getattr(node, "args", None)
    if isinstance(args, ast.arguments):
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                bound.add(a.arg)
    if isinstance(node, COMPREHENSIONS):
        for gen in node.generators:
            bound |= set(bound_names(gen.target))
        return bound
    for sub in scope_nodes(node):
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared |= set(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            bound.add(sub.name)
        elif type(sub).__name__ in ("MatchAs", "MatchStar") and sub.name:
            bound.add(sub.name)
        elif type(sub).__name__ == "MatchMapping" and sub.rest:
            bound.add(sub.rest)
    return bound - declared


class Scope:
    """One function-like scope: its local names, the locals that alias a dotted name (``f = F``), and
    the locals whose every binding is a known string (for computed attribute names)."""

    def __init__(self, node: ast.AST, outer) -> None:
        self.bound = bound_here(node)
        self.aliases: dict[str, str] = {}
        self.strings: dict[str, set[str]] = {}
        opaque: set[str] = set()
        for sub in scope_nodes(node) if not isinstance(node, COMPREHENSIONS) else ():
            self._learn(sub, outer, opaque)
        if isinstance(node, COMPREHENSIONS):
            for gen in node.generators:
                self._bind_loop(gen.target, gen.iter, outer, opaque)
        for name in opaque:
            self.strings.pop(name, None)

    def _learn(self, sub: ast.AST, outer, opaque: set[str]) -> None:
        if _single_name_assign(sub):
            name = sub.targets[0].id
            path = outer(sub.value)
            if path is not None:
                self.aliases[name] = path
            value = const_str(sub.value)
            if value is not None:
                self.strings.setdefault(name, set()).add(value)
            elif path is None:
                opaque.add(name)
        elif isinstance(sub, (ast.For, ast.AsyncFor)):
            self._bind_loop(sub.target, sub.iter, outer, opaque)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            pass  # bound by a statement handled above or by one that makes it opaque below
        if isinstance(sub, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            opaque |= set(bound_names(sub.target))
        elif isinstance(sub, ast.Assign) and not _single_name_assign(sub):
            opaque |= {n for t in sub.targets for n in bound_names(t)}
        elif isinstance(sub, (ast.With, ast.AsyncWith)):
            opaque |= {n for item in sub.items if item.optional_vars is not None
                       for n in bound_names(item.optional_vars)}

    def _bind_loop(self, target: ast.AST, iterable: ast.AST, outer, opaque: set[str]) -> None:
        """A loop target bound to known strings: ``for name in ("a", "b")`` (or a name bound to such a
        tuple), ``for name, value in (("a", 0), ("b", 1))``, ``zip(("a", "b"), ...)``, and a dict
        literal's ``.items()``/``.keys()``."""
        rows = _literal_rows(iterable)
        if rows is None and isinstance(iterable, ast.Name):
            known = outer.strings_of(iterable.id) if hasattr(outer, "strings_of") else None
            rows = None if known is None else [[ast.Constant(v)] for v in sorted(known)]
        targets = [target] if isinstance(target, ast.Name) else (
            list(target.elts) if isinstance(target, (ast.Tuple, ast.List)) else None)
        if rows is None or targets is None or any(len(row) != len(targets) for row in rows):
            opaque.update(bound_names(target))
            return
        for i, sub in enumerate(targets):
            values = [const_str(row[i]) for row in rows]
            if isinstance(sub, ast.Name) and all(v is not None for v in values):
                self.strings.setdefault(sub.id, set()).update(values)
            else:
                opaque.update(bound_names(sub))
