"""The mutation operators: small, mechanical changes of one syntax-tree node each. (The semantic
operators, misreadings of a contract that change several places at once, are in ``semantic.py``.)

An operator looks at one node of a definition and proposes ``Edit``s: text replacements of source
spans, so a mutant keeps every other character (comments, layout) of the solution and its diff shows
exactly one change. ``generate.py`` applies each proposal, re-parses the result and keeps it only if
its syntax tree is the intended one (the ``expected`` tree the operator also gives), so a splice can
never silently change more than the operator says.

Operators (label prefixes in mutant ids):

==================  ==========================================================================
``binop``           arithmetic operator swapped (``+``/``-``, ``*``/``/``, ``**``→``*``, ...), also
                    in augmented assignments (``+=`` → ``-=``)
``swap-operands``   operands of a non-commutative operator swapped (``1 - a`` → ``a - 1``)
``cmp``             comparison swapped (``<``/``<=``/``>``, ``==``/``!=``, ``is``/``is not``, ...)
``boolop``          ``and`` ↔ ``or``
``unary-drop``      unary ``-`` or ``not`` removed
``const``           number replaced (0 ↔ 1, n → n±1, c → 0 / 1 / c+1) or bool flipped
``stmt-drop``       a statement replaced by ``pass``
``swap-args``       two adjacent positional call arguments swapped
``inplace``         ``t.add(x)`` → ``t.add_(x)`` (any tensor method with an in-place twin)
``outofplace``      ``t.add_(x)`` → ``t.add(x)``
``drop-call``       ``x.clone()``, ``x.detach()``, ``x.contiguous()``, ``copy.deepcopy(x)`` → ``x``
``decorator-drop``  a decorator such as ``@torch.no_grad()`` removed
``with-drop``       ``with torch.no_grad():`` (or ``enable_grad``) removed, its body kept
``kwarg-drop``      a keyword argument removed (its default applies)
``kwarg-negate``    a keyword argument's value negated (``alpha=a`` → ``alpha=-a``)
``negate``          an ``if``/``while``/conditional-expression test negated
``return``          ``return v`` → ``return w`` for another local variable ``w``
==================  ==========================================================================
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Union

import torch

# --- what a proposal looks like -------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Replace the source characters ``[start, end)`` (absolute offsets) by ``text``; ``alt`` is the
    same replacement with parentheses, tried when the plain one parses to another tree."""

    start: int
    end: int
    text: str
    alt: str | None = None


Replacement = Union[ast.AST, list]  # noqa: UP007  (a node, or statements for a statement slot)


@dataclass(frozen=True)
class Proposal:
    """One mutation: its label, the line it is reported on, the text edits that make it, and
    ``expected``: applied to a copy of the mutated node, it returns what the node must become (the
    node itself after changing it, a new node, or a list of statements, or None to delete it). The
    spliced text must parse to exactly that tree. ``prelude``: module-level statements the edits also
    put right before the top-level definition (a semantic operator's private generator), checked too."""

    label: str
    line: int
    edits: tuple[Edit, ...]
    expected: Callable[[ast.AST], Replacement | None]
    prelude: str = ""


class Source:
    """The solution's text with offset helpers for ``ast`` positions (lines 1-based, cols in UTF-8)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        """Absolute character offset of an ``ast`` (line, UTF-8 byte column) position."""
        line = self.lines[lineno - 1]
        return self._starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        return self.text[self.start(node) : self.end(node)]

    def line_start(self, lineno: int) -> int:
        return self._starts[lineno - 1]


# --- operator tables ------------------------------------------------------------------------------

BINOP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult,),
    ast.FloorDiv: (ast.Div,),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
    ast.MatMult: (ast.Mult,),
}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
TOKEN_OF: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.MatMult: "@", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
    ast.NotIn: "not in", ast.And: "and", ast.Or: "or",
}  # fmt: skip
DROPPED_CALLS = ("clone", "detach", "detach_", "contiguous")
GRAD_MODE_CONTEXTS = ("no_grad", "enable_grad", "inference_mode")
KEPT_DECORATORS = ("staticmethod", "classmethod", "property")
TENSOR_METHODS = frozenset(name for name in dir(torch.Tensor) if not name.startswith("_"))


def _name(op: type) -> str:
    return op.__name__


def _dotted(node: ast.AST) -> str:
    """``torch.no_grad`` for an attribute chain of names, '' otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


