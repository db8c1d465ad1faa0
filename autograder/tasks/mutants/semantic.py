"""Semantic mutation operators: the ways a student who only read the notebook MISREADS a contract.

The mechanical operators (``operators.py``) change one token; the bugs that slip through a grader are
more often a whole reading of the contract gone wrong, which touches several places at once and keeps
the main computation right. Each operator here matches a pattern over the syntax tree of one graded
definition (never one line of one solution) and rewrites it the way such a misreading would. Its
changes are made as text edits of the definition (every other character kept) and, on a fresh parse
of the definition, as the matching tree changes; ``generate.py`` keeps a mutant only if the edited
text parses to exactly that tree, as it does for the mechanical operators. A private generator at
module level is the one change outside the definition: a statement put right before it
(``Proposal.prelude``), checked the same way.

Operators (every label starts with ``misread-``; ``--kind semantic`` or ``--only '*:misread-*'``
selects them):

===============================  =================================================================
``misread-counter-not-reset``    a counter incremented elsewhere (``c += 1``) is no longer reset to 0
                                 in the branch that resets it (the early-stopping patience counter)
``misread-counter-init-once``    an accumulator reset to 0 at the top of a loop's body is
                                 initialized once, before the loop (sums over all epochs)
``misread-own-counter``          reads of ``self.last_epoch`` replaced by a private attribute
                                 counter, set in ``__init__`` and incremented at each call
``misread-module-counter``       ... or by a module-level counter (``global``): shared by instances
``misread-state-outside``        ``self.state[p]`` (an Optimizer's, saved by ``state_dict``) kept in a
                                 private dict attribute instead
``misread-constructor-hyperparameter``  ``group["k"]`` read from the constructor's value
                                 (``self.defaults["k"]``): per-group values and lr changes ignored
``misread-lazy-init-zeros``      ``if v is None: v = <first value>`` starts from zeros instead
``misread-private-rng``          a draw from torch's global RNG (``torch.rand_like(x)``,
                                 ``t.bernoulli_()``, ``torch.randperm(n, generator=g)`` with g None)
                                 draws from a private ``torch.Generator()`` seeded once, made in
                                 ``__init__`` or at module level
``misread-fresh-rng``            ... or from a ``torch.Generator()`` made at each call (default seed:
                                 the same draws every call)
``misread-no-device``            ``device=``/``dtype=`` (and ``**factory``) dropped from a tensor
                                 factory; ``torch.*_like(t)`` and ``t.new_*()`` made by the plain
                                 factory from the shape only (CPU, default dtype)
``misread-edge-constant-cpu``    an ``if <edge value>:`` branch (``p == 1``, ``x is None``) returns a
                                 constant made on the CPU in the default dtype: ``torch.zeros(t.shape)``
``misread-edge-constant-detached``  ... or ``torch.zeros_like(t)``: right place, no autograd graph
``misread-none-as-constant``     ``register_parameter/register_buffer(name, None)`` in one branch
                                 replaced by the other branch's value as a plain CPU constant
``misread-stored-complement``    ``self.a = p`` stored as ``1 - p`` (p with a default in (0, 1)), every
                                 read compensated (``(1 - self.a)``) so the computation stays right
``misread-zero-grad-late``       ``opt.zero_grad()`` moved after ``opt.step()`` in the same block
``misread-unweighted-mean``      ``s += v * w`` with ``n += w`` becomes ``s += v`` and ``n += 1``
``misread-shallow-copy``         ``copy.deepcopy(x)`` → ``copy.copy(x)`` (tensors still shared)
``misread-once-per-loop``        a second ``x.step()`` in a loop body (after another ``.step()``)
                                 moved after the loop: a scheduler stepped per epoch
``misread-mode-ignored``         ``self.training`` dropped from a condition (the mode is ignored)
``misread-mode-set-once``        ``model.train()`` at the top of a loop body that later calls
                                 ``model.eval()`` is called once, before the loop
``misread-ema-swapped``          ``a.mul_(1 - r).add_(b, alpha=r)`` → weights swapped: r weighs the
                                 old value (an optimizer's momentum convention)
``misread-none-ignored``         ``A if v is None else B`` → ``B`` (the documented None case ignored)
``misread-variance-estimator``   ``var``/``std`` with the other estimator (``unbiased`` flipped)
===============================  =================================================================
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .operators import Edit, Proposal, Source, _dotted

PathT = tuple[tuple[str, int | None], ...]
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
BLOCK_FIELDS = ("body", "orelse", "finalbody")

# Calls that draw from torch's global RNG unless given ``generator=``.
RNG_FUNCTIONS = frozenset(
    {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "bernoulli",
     "multinomial", "normal", "poisson"}
)  # fmt: skip
RNG_METHODS = frozenset(
    {"bernoulli", "bernoulli_", "uniform_", "normal_", "random_", "exponential_", "geometric_",
     "cauchy_", "log_normal_", "multinomial"}
)  # fmt: skip
# Tensor factories that take device=/dtype=; the *_like and new_* forms and their plain factory.
FACTORIES = frozenset(
    {"zeros", "ones", "full", "empty", "tensor", "as_tensor", "arange", "linspace", "logspace", "eye",
     "rand", "randn", "randint", "randperm"}
)  # fmt: skip
LIKE = {"zeros_like": "zeros", "ones_like": "ones", "full_like": "full", "empty_like": "empty",
        "rand_like": "rand", "randn_like": "randn", "randint_like": "randint"}  # fmt: skip
NEW = {"new_zeros": "zeros", "new_ones": "ones", "new_full": "full", "new_empty": "empty",
       "new_tensor": "tensor"}  # fmt: skip
PLACEMENT = frozenset({"device", "dtype", None})  # None: a ``**factory`` splat
LIKE_ONLY = frozenset({"memory_format", "layout"})  # keywords the plain factories do not take
INHERITED_COUNTERS = ("last_epoch",)  # counters a base class keeps for the subclass
PRIVATE_GENERATOR = "torch.Generator().manual_seed(0)"


# --- a plan: changes of one definition, as text edits and as tree edits ---------------------------


def _paths(root: ast.AST) -> dict[int, PathT]:
    """The path (fields and list indices from ``root``) of every node under ``root``, by ``id``."""
    out: dict[int, PathT] = {id(root): ()}
    stack: list[tuple[ast.AST, PathT]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        out[id(item)] = (*path, (name, i))
                        stack.append((item, (*path, (name, i))))
            elif isinstance(value, ast.AST):
                out[id(value)] = (*path, (name, None))
                stack.append((value, (*path, (name, None))))
    return out


def _at(root: ast.AST, path: PathT) -> ast.AST:
    node = root
    for name, index in path:
        node = getattr(node, name) if index is None else getattr(node, name)[index]
    return node


def _parse_expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _parse_stmts(text: str) -> list[ast.stmt]:
    return ast.parse(text).body


@dataclass
class _Plan:
    """Changes of one top-level definition ``root``: text edits of the module and the same changes
    as tree operations on a fresh parse of the definition (``expected``)."""

    src: Source
    root: ast.AST
    paths: dict[int, PathT]
    edits: list[Edit] = field(default_factory=list)
    tree_ops: list[tuple] = field(default_factory=list)

    def replace_expr(self, node: ast.AST, text: str) -> None:
        self.edits.append(Edit(self.src.start(node), self.src.end(node), text, f"({text})"))
        self.tree_ops.append(("expr", self.paths[id(node)], text))

    def add_keyword(self, call: ast.Call, name: str, value: str) -> None:
        elements = _elements(call)
        if elements:
            at = self.src.end(elements[-1])
            self.edits.append(Edit(at, at, f", {name}={value}"))
        else:
            at = self.src.end(call) - 1  # just before ")"
            self.edits.append(Edit(at, at, f"{name}={value}"))
        self.tree_ops.append(("kw-add", self.paths[id(call)], (name, value)))

    def remove_keywords(self, call: ast.Call, names: frozenset) -> bool:
        elements = _elements(call)
        drop = [i for i, e in enumerate(elements) if isinstance(e, ast.keyword) and e.arg in names]
        if not drop or len(drop) == len(elements):
            return False
        self.edits.extend(_removal_edits(self.src, elements, drop))
        self.tree_ops.append(("kw-remove", self.paths[id(call)], names))
        return True

    def replace_stmt(self, stmt: ast.stmt, text: str) -> None:
        """Replace a statement (in place, at its indentation) by ``text`` (one line, or lines to be
        indented like ``stmt``)."""
        indented = _indent(text, stmt.col_offset, first=False)
        self.edits.append(Edit(self.src.start(stmt), self.src.end(stmt), indented))
        self.tree_ops.append(("stmts", self.paths[id(stmt)], text))

    def delete_stmt(self, stmt: ast.stmt) -> None:
        if not _owns_lines(self.src, stmt):
            raise ValueError("the statement shares a line")
        block = _block_of(self.root, self.paths[id(stmt)])
        if len(block) == 1:
            self.replace_stmt(stmt, "pass")
            return
        start, end = self.src.line_start(stmt.lineno), self.src.line_start(stmt.end_lineno + 1)
        self.edits.append(Edit(start, end, ""))
        self.tree_ops.append(("stmts", self.paths[id(stmt)], ""))

    def insert_before(self, stmt: ast.stmt, text: str) -> None:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        if not _owns_lines(self.src, stmt):
            raise ValueError("the statement shares a line")
        at = self.src.line_start(first)
        self.edits.append(Edit(at, at, _indent(text, stmt.col_offset) + "\n"))
        *parent, (name, index) = self.paths[id(stmt)]
        self.tree_ops.append(("insert", (tuple(parent), name), index, text))

    def insert_after(self, stmt: ast.stmt, text: str) -> None:
        if not _owns_lines(self.src, stmt):
            raise ValueError("the statement shares a line")
        at = self.src.line_start(stmt.end_lineno + 1)
        if at == len(self.src.text) and not self.src.text.endswith("\n"):
            raise ValueError("no line after the statement")
        self.edits.append(Edit(at, at, _indent(text, stmt.col_offset) + "\n"))
        *parent, (name, index) = self.paths[id(stmt)]
        self.tree_ops.append(("insert", (tuple(parent), name), index + 1, text))

    def move_after(self, stmt: ast.stmt, anchor: ast.stmt) -> None:
        """Move ``stmt`` to right after ``anchor`` (at the anchor's indentation)."""
        text = _dedent_segment(self.src, stmt)
        self.delete_stmt(stmt)
        self.insert_after(anchor, text)

    def move_before(self, stmt: ast.stmt, anchor: ast.stmt) -> None:
        text = _dedent_segment(self.src, stmt)
        self.delete_stmt(stmt)
        self.insert_before(anchor, text)

    def proposal(self, label: str, line: int, prelude: str = "") -> Proposal:
        edits = list(self.edits)
        if prelude:
            first = min([self.root.lineno, *(d.lineno for d in getattr(self.root, "decorator_list", []))])
            at = self.src.line_start(first)
            edits.append(Edit(at, at, prelude + "\n\n\n"))
        return Proposal(label, line, tuple(edits), _applier(tuple(self.tree_ops)), prelude)


def _applier(ops: tuple[tuple, ...]) -> Callable[[ast.AST], ast.AST]:
    """Apply the plan's tree operations to a fresh parse of the definition: expression and keyword
    changes first (they keep every list index), then statement-list changes from the deepest list and
    the highest index up (so no change moves a later one's target), a removal before an insertion at
    the same index."""

    def apply(root: ast.AST) -> ast.AST:
        for op in ops:
            kind, path, payload = op[0], op[1], op[-1]
            if kind == "expr":
                _set(root, path, _parse_expr(payload))
            elif kind == "kw-add":
                name, value = payload
                _at(root, path).keywords.append(ast.keyword(name, _parse_expr(value)))
            elif kind == "kw-remove":
                call = _at(root, path)
                call.keywords = [k for k in call.keywords if k.arg not in payload]
        listed = []
        for op in ops:
            if op[0] == "stmts":
                *parent, (name, index) = op[1]
                listed.append((len(parent), index, 1, tuple(parent), name, op[2]))
            elif op[0] == "insert":
                (parent, name), index = op[1], op[2]
                listed.append((len(parent), index, 0, parent, name, op[3]))
        for _depth, index, removal, parent, name, text in sorted(listed, key=lambda t: t[:3], reverse=True):
            block = getattr(_at(root, parent), name)
            new = _parse_stmts(text) if text else []
            if removal:
                block[index : index + 1] = new
            else:
                block[index:index] = new
        return root

    return apply


def _set(root: ast.AST, path: PathT, value: ast.AST) -> None:
    parent = _at(root, path[:-1])
    name, index = path[-1]
    if index is None:
        setattr(parent, name, value)
    else:
        getattr(parent, name)[index] = value


def _block_of(root: ast.AST, path: PathT) -> list:
    *parent, (name, _) = path
    return getattr(_at(root, tuple(parent)), name)


def _elements(call: ast.Call) -> list[ast.AST]:
    return sorted([*call.args, *call.keywords], key=lambda e: (e.lineno, e.col_offset))


def _removal_edits(src: Source, elements: list[ast.AST], drop: list[int]) -> list[Edit]:
    """Edits that remove the call arguments ``elements[i]`` for i in ``drop`` with their commas."""
    edits, runs, run = [], [], []
    for i in drop:
        if run and i != run[-1] + 1:
            runs.append(run)
            run = []
        run.append(i)
    runs.append(run)
    for run in runs:
        a, b = run[0], run[-1]
        if a > 0:  # ", x=1, y=2" after the element before the run
            edits.append(Edit(src.end(elements[a - 1]), src.end(elements[b]), ""))
        else:  # "x=1, y=2, " before the element after the run
            edits.append(Edit(src.start(elements[a]), src.start(elements[b + 1]), ""))
    return edits


def _owns_lines(src: Source, stmt: ast.stmt) -> bool:
    """The statement starts its first line and nothing but a comment follows it on its last line."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
    head = src.lines[first - 1]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and first != stmt.lineno:
        before = head[: len(head) - len(head.lstrip())]
    else:
        before = src.text[src.line_start(first) : src.start(stmt)]
    tail = src.text[src.end(stmt) : src.line_start(stmt.end_lineno + 1)].strip()
    return before.strip() == "" and (tail == "" or tail.startswith("#"))


def _indent(text: str, col: int, first: bool = True) -> str:
    lines = text.split("\n")
    pad = " " * col
    out = [(pad if first else "") + lines[0]] + [pad + line if line.strip() else line for line in lines[1:]]
    return "\n".join(out)


def _dedent_segment(src: Source, stmt: ast.stmt) -> str:
    """The statement's text with its own indentation removed from every line (comments kept)."""
    text = src.segment(stmt)
    lines = text.split("\n")
    col = stmt.col_offset
    rest = [line[col:] if line[:col].strip() == "" else line.lstrip() for line in lines[1:]]
    return "\n".join([lines[0], *rest])


# --- small pattern helpers ------------------------------------------------------------------------


def _functions(root: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(root) if isinstance(n, FUNCTIONS)]


def _methods(cls: ast.AST) -> dict[str, ast.AST]:
    if not isinstance(cls, ast.ClassDef):
        return {}
    return {n.name: n for n in cls.body if isinstance(n, FUNCTIONS)}


def _params(fn: ast.AST) -> list[ast.arg]:
    a = fn.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def _defaults(fn: ast.AST) -> dict[str, ast.AST]:
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    out = {p.arg: d for p, d in zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True)}
    out.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None})
    return out


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _first_statement(fn: ast.AST) -> ast.stmt | None:
    body = [s for s in fn.body if not _is_docstring(s)]
    return body[0] if body else None


