"""The syntax-tree walk of the policy: one visitor, one method per node kind, that records policy
violations (with the definition they sit in), the dotted names each binding statement reaches and the
global names it uses; ``check_source`` turns that into a ``PolicyReport``.

What the walk reads as Python would run it:

- code that never runs is not read: ``if __name__ == "__main__":`` blocks (the grader imports the
  module under its own name), ``if TYPE_CHECKING:`` blocks and branches of a constant-false test;
- type hints are not uses: an annotation never makes a definition use torch's implementation
  (what an annotation *runs* is still checked for violations);
- names are resolved as the module binds them: an import binds only its own alias, a later ``class``
  or ``def`` shadows an earlier import of the same name, variables bound to modules or classes
  (``nnf = torch.nn.functional``, in a function or at module level) are aliases like imports;
- computed attribute names are resolved where their values are constants (``for name in
  ("running_mean", "running_var"): getattr(self, name)``) and judged like ``self.running_mean``;
- attribute names hidden in ``match`` class patterns and in format-string fields are attribute access.

Every binding statement is visited once, so the scan is linear in the size of the source.
"""

from __future__ import annotations

import ast
import string

from .bindings import (
    Scope,
    always_true,
    compound,
    const_str,
    dotted,
    effective_bindings,
    head_expressions,
    import_paths,
    live_blocks,
    module_aliases,
    never_true,
)
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