# --- helpers that locate operator tokens (not part of the ast) ------------------------------------


def _operator_span(src: Source, start: int, end: int) -> tuple[int, int]:
    """The span of the operator token(s) between two operands: skip parentheses and comments."""
    middle = src.text[start:end]
    tokens = []
    readline = io.StringIO(middle).readline
    try:
        for tok in tokenize.generate_tokens(readline):
            if tok.type in (tokenize.OP, tokenize.NAME) and tok.string not in "()":
                tokens.append(tok)
    except (tokenize.TokenError, IndentationError):
        pass
    if not tokens:
        raise ValueError("no operator token")
    rel = Source(middle)
    first, last = tokens[0], tokens[-1]
    return start + rel.offset(first.start[0], first.start[1]), start + rel.offset(last.end[0], last.end[1])


def _replace_token(src: Source, left: ast.AST, right: ast.AST, text: str) -> Edit:
    a, b = _operator_span(src, src.end(left), src.start(right))
    return Edit(a, b, text)


# --- the operators --------------------------------------------------------------------------------
# Each takes (node, src, ctx) and yields Proposals for that node. ``ctx`` says what some need: the
# local variable names of the enclosing function.


@dataclass
class Context:
    locals: tuple[tuple[str, int], ...] = ()  # (name, line of its first binding) in the enclosing function


RETURN_ALTERNATIVES = 3

Operator = Callable[[ast.AST, Source, Context], Iterator[Proposal]]


def _setting(field: str, value) -> Callable[[ast.AST], ast.AST]:
    def apply(node: ast.AST) -> ast.AST:
        setattr(node, field, value)
        return node

    return apply


def _expr_edit(src: Source, node: ast.AST, text: str, prefix: str = "") -> Edit:
    """Replace ``node`` by ``prefix + text``, with ``prefix + (text)`` as the fallback."""
    return Edit(src.start(node), src.end(node), prefix + text, f"{prefix}({text})")


def binop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if isinstance(node, ast.BinOp):
        left, right, suffix = node.left, node.right, ""
    elif isinstance(node, ast.AugAssign):
        left, right, suffix = node.target, node.value, "="
    else:
        return
    for new in BINOP_SWAPS.get(type(node.op), ()):
        edit = _replace_token(src, left, right, TOKEN_OF[new] + suffix)
        yield Proposal(
            f"binop-{_name(type(node.op))}->{_name(new)}", node.lineno, (edit,), _setting("op", new())
        )


def swap_operands(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE)):
        return
    # The operands' texts with their own parentheses: everything left and right of the operator.
    op_start, op_end = _operator_span(src, src.end(node.left), src.start(node.right))
    left = src.text[src.start(node) : op_start].strip()
    right = src.text[op_end : src.end(node)].strip()
    if left == right:
        return

    def apply(n: ast.AST) -> ast.AST:
        n.left, n.right = n.right, n.left
        return n

    op = src.text[op_start:op_end]
    edit = Edit(src.start(node), src.end(node), f"{right} {op} {left}", f"({right}) {op} ({left})")
    yield Proposal(f"swap-operands-{_name(type(node.op))}", node.lineno, (edit,), apply)


def cmp(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.Compare):
        return
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        for new in CMP_SWAPS.get(type(op), ()):
            edit = _replace_token(src, operands[i], operands[i + 1], TOKEN_OF[new])

            def apply(n: ast.AST, i=i, new=new) -> ast.AST:
                n.ops[i] = new()
                return n

            yield Proposal(f"cmp-{_name(type(op))}->{_name(new)}", node.lineno, (edit,), apply)


def boolop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        edits = tuple(
            _replace_token(src, a, b, TOKEN_OF[new])
            for a, b in zip(node.values, node.values[1:], strict=False)
        )
        yield Proposal(
            f"boolop-{_name(type(node.op))}->{_name(new)}", node.lineno, edits, _setting("op", new())
        )


def unary_drop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not))):
        return
    if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return  # ``-1``: the const operator already makes ``1``
    yield Proposal(
        f"unary-drop-{_name(type(node.op))}",
        node.lineno,
        (_expr_edit(src, node, src.segment(node.operand)),),
        lambda n: n.operand,
    )