def _blocks(root: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(root):
        for name in BLOCK_FIELDS:
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                yield handler.body


def _statement_ancestors(root: ast.AST, node: ast.AST, stop: ast.AST) -> list[ast.AST]:
    """The statements that enclose ``node`` below ``stop``, outermost first."""
    parents: dict[int, ast.AST] = {}
    for parent in ast.walk(stop):
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
    chain = []
    current = parents.get(id(node))
    while current is not None and current is not stop:
        if isinstance(current, ast.stmt):
            chain.append(current)
        current = parents.get(id(current))
    return list(reversed(chain))


def _enclosing_function(root: ast.AST, node: ast.AST) -> ast.AST | None:
    found = None
    for fn in _functions(root):
        if any(n is node for n in ast.walk(fn)):
            if found is None or any(n is fn for n in ast.walk(found)):
                found = fn  # the innermost
    return found


def _key(target: ast.AST) -> str:
    return ast.unparse(target)


def _assign_pairs(stmt: ast.Assign) -> list[tuple[ast.AST, ast.AST]]:
    """(target, value) pairs of ``a = v`` or ``a, b = v, w``; [] for any other assignment."""
    if len(stmt.targets) != 1:
        return []
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
        if len(target.elts) != len(stmt.value.elts) or any(isinstance(e, ast.Starred) for e in target.elts):
            return []
        return list(zip(target.elts, stmt.value.elts, strict=True))
    if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
        return [(target, stmt.value)]
    return []


def _number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _is_zero(node: ast.AST) -> bool:
    return _number(node) and node.value == 0


def _self_attr(node: ast.AST, name: str | None = None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and (name is None or node.attr == name)
    )


def _method_call_receiver(stmt: ast.stmt, method: str) -> str | None:
    """``r`` for a statement ``r.<method>(...)``, else None."""
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == method
    ):
        return ast.unparse(stmt.value.func.value)
    return None