def _format_fields(text: str) -> list[str]:
    """The attribute names a format string's replacement fields reach (``"{0.__globals__}"``)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except (ValueError, IndexError):
        return []
    out = []
    for field in fields:
        for part in field.replace("[", ".").split(".")[1:]:
            name = part.rstrip("]")
            if name.isidentifier():
                out.append(name)
    return out


# --- the visitor ---------------------------------------------------------------------------------------

class PolicyVisitor(ast.NodeVisitor):
    """One pass over the module: policy violations (with their owner), and per binding statement the
    dotted names it reaches and the global names it uses. One method per node kind."""

    def __init__(self, aliases: dict[str, str], lines: list[str], globals_strings=None) -> None:
        self.aliases = aliases
        self.lines = lines
        self.owner: str | None = None  # the definition being visited (None: module-level code)
        self.key: int = 0  # id of the binding statement being visited
        self.scopes: list[Scope] = []
        self.violations: list[Violation] = []
        self.paths: dict[int, set[str]] = {}  # binding statement -> dotted names it reaches
        self.refs: dict[int, set[str]] = {}  # binding statement -> global names it loads
        self.called: set[int] = set()  # ids of Name nodes that are the function of a call
        self.annotation = 0  # > 0 while visiting a type hint
        self.docstrings: set[int] = set()
        self.globals_strings = globals_strings or {}

    # helpers
    def flag(self, node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.violations.append(Violation(line, what, code, self.owner, self.key))

    def local(self, name: str) -> bool:
        return any(name in s.bound for s in self.scopes)

    def strings_of(self, name: str) -> set[str] | None:
        for scope in reversed(self.scopes):
            if name in scope.bound:
                return scope.strings.get(name)
        return self.globals_strings.get(name)

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name ``node`` denotes (local aliases first, then the module's), or None."""
        root = node
        while isinstance(root, ast.Attribute) or (
                isinstance(root, ast.Call) and isinstance(root.func, ast.Name) and root.func.id == "getattr"
                and len(root.args) >= 2 and const_str(root.args[1]) is not None):
            root = root.value if isinstance(root, ast.Attribute) else root.args[0]
        if not isinstance(root, ast.Name):
            return None
        for scope in reversed(self.scopes):
            if root.id in scope.bound:
                if root.id not in scope.aliases:
                    return None
                return dotted(node, {root.id: scope.aliases[root.id]})
        return dotted(node, self.aliases)

    def check_path(self, node: ast.AST, path: str) -> None:
        if not self.annotation:
            self.paths.setdefault(self.key, set()).add(path)
        problem = path_problem(path)
        if problem:
            self.flag(node, problem)

    def visit_all(self, nodes) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def visit_annotation(self, node: ast.AST | None) -> None:
        if node is None:
            return
        self.annotation += 1
        try:
            self.visit(node)
        finally:
            self.annotation -= 1

    def enter(self, node: ast.AST) -> None:
        self.scopes.append(Scope(node, self))

    def __call__(self, node: ast.AST) -> str | None:  # Scope asks the visitor to resolve aliases
        return self.resolve(node)

    def mark_docstring(self, body: list) -> None:
        if body and isinstance(body[0], ast.Expr) and const_str(body[0].value) is not None:
            self.docstrings.add(id(body[0].value))

    # scopes: what a function header evaluates runs in the enclosing scope, the body in its own
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        args = node.args
        self.visit_all([*node.decorator_list, *args.defaults, *args.kw_defaults])
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                self.visit_annotation(a.annotation)
        self.visit_annotation(node.returns)
        self.mark_docstring(node.body)
        self.enter(node)
        self.visit_all(node.body)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.visit_all([*node.decorator_list, *node.bases, *node.keywords])
        self.mark_docstring(node.body)
        self.visit_all(node.body)  # a class body runs in the enclosing function's scope chain

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit_annotation(node.annotation)
        self.visit_all([node.target, node.value])

    def visit_arg(self, node: ast.arg) -> None:
        self.visit_annotation(node.annotation)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit_all([*node.args.defaults, *node.args.kw_defaults])
        self.enter(node)
        self.visit(node.body)
        self.scopes.pop()

    def visit_comprehension_scope(self, node) -> None:
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        self.enter(node)
        for i, gen in enumerate(node.generators):
            self.visit(gen.target)
            if i:
                self.visit(gen.iter)
            self.visit_all(gen.ifs)
        self.visit_all([getattr(node, "elt", None), getattr(node, "key", None), getattr(node, "value", None)])
        self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_scope

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        if not never_true(node.test):
            self.visit_all(node.body)
        if not always_true(node.test):
            self.visit_all(node.orelse)

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
                problem = path_problem(f"{module}.{a.name}")
                if problem:
                    self.flag(node, problem)

    def check_import(self, node: ast.AST, module: str) -> bool:
        if module.split(".")[0] in KIT_PACKAGES:
            self.flag(node, f"imports the grading kit (`{module}`)")
            return False
        if not import_allowed(module):
            self.flag(node, f"imports `{module}` (not among the modules a submission may import)")
            return False
        problem = path_problem(module)
        if problem:
            self.flag(node, problem)
        return True

    # names and attributes
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if not isinstance(node.ctx, ast.Load):
            return
        if self.local(name):
            path = self.resolve(node)
            if path is not None and not self.annotation:
                self.paths.setdefault(self.key, set()).add(path)
            return
        if not self.annotation:
            self.refs.setdefault(self.key, set()).add(name)
        if name in BANNED_BUILTINS:
            self.flag(node, f"uses `{name}` (dynamic code or the outside world)")
        elif name in DYNAMIC_ATTRIBUTE_BUILTINS and id(node) not in self.called:
            self.flag(node, f"passes `{name}` around (attribute access by computed name)")
        elif name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `{name}` (introspection)")
        if name in self.aliases:
            self.check_path(node, self.aliases[name])

    def check_attribute_name(self, node: ast.AST, attr: str, how: str = "") -> None:
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `.{attr}`{how} (introspection)")
        elif attr in BANNED_ATTRIBUTES or attr.startswith(("gi_", "cr_", "ag_", "tb_")):
            self.flag(node, f"uses `.{attr}`{how} (frames, code objects or closures)")
        elif attr in BANNED_MODULES:
            self.flag(node, f"reaches module `{attr}`{how} as an attribute")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.check_attribute_name(node, node.attr)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.check_assignment(node)
            self.generic_visit(node)
            return
        path = self.resolve(node)
        if path is None:
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
        if isinstance(node, ast.Name) and not self.local(node.id) and not self.annotation:
            self.refs.setdefault(self.key, set()).add(node.id)

    def check_assignment(self, target: ast.Attribute) -> None:
        """Assigning or deleting an attribute of an imported module or class is monkeypatching."""
        base = self.resolve(target.value)
        if base is not None and not matches_any(ASSIGNABLE, f"{base}.{target.attr}"):
            self.flag(target, f"changes `{base}.{target.attr}` (monkeypatching an imported module or class)")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "{" in node.value and id(node) not in self.docstrings:
            for attr in _format_fields(node.value):
                self.check_attribute_name(node, attr, " in a format field")

    def visit_MatchClass(self, node) -> None:
        for attr in node.kwd_attrs:
            self.check_attribute_name(node, attr, " in a match pattern")
        self.generic_visit(node)

    # calls
    def visit_Call(self, node: ast.Call) -> None:
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id in DYNAMIC_ATTRIBUTE_BUILTINS and not self.local(fn.id):
            self.called.add(id(fn))
            names = self.constant_strings(node.args[1]) if len(node.args) > 1 else None
            if names is None:
                if self.computed_name_reaches_out(node):
                    self.flag(node, f"`{fn.id}` with a computed attribute name")
            else:
                for name in sorted(names):
                    self.check_constant_attribute(node, fn.id, name)
                    if fn.id == "getattr" and node.args:
                        base = self.resolve(node.args[0])
                        if base is not None:
                            self.check_path(node, f"{base}.{name}")
        self.generic_visit(node)

    def computed_name_reaches_out(self, node: ast.Call) -> bool:
        """A computed attribute name is evidence only where it can reach past the student's own objects:
        on an imported module or class (``getattr(torch, name)``), on something unknown (no arguments),
        or with a name built from pieces holding a double underscore (``"__cl" + "ass__"``).
        ``getattr(self, name)``, ``getattr(self, f"_step_{kind}")`` and ``getattr(model, mode)`` on the
        student's own objects are everyday code."""
        if len(node.args) < 2:
            return True
        if self.resolve(node.args[0]) is not None:
            return True
        pieces = [sub.value for sub in ast.walk(node.args[1])
                  if isinstance(sub, ast.Constant) and isinstance(sub.value, str)]
        return any("__" in piece for piece in pieces)

    def constant_strings(self, node: ast.AST) -> set[str] | None:
        """Every string ``node`` can evaluate to, when they are all known (constants, names bound only to
        constants, loops over literal tuples of strings, ``+`` and conditional expressions of those)."""
        value = const_str(node)
        if value is not None:
            return {value}
        if isinstance(node, ast.Name):
            return self.strings_of(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.constant_strings(node.left), self.constant_strings(node.right)
            if left is not None and right is not None and len(left) * len(right) <= 64:
                return {a + b for a in left for b in right}
        if isinstance(node, ast.IfExp):
            body, other = self.constant_strings(node.body), self.constant_strings(node.orelse)
            if body is not None and other is not None:
                return body | other
        return None

    def check_constant_attribute(self, node: ast.Call, fn: str, name: str) -> None:
        """``getattr(x, "name")`` and friends are judged like ``x.name``."""
        if name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self.flag(node, f"uses `{name}` (introspection)")
        elif name in BANNED_ATTRIBUTES or name in BANNED_MODULES:
            self.flag(node, f"uses `{name}` (frames, code objects or modules)")
        if fn in ("setattr", "delattr") and node.args:
            self.check_assignment(ast.Attribute(value=node.args[0], attr=name, ctx=ast.Store(),
                                                lineno=node.lineno))

    # the module: each binding statement is its own key; blocks that never run are skipped
    def visit_Module(self, node: ast.Module) -> None:
        self.mark_docstring(node.body)
        self.visit_block(node.body)
        self.owner, self.key = None, 0

    def visit_block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.owner = owner_of(stmt)
            self.key = id(stmt)
            if not compound(stmt):
                self.visit(stmt)
                continue
            self.owner = None
            self.visit_all(head_expressions(stmt))
            for block, _ in live_blocks(stmt):
                self.visit_block(block)


def owner_of(stmt: ast.stmt) -> str | None:
    """The definition a module-level statement is: a def or class (its name); None for everything
    else (module-level code, which runs when the module is loaded)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    return None


# --- the report ----------------------------------------------------------------------------------------

def check_source(source: str, tree: ast.Module | None = None) -> PolicyReport:
    """Apply the policy to one submission's source (parsed if ``tree`` is not given)."""
    tree = tree if tree is not None else ast.parse(source)
    lines = source.split("\n")
    aliases, strings = module_aliases(tree)
    visitor = PolicyVisitor(aliases, lines, strings)
    visitor.visit(tree)

    bindings = effective_bindings(tree)
    report = PolicyReport(violations=sorted(set(visitor.violations), key=lambda v: (v.line, v.what)),
                          aliases=dict(aliases), source=source)
    report.definitions = [s.name for s in tree.body
                          if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    # Per module-level name: the names its bindings use and the dotted names they reach. An import
    # binds only its own alias; every other statement counts with all it reaches.
    direct: dict[str, set[str]] = {}
    for name, stmts in bindings.items():
        uses, reached, keys = set(), set(), set()
        for stmt in stmts:
            keys.add(id(stmt))
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                reached |= import_paths(stmt, name)
                continue
            uses |= visitor.refs.get(id(stmt), set())
            reached |= visitor.paths.get(id(stmt), set())
        uses.discard(name)
        report.uses[name] = uses
        report.keys[name] = keys
        direct[name] = {p for p in reached if is_delegation(p)}
    # torch._fused_* kernels are judged at run time unless a graded definition names one itself: torch's
    # own optimizer code (which a student may paste) keeps them behind its ``fused`` flag.
    spread = {n: {p for p in bad if not matches("torch._fused_*", p)} for n, bad in direct.items()}
    for name in report.uses:
        hits = {}
        for via in report.reachable(name):
            for path in sorted(direct.get(via, set()) if via == name else spread.get(via, set())):
                hits.setdefault(path, via)
        if hits:
            path = sorted(hits)[0]
            via = hits[path]
            where = "" if via == name else f" (through `{via}`)"
            report.delegation[name] = f"uses {path}{where}: implement the computation yourself"
    return report