def const(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.Constant):
        return
    value = node.value
    if isinstance(value, bool):
        news: list = [not value]
    elif isinstance(value, int):
        news = [value + 1, value - 1]
    elif isinstance(value, float):
        news = [0.0, 1.0, value + 1.0]
    else:
        return
    for new in dict.fromkeys(n for n in news if repr(n) != repr(value)):
        edit = Edit(src.start(node), src.end(node), repr(new), f"({new!r})")
        yield Proposal(f"const-{value!r}->{new!r}", node.lineno, (edit,), _constant(new))


def _constant(value) -> Callable[[ast.AST], ast.AST]:
    """The tree of a literal: ``-1`` parses as ``-(1)``."""
    if value < 0:
        return lambda n: ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return lambda n: ast.Constant(value)


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def stmt_drop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.stmt) or isinstance(node, ast.Pass) or _is_docstring(node):
        return
    start = src.start(node)
    decorators = getattr(node, "decorator_list", [])
    if decorators:  # a decorated def starts at its first decorator's '@'
        start = src.text.rindex("@", 0, src.start(decorators[0]) + 1)
    yield Proposal(
        f"stmt-drop-{type(node).__name__}",
        node.lineno,
        (Edit(start, src.end(node), "pass"),),
        lambda n: ast.Pass(),
    )


def swap_args(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.Call):
        return
    for i, (a, b) in enumerate(zip(node.args, node.args[1:], strict=False)):
        if isinstance(a, ast.Starred) or isinstance(b, ast.Starred):
            continue
        ta, tb = src.segment(a), src.segment(b)
        if ta == tb:
            continue

        def apply(n: ast.AST, i=i) -> ast.AST:
            n.args[i], n.args[i + 1] = n.args[i + 1], n.args[i]
            return n

        edits = (Edit(src.start(a), src.end(a), tb), Edit(src.start(b), src.end(b), ta))
        yield Proposal(f"swap-args-{i}-{i + 1}", node.lineno, edits, apply)


NOT_TENSORS = ("torch.nn", "nn", "F", "torch.nn.functional", "math", "copy", "self", "super")