def _fresh_name(src: Source, base: str) -> str:
    name, k = base, 1
    while name in src.text:
        k += 1
        name = f"{base}{k}"
    return name


def _plan(src: Source, root: ast.AST) -> _Plan:
    return _Plan(src, root, _paths(root))


Semantic = Callable[[ast.AST, Source], Iterator[Proposal]]


# --- the operators --------------------------------------------------------------------------------
# Each takes a top-level definition (function or class) and the module's source and yields Proposals
# whose ``expected`` rewrites a fresh parse of that whole definition.


def counter_reset(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """A counter that is incremented (``c += ...``) and reset to 0 in a branch loses that reset; an
    accumulator reset to 0 at the top of a loop body is initialized once before the loop instead."""
    class_increments = {
        _key(n.target)
        for n in ast.walk(root)
        if isinstance(n, ast.AugAssign) and isinstance(n.op, (ast.Add, ast.Sub)) and _self_attr(n.target)
    }
    for fn in _functions(root):
        increments = class_increments | {
            _key(n.target)
            for n in ast.walk(fn)
            if isinstance(n, ast.AugAssign) and isinstance(n.op, (ast.Add, ast.Sub))
        }
        assigns = [n for n in ast.walk(fn) if isinstance(n, ast.Assign) and _assign_pairs(n)]
        bindings = Counter(_key(t) for s in assigns for t, _ in _assign_pairs(s))
        for stmt in sorted(assigns, key=lambda s: (s.lineno, s.col_offset)):
            if _enclosing_function(root, stmt) is not fn:
                continue
            pairs = _assign_pairs(stmt)
            counters = [i for i, (t, v) in enumerate(pairs) if _key(t) in increments and _is_zero(v)]
            if not counters:
                continue
            ancestors = _statement_ancestors(root, stmt, fn)
            if any(isinstance(a, ast.If) for a in ancestors):
                for i in counters:
                    key = _key(pairs[i][0])
                    if not (key.startswith("self.") or bindings[key] > 1):
                        continue  # the only binding: dropping it would only raise NameError
                    rest = [p for j, p in enumerate(pairs) if j != i]
                    plan = _plan(src, root)
                    try:
                        if rest:
                            targets = ", ".join(src.segment(t) for t, _ in rest)
                            values = ", ".join(src.segment(v) for _, v in rest)
                            plan.replace_stmt(stmt, f"{targets} = {values}")
                        else:
                            plan.delete_stmt(stmt)
                    except ValueError:
                        continue
                    yield plan.proposal("misread-counter-not-reset", stmt.lineno)
            elif (
                ancestors
                and isinstance(ancestors[-1], (ast.For, ast.While))
                and any(s is stmt for s in ancestors[-1].body)
                and all(_number(v) for _, v in pairs)
                and all(bindings[_key(t)] == 1 for t, _ in pairs)
            ):
                plan = _plan(src, root)
                try:
                    plan.move_before(stmt, ancestors[-1])
                except ValueError:
                    continue
                yield plan.proposal("misread-counter-init-once", stmt.lineno)


def own_counter(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """A method that reads a counter its base class keeps (``self.last_epoch``) counts its own calls
    in a private attribute instead: set to -1 in ``__init__`` (before anything else, since a base
    constructor may already call the method), incremented first thing in the method."""
    methods = _methods(root)
    init = methods.get("__init__")
    first_init = _first_statement(init) if init is not None else None
    if first_init is None:
        return
    for name, method in methods.items():
        if name == "__init__":
            continue
        for counter in INHERITED_COUNTERS:
            if any(_self_attr(n, counter) and isinstance(n.ctx, ast.Store) for n in ast.walk(root)):
                continue  # the class keeps that counter itself
            reads = [n for n in ast.walk(method) if _self_attr(n, counter) and isinstance(n.ctx, ast.Load)]
            first = _first_statement(method)
            if not reads or first is None:
                continue
            attr = _fresh_name(src, "_calls")
            line = min(r.lineno for r in reads)
            plan = _plan(src, root)
            try:
                plan.insert_before(first_init, f"self.{attr} = -1")
                plan.insert_before(first, f"self.{attr} += 1")
            except ValueError:
                continue
            for read in reads:
                plan.replace_expr(read, f"self.{attr}")
            yield plan.proposal("misread-own-counter", line)
            # The same count kept at module level: one counter for every instance.
            plan = _plan(src, root)
            plan.insert_before(first, f"global {attr}\n{attr} += 1")
            for read in reads:
                plan.replace_expr(read, attr)
            yield plan.proposal("misread-module-counter", line, prelude=f"{attr} = -1")


def _draws_from_global_rng(call: ast.Call) -> bool:
    dotted = _dotted(call.func)
    if dotted.startswith("torch.") and dotted.count(".") == 1:
        return dotted[6:] in RNG_FUNCTIONS
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr in RNG_METHODS
        and dotted.rsplit(".", 1)[0] not in ("torch", "nn", "F", "torch.nn.functional", "torch.nn")
    )


def _draw_from(plan: _Plan, call: ast.Call, params: list[str], holder: str) -> bool:
    """Make ``call`` draw from ``holder`` where it drew from the global RNG; False if it cannot."""
    given = [k for k in call.keywords if k.arg == "generator"]
    if given:
        value = given[0].value
        if not (isinstance(value, ast.Name) and value.id in params):
            return False  # a generator the caller chose, not one that may be None
        plan.replace_expr(value, f"{value.id} if {value.id} is not None else {holder}")
        return True
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    plan.add_keyword(call, "generator", holder)
    return True


def private_rng(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """A draw from torch's global RNG draws from a private generator seeded once: ``self._rng`` made
    in ``__init__`` (right after ``super().__init__(...)``) in a method, else ``_rng`` at module level.
    ``generator=g`` with ``g`` a parameter falls back to the private generator when ``g`` is None.
    The ``fresh`` variant makes a ``torch.Generator()`` at each call instead (its default seed gives
    the same draws every time)."""
    init = _methods(root).get("__init__")
    for call in [n for n in ast.walk(root) if isinstance(n, ast.Call)]:
        if not _draws_from_global_rng(call):
            continue
        fn = _enclosing_function(root, call)
        params = [p.arg for p in _params(fn)] if fn is not None else []
        in_method = init is not None and fn is not None and fn is not init and params[:1] == ["self"]
        name = _fresh_name(src, "_rng")
        holder = f"self.{name}" if in_method else name
        plan = _plan(src, root)
        if not _draw_from(plan, call, params, holder):
            continue
        fresh = _plan(src, root)
        _draw_from(fresh, call, params, "torch.Generator()")
        prelude = ""
        try:
            if in_method:
                after = [s for s in init.body if _is_super_init(s)]
                if after:
                    plan.insert_after(after[0], f"{holder} = {PRIVATE_GENERATOR}")
                else:
                    plan.insert_before(_first_statement(init), f"{holder} = {PRIVATE_GENERATOR}")
            else:
                prelude = f"{holder} = {PRIVATE_GENERATOR}"
        except ValueError:
            continue
        yield plan.proposal("misread-private-rng", call.lineno, prelude)
        yield fresh.proposal("misread-fresh-rng", call.lineno)


def _is_super_init(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "__init__"
        and isinstance(stmt.value.func.value, ast.Call)
        and _dotted(stmt.value.func.value.func) == "super"
    )


def _plain_factory(src: Source, call: ast.Call) -> str | None:
    """``torch.zeros(t.shape, ...)`` for ``torch.zeros_like(t, ...)``/``t.new_zeros(...)``: the
    same tensor made by the plain factory, without placement keywords; None for other calls."""
    dotted = _dotted(call.func)
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    keywords = [
        f"{k.arg}={src.segment(k.value)}" for k in call.keywords if k.arg not in PLACEMENT | LIKE_ONLY
    ]
    if dotted.startswith("torch.") and dotted[6:] in LIKE and call.args:
        base = LIKE[dotted[6:]]
        shape = f"{src.segment(call.args[0])}.shape"
        rest = [src.segment(a) for a in call.args[1:]]
        args = [*rest, shape] if base == "randint" else [shape, *rest]  # randint(low, high, size)
        return f"torch.{base}({', '.join(args + keywords)})"
    if isinstance(call.func, ast.Attribute) and call.func.attr in NEW and dotted != f"torch.{call.func.attr}":
        args = [src.segment(a) for a in call.args]
        return f"torch.{NEW[call.func.attr]}({', '.join(args + keywords)})"
    return None


def no_device(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """A tensor made without the device and dtype it needs: ``device=``/``dtype=``/``**factory``
    dropped from a factory; ``*_like``/``new_*`` replaced by the plain factory on the shape."""
    for call in [n for n in ast.walk(root) if isinstance(n, ast.Call)]:
        plan = _plan(src, root)
        plain = _plain_factory(src, call)
        if plain is not None:
            plan.replace_expr(call, plain)
        else:
            dotted = _dotted(call.func)
            if not (dotted.startswith("torch.") and dotted[6:] in FACTORIES):
                continue
            if not plan.remove_keywords(call, PLACEMENT):
                continue
        yield plan.proposal("misread-no-device", call.lineno)


def _edge_test(test: ast.AST) -> bool:
    """``v == <number>`` or ``v is None``, alone or as an operand of ``or``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_edge_test(v) for v in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq):
        return _number(left) or _number(right)
    return isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None


def edge_constant(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """An ``if <edge value>:`` branch that returns a computed value returns a constant instead: made
    on the CPU in the default dtype (``torch.zeros(t.shape)``), or detached from the graph
    (``torch.zeros_like(t)``), ``t`` the first parameter the returned expression uses."""
    for fn in _functions(root):
        params = [p.arg for p in _params(fn) if p.arg not in ("self", "cls", "ctx")]
        for node in ast.walk(fn):
            if not (isinstance(node, ast.If) and _edge_test(node.test)):
                continue
            last = node.body[-1]
            if not isinstance(last, ast.Return) or last.value is None:
                continue
            if isinstance(last.value, (ast.Name, ast.Constant)):
                continue  # the input itself, or a constant already
            used = [n.id for n in ast.walk(last.value) if isinstance(n, ast.Name) and n.id in params]
            if not used:
                continue
            for label, text in (
                ("misread-edge-constant-cpu", f"torch.zeros({used[0]}.shape)"),
                ("misread-edge-constant-detached", f"torch.zeros_like({used[0]})"),
            ):
                if src.segment(last.value) == text:
                    continue
                plan = _plan(src, root)
                plan.replace_expr(last.value, text)
                yield plan.proposal(label, last.lineno)


def _registered_value(stmt: ast.stmt) -> tuple[str, ast.AST] | None:
    """(name, value expression) for ``self.n = nn.Parameter(E)`` / ``self.register_buffer("n", E)``
    / ``self.register_parameter("n", nn.Parameter(E))``; the value is None for a None registration."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _self_attr(stmt.targets[0]):
        value = stmt.value
        if isinstance(value, ast.Call) and _dotted(value.func).endswith("Parameter") and len(value.args) == 1:
            return stmt.targets[0].attr, value.args[0]
        return None
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    call = stmt.value
    if not (
        _dotted(call.func) in ("self.register_buffer", "self.register_parameter") and len(call.args) >= 2
    ):
        return None
    name, value = call.args[0], call.args[1]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    if isinstance(value, ast.Call) and _dotted(value.func).endswith("Parameter") and len(value.args) == 1:
        value = value.args[0]
    return name.value, value


def none_as_constant(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """Where one branch registers ``self.n`` as a tensor and the other registers it as None, the None
    branch stores a plain constant instead: the other branch's tensor, made without device/dtype."""
    for node in ast.walk(root):
        if not (isinstance(node, ast.If) and node.orelse):
            continue
        for made, other in ((node.body, node.orelse), (node.orelse, node.body)):
            values = {}
            for stmt in made:
                found = _registered_value(stmt)
                if found and not (isinstance(found[1], ast.Constant) and found[1].value is None):
                    values[found[0]] = found[1]
            for stmt in other:
                found = _registered_value(stmt)
                if not (found and isinstance(found[1], ast.Constant) and found[1].value is None):
                    continue
                value = values.get(found[0])
                if value is None:
                    continue
                text = _without_placement(src, value)
                plan = _plan(src, root)
                plan.replace_stmt(stmt, f"self.{found[0]} = {text}")
                yield plan.proposal("misread-none-as-constant", stmt.lineno)


def _without_placement(src: Source, value: ast.AST) -> str:
    """The text of a factory call without its device/dtype keywords (other expressions unchanged)."""
    if not isinstance(value, ast.Call):
        return src.segment(value)
    plain = _plain_factory(src, value)
    if plain is not None:
        return plain
    kept = [src.segment(a) for a in value.args]
    kept += [f"{k.arg}={src.segment(k.value)}" for k in value.keywords if k.arg not in PLACEMENT]
    return f"{src.segment(value.func)}({', '.join(kept)})"


def stored_complement(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``self.a = p`` in ``__init__`` (p a parameter whose default lies in (0, 1), never compared with
    None) is stored as ``1 - p``, and every read of ``self.a`` becomes ``(1 - self.a)``: the main
    computation stays right, the attribute holds the other meaning (keep instead of drop)."""
    init = _methods(root).get("__init__")
    if init is None:
        return
    defaults = {name: d.value for name, d in _defaults(init).items() if _number(d) and 0 < d.value < 1}
    none_tested = {
        _key(n.left)
        for n in ast.walk(root)
        if isinstance(n, ast.Compare)
        and any(isinstance(op, (ast.Is, ast.IsNot)) for op in n.ops)
        and any(isinstance(c, ast.Constant) and c.value is None for c in n.comparators)
    }
    stores = Counter(n.attr for n in ast.walk(root) if _self_attr(n) and isinstance(n.ctx, ast.Store))
    for stmt in [n for n in ast.walk(init) if isinstance(n, ast.Assign)]:
        for target, value in _assign_pairs(stmt):
            if not (_self_attr(target) and isinstance(value, ast.Name) and value.id in defaults):
                continue
            attr = target.attr
            if stores[attr] != 1 or f"self.{attr}" in none_tested or value.id in none_tested:
                continue
            plan = _plan(src, root)
            plan.replace_expr(value, f"1 - {value.id}")
            for read in ast.walk(root):
                if _self_attr(read, attr) and isinstance(read.ctx, ast.Load):
                    plan.replace_expr(read, f"(1 - self.{attr})")
            yield plan.proposal("misread-stored-complement", stmt.lineno)


def zero_grad_late(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``opt.zero_grad()`` moved to right after a later ``opt.step()`` of the same block."""
    for block in _blocks(root):
        for i, stmt in enumerate(block):
            receiver = _method_call_receiver(stmt, "zero_grad")
            if receiver is None:
                continue
            steps = [s for s in block[i + 1 :] if _method_call_receiver(s, "step") == receiver]
            if not steps:
                continue
            plan = _plan(src, root)
            try:
                plan.move_after(stmt, steps[0])
            except ValueError:
                continue
            yield plan.proposal("misread-zero-grad-late", stmt.lineno)


def unweighted_mean(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """A weighted sum ``s += v * w`` with its weight total ``n += w`` (same block) becomes a plain
    mean of the parts: ``s += v`` and ``n += 1``."""
    for block in _blocks(root):
        sums = [s for s in block if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add)]
        for stmt in sums:
            if not (isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Mult)):
                continue
            for weight, part in ((stmt.value.right, stmt.value.left), (stmt.value.left, stmt.value.right)):
                totals = [t for t in sums if t is not stmt and _key(t.value) == _key(weight)]
                if not totals:
                    continue
                plan = _plan(src, root)
                plan.replace_expr(stmt.value, src.segment(part))
                plan.replace_expr(totals[0].value, "1")
                yield plan.proposal("misread-unweighted-mean", stmt.lineno)
                break


def shallow_copy(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``copy.deepcopy(x)`` → ``copy.copy(x)``: a new container around the same tensors."""
    for call in [n for n in ast.walk(root) if isinstance(n, ast.Call)]:
        if _dotted(call.func) == "copy.deepcopy" and len(call.args) == 1 and not call.keywords:
            plan = _plan(src, root)
            plan.replace_expr(call.func, "copy.copy")
            yield plan.proposal("misread-shallow-copy", call.lineno)


def _stepping(stmt: ast.stmt) -> str | None:
    """``x`` for ``x.step()`` or ``if <test>: x.step()`` (no else), else None."""
    if isinstance(stmt, ast.If) and len(stmt.body) == 1 and not stmt.orelse:
        return _method_call_receiver(stmt.body[0], "step")
    return _method_call_receiver(stmt, "step")


def once_per_loop(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """In a loop body, a ``y.step()`` (possibly under an ``if``) that follows another object's
    ``x.step()`` is moved after the loop: stepped once per epoch instead of once per step."""
    for loop in [n for n in ast.walk(root) if isinstance(n, (ast.For, ast.While))]:
        for i, stmt in enumerate(loop.body):
            receiver = _stepping(stmt)
            if receiver is None:
                continue
            earlier = {_method_call_receiver(s, "step") for s in loop.body[:i]} - {None, receiver}
            if not earlier:
                continue
            plan = _plan(src, root)
            try:
                plan.move_after(stmt, loop)
            except ValueError:
                continue
            yield plan.proposal("misread-once-per-loop", stmt.lineno)


def _is_training(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return _self_attr(node, "training")


def mode_ignored(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``self.training`` (or ``not self.training``) dropped from an ``and``/``or`` condition, or an
    ``if self.training:`` test made constant: the layer behaves the same in train and eval mode."""
    for node in ast.walk(root):
        if isinstance(node, ast.BoolOp):
            for i, value in enumerate(node.values):
                if not _is_training(value):
                    continue
                rest = [v for j, v in enumerate(node.values) if j != i]
                parts = [
                    f"({src.segment(v)})"
                    if isinstance(v, (ast.BoolOp, ast.IfExp, ast.NamedExpr))
                    else src.segment(v)
                    for v in rest
                ]
                op = " and " if isinstance(node.op, ast.And) else " or "
                plan = _plan(src, root)
                plan.replace_expr(node, op.join(parts))
                yield plan.proposal("misread-mode-ignored", node.lineno)
        elif isinstance(node, (ast.If, ast.IfExp, ast.While)) and _is_training(node.test):
            negated = isinstance(node.test, ast.UnaryOp)
            plan = _plan(src, root)
            plan.replace_expr(node.test, "False" if negated else "True")
            yield plan.proposal("misread-mode-ignored", node.test.lineno)


def ema_swapped(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """In one statement, ``1 - r`` and ``r`` passed as arguments (an exponential moving average)
    swap places: ``r`` then weighs the old value, the convention of an optimizer's momentum."""
    simple = (ast.Expr, ast.Assign, ast.AugAssign)
    for stmt in [n for n in ast.walk(root) if isinstance(n, simple)]:
        arguments = []
        for call in [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]:
            arguments += [*call.args, *(k.value for k in call.keywords if k.arg is not None)]
        for sub in arguments:
            if not (
                isinstance(sub, ast.BinOp)
                and isinstance(sub.op, ast.Sub)
                and isinstance(sub.left, ast.Constant)
                and sub.left.value == 1
            ):
                continue
            r = _key(sub.right)
            bare = [a for a in arguments if a is not sub and _key(a) == r]
            if not bare:
                continue
            plan = _plan(src, root)
            plan.replace_expr(sub, src.segment(sub.right))
            for arg in bare:
                plan.replace_expr(arg, f"1 - {src.segment(arg)}")
            yield plan.proposal("misread-ema-swapped", sub.lineno)


def none_ignored(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``A if v is None else B`` → ``B`` (and ``B if v is not None else A`` → ``B``)."""
    for node in ast.walk(root):
        if not (isinstance(node, ast.IfExp) and isinstance(node.test, ast.Compare)):
            continue
        test = node.test
        if len(test.ops) != 1 or not (
            isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
        ):
            continue
        if isinstance(test.ops[0], ast.Is):
            keep = node.orelse
        elif isinstance(test.ops[0], ast.IsNot):
            keep = node.body
        else:
            continue
        plan = _plan(src, root)
        plan.replace_expr(node, src.segment(keep))
        yield plan.proposal("misread-none-ignored", node.lineno)


def variance_estimator(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``var``/``std`` computed with the other estimator: ``unbiased=`` flipped, ``correction=``
    0 ↔ 1, or ``unbiased=False`` added where the default (unbiased) was used."""
    for call in [n for n in ast.walk(root) if isinstance(n, ast.Call)]:
        if not (isinstance(call.func, ast.Attribute) and call.func.attr in ("var", "std")):
            continue
        if _dotted(call.func.value) in ("np", "numpy", "math", "statistics"):
            continue
        plan = _plan(src, root)
        given = {k.arg: k for k in call.keywords}
        if "unbiased" in given:
            value = given["unbiased"].value
            if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                continue
            plan.replace_expr(value, repr(not value.value))
        elif "correction" in given:
            value = given["correction"].value
            if not (_number(value) and value.value in (0, 1)):
                continue
            plan.replace_expr(value, repr(1 - value.value))
        elif len(call.args) <= 1 and None not in given:
            plan.add_keyword(call, "unbiased", "False")
        else:
            continue
        yield plan.proposal("misread-variance-estimator", call.lineno)


def state_outside(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``self.state[p]`` (the per-parameter state an Optimizer saves in ``state_dict``) kept in a
    private dict made after ``super().__init__(...)``: ``self._param_state.setdefault(p, {})``."""
    init = _methods(root).get("__init__")
    if init is None:
        return
    supers = [s for s in init.body if _is_super_init(s)]
    if not supers or any(_self_attr(n, "state") and isinstance(n.ctx, ast.Store) for n in ast.walk(root)):
        return
    reads = [
        n
        for n in ast.walk(root)
        if isinstance(n, ast.Subscript) and _self_attr(n.value, "state") and isinstance(n.ctx, ast.Load)
    ]
    if not reads:
        return
    attr = _fresh_name(src, "_param_state")
    plan = _plan(src, root)
    try:
        plan.insert_after(supers[0], f"self.{attr} = {{}}")
    except ValueError:
        return
    for read in reads:
        plan.replace_expr(read, f"self.{attr}.setdefault({src.segment(read.slice)}, {{}})")
    yield plan.proposal("misread-state-outside", reads[0].lineno)


def _defaults_keys(init: ast.AST) -> set[str]:
    """The keys of the dict ``__init__`` hands to ``super().__init__`` (``dict(k=...)`` or ``{"k": ...}``)."""
    handed = {
        a.id
        for s in init.body
        if _is_super_init(s)
        for a in [*s.value.args, *(k.value for k in s.value.keywords)]
        if isinstance(a, ast.Name)
    }
    keys: set[str] = set()
    for stmt in ast.walk(init):
        if not (
            isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        ):
            continue
        if stmt.targets[0].id not in handed:
            continue
        value = stmt.value
        if isinstance(value, ast.Call) and _dotted(value.func) == "dict":
            keys |= {k.arg for k in value.keywords if k.arg}
        elif isinstance(value, ast.Dict):
            keys |= {k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def constructor_hyperparameter(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """Every read ``group["k"]`` (``group`` iterating ``self.param_groups``, ``k`` a key of the
    defaults given to the base class) takes the constructor's value ``self.defaults["k"]``: a per-group
    value or an lr set by a scheduler is ignored. One mutant per key."""
    init = _methods(root).get("__init__")
    keys = _defaults_keys(init) if init is not None else set()
    groups = {
        loop.target.id
        for loop in ast.walk(root)
        if isinstance(loop, ast.For)
        and isinstance(loop.target, ast.Name)
        and _self_attr(loop.iter, "param_groups")
    }
    reads: dict[str, list[ast.Subscript]] = {}
    for node in ast.walk(root):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id in groups
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in keys
        ):
            reads.setdefault(node.slice.value, []).append(node)
    for nodes in sorted(reads.values(), key=lambda found: min(n.lineno for n in found)):
        plan = _plan(src, root)
        for node in nodes:
            plan.replace_expr(node, f"self.defaults[{src.segment(node.slice)}]")
        yield plan.proposal("misread-constructor-hyperparameter", min(n.lineno for n in nodes))


def lazy_init_zeros(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``if v is None: v = <expression of t>`` (state created from the first value) starts from
    ``torch.zeros_like(t)`` instead, ``t`` the first name the expression reads."""
    for node in ast.walk(root):
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1):
            continue
        test = node.test
        if not (
            isinstance(test.ops[0], ast.Is)
            and isinstance(test.left, ast.Name)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            continue
        for stmt in node.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == test.left.id
            ):
                continue
            names = [n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name) and n.id != test.left.id]
            names = [n for n in names if n not in ("torch", "self", "copy", "math")]
            if not names or isinstance(stmt.value, ast.Constant):
                continue
            text = f"torch.zeros_like({names[0]})"
            if src.segment(stmt.value) == text:
                continue
            plan = _plan(src, root)
            plan.replace_expr(stmt.value, text)
            yield plan.proposal("misread-lazy-init-zeros", stmt.lineno)
            break


def mode_set_once(root: ast.AST, src: Source) -> Iterator[Proposal]:
    """``m.train()`` in a loop body that later calls ``m.eval()`` is called once, before the loop:
    from the second pass on, the model stays in eval mode."""
    for loop in [n for n in ast.walk(root) if isinstance(n, (ast.For, ast.While))]:
        for i, stmt in enumerate(loop.body):
            receiver = _method_call_receiver(stmt, "train")
            if receiver is None or stmt.value.args or stmt.value.keywords:
                continue
            if not any(_method_call_receiver(s, "eval") == receiver for s in loop.body[i + 1 :]):
                continue
            plan = _plan(src, root)
            try:
                plan.move_before(stmt, loop)
            except ValueError:
                continue
            yield plan.proposal("misread-mode-set-once", stmt.lineno)


SEMANTIC_OPERATORS: tuple[Semantic, ...] = (
    counter_reset,
    own_counter,
    state_outside,
    constructor_hyperparameter,
    lazy_init_zeros,
    private_rng,
    no_device,
    edge_constant,
    none_as_constant,
    stored_complement,
    zero_grad_late,
    unweighted_mean,
    shallow_copy,
    once_per_loop,
    mode_ignored,
    mode_set_once,
    ema_swapped,
    none_ignored,
    variance_estimator,
)