def inplace(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return
    attr, receiver = node.func.attr, _dotted(node.func.value)
    if receiver in NOT_TENSORS:
        return
    if attr.endswith("_") and not attr.endswith("__") and attr[:-1] in TENSOR_METHODS:
        new, label = attr[:-1], "outofplace"
    elif not attr.endswith("_") and attr + "_" in TENSOR_METHODS:
        if receiver == "torch" and not hasattr(torch, attr + "_"):
            return
        new, label = attr + "_", "inplace"
    else:
        return
    end = src.end(node.func)
    yield Proposal(
        f"{label}-{attr}->{new}",
        node.lineno,
        (Edit(end - len(attr), end, new),),
        lambda n: (setattr(n.func, "attr", new), n)[1],
    )


def drop_call(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return
    if node.func.attr in DROPPED_CALLS and not node.args and not node.keywords:
        inner = node.func.value
        keep = lambda n: n.func.value  # noqa: E731
    elif _dotted(node.func) in ("copy.deepcopy", "copy.copy") and len(node.args) == 1 and not node.keywords:
        inner = node.args[0]
        keep = lambda n: n.args[0]  # noqa: E731
    else:
        return
    yield Proposal(
        f"drop-call-{node.func.attr}", node.lineno, (_expr_edit(src, node, src.segment(inner)),), keep
    )


def decorator_drop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    for i, dec in enumerate(node.decorator_list):
        name = _dotted(dec.func if isinstance(dec, ast.Call) else dec)
        if not name or name in KEPT_DECORATORS:
            continue
        if dec.lineno != dec.end_lineno or not src.lines[dec.lineno - 1].strip().startswith("@"):
            continue  # only a decorator on a line of its own (the whole line goes)

        def apply(n: ast.AST, i=i) -> ast.AST:
            del n.decorator_list[i]
            return n

        edit = Edit(src.line_start(dec.lineno), src.line_start(dec.lineno + 1), "")
        yield Proposal(f"decorator-drop-{name}", dec.lineno, (edit,), apply)


def with_drop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.With) or len(node.items) != 1 or node.items[0].optional_vars is not None:
        return
    expr = node.items[0].context_expr
    name = _dotted(expr.func if isinstance(expr, ast.Call) else expr)
    first = node.body[0]
    if name.rsplit(".", 1)[-1] not in GRAD_MODE_CONTEXTS or first.lineno == node.lineno:
        return
    # Remove the header line(s) and dedent the body by one level.
    indent = first.col_offset - node.col_offset
    edits = [Edit(src.line_start(node.lineno), src.line_start(first.lineno), "")]
    for lineno in range(first.lineno, node.end_lineno + 1):
        line = src.lines[lineno - 1]
        if line.strip() and line[:indent].strip() == "":
            edits.append(Edit(src.line_start(lineno), src.line_start(lineno) + indent, ""))
    yield Proposal(f"with-drop-{name}", node.lineno, tuple(edits), lambda n: list(n.body))


def kwarg_drop(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.Call):
        return
    elements = sorted([*node.args, *node.keywords], key=lambda e: (e.lineno, e.col_offset))
    for i, kw in enumerate(elements):
        if not isinstance(kw, ast.keyword) or kw.arg is None:
            continue
        if i > 0:  # from the end of the previous element: removes ", name=value"
            start, end = src.end(elements[i - 1]), src.end(kw)
        elif len(elements) > 1:  # the first element: removes "name=value, "
            start, end = src.start(kw), src.start(elements[1])
        else:
            start, end = src.start(kw), src.end(kw)

        def apply(n: ast.AST, arg=kw.arg) -> ast.AST:
            n.keywords = [k for k in n.keywords if k.arg != arg]
            return n

        yield Proposal(f"kwarg-drop-{kw.arg}", kw.lineno, (Edit(start, end, ""),), apply)


def _numeric_expression(value: ast.AST) -> bool:
    """A keyword value that may be a number: not a literal of another type, not a torch constant."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float)) and not isinstance(value.value, bool)
    if isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Lambda, ast.JoinedStr, ast.Compare)):
        return False
    return not _dotted(value).startswith("torch.")  # torch.preserve_format, torch.long, ...


# Keyword arguments whose values are never numbers to negate (devices, dtypes, generators, flags).
NOT_NUMBERS = frozenset(
    {
        "device",
        "dtype",
        "generator",
        "memory_format",
        "out",
        "layout",
        "requires_grad",
        "keepdim",
        "unbiased",
        "shuffle",
        "dim",
        "non_blocking",
    }
)


def kwarg_negate(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, ast.Call):
        return
    for kw in node.keywords:
        if kw.arg is None or kw.arg in NOT_NUMBERS or not _numeric_expression(kw.value):
            continue

        def apply(n: ast.AST, arg=kw.arg) -> ast.AST:
            for k in n.keywords:
                if k.arg == arg:
                    k.value = ast.UnaryOp(ast.USub(), k.value)
            return n

        yield Proposal(
            f"kwarg-negate-{kw.arg}",
            kw.lineno,
            (_expr_edit(src, kw.value, src.segment(kw.value), prefix="-"),),
            apply,
        )


def negate(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not isinstance(node, (ast.If, ast.While, ast.IfExp)):
        return
    kind = {ast.If: "if", ast.While: "while", ast.IfExp: "ifexp"}[type(node)]

    def apply(n: ast.AST) -> ast.AST:
        n.test = ast.UnaryOp(ast.Not(), n.test)
        return n

    yield Proposal(
        f"negate-{kind}",
        node.test.lineno,
        (_expr_edit(src, node.test, src.segment(node.test), prefix="not "),),
        apply,
    )


def return_other(node: ast.AST, src: Source, ctx: Context) -> Iterator[Proposal]:
    if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Name)):
        return
    # The variables assigned last before this line are the plausible confusions (at most three).
    before = [name for name, line in ctx.locals if line < node.lineno and name != node.value.id]
    for other in before[-RETURN_ALTERNATIVES:]:
        yield Proposal(
            f"return-{node.value.id}->{other}",
            node.lineno,
            (Edit(src.start(node.value), src.end(node.value), other),),
            _setting("value", ast.Name(other, ast.Load())),
        )


OPERATORS: tuple[Operator, ...] = (
    binop,
    swap_operands,
    cmp,
    boolop,
    unary_drop,
    const,
    stmt_drop,
    swap_args,
    inplace,
    drop_call,
    decorator_drop,
    with_drop,
    kwarg_drop,
    kwarg_negate,
    negate,
    return_other,
)
