"""Interface facts of a graded name, read from the submission's syntax tree on the trusted side.

Nothing the worker says about itself is trusted: the student's code could answer a question about its
own signature or base class with anything. So the interface lines read the ``class``/``def``
statement itself: base classes resolved through the file's imports (and through same-file base
classes) to torch's own classes *in the grader's process*, the ``__init__`` (or function) signature
with defaults read by ``ast.literal_eval`` (anything else, e.g. ``torch.optim.optimizer.required``, is
reported as the source text it is), and which methods a class defines and whether they are
``@staticmethod``. The facts come in the shape the interface checks consume (``describe``).
Constructing the object stays a behavioural check in the worker.

One checker judges those facts for every family: an ``InterfaceSpec`` row says what the graded name
must be (a class with a torch base, or a function), which parameters come first and in what order,
and every parameter's default; ``problems`` lists what is wrong, ``require`` fails with them.
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any

import torch

from ..policy import dotted, top_level_bindings
from .base import Fail

# What the interface facts are read from: setting one of these after the definition hides the truth.
INTERFACE_ATTRIBUTES = frozenset({"__init__", "__new__", "__call__", "__signature__", "__text_signature__",
                                  "__defaults__", "__kwdefaults__", "__code__", "__wrapped__", "__bases__",
                                  "forward", "backward"})


@dataclass(frozen=True)
class NonLiteral:
    """A default that is not a literal (a name, a call): only its source text is known."""

    source: str

    def __repr__(self) -> str:
        return self.source


def same_default(got: Any, want: Any) -> bool:
    """Whether a default read from the source equals the one asked for: numbers by value (torch writes
    ``momentum=0``, an int, where the spec says ``0.0``), bools and None by identity, tuples and lists
    elementwise."""
    if isinstance(want, bool) or want is None:
        return got is want
    if isinstance(want, (int, float)):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(got) == float(want)
    if isinstance(want, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(want)
                and all(same_default(g, w) for g, w in zip(got, want, strict=True)))
    return not isinstance(got, NonLiteral) and type(got) is type(want) and got == want


def _default(node: ast.expr, source: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NonLiteral(ast.get_source_segment(source, node) or ast.unparse(node))


def signature_of(fn: ast.FunctionDef | ast.AsyncFunctionDef, source: str, *, drop_first: bool) -> list[dict]:
    """Parameters of a ``def`` as ``{name, kind, has_default, default}`` (``inspect`` kinds)."""
    args = fn.args
    params: list[dict] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for i, a in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(args.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        has = i >= first_default
        params.append({"name": a.arg, "kind": kind, "has_default": has,
                       "default": _default(args.defaults[i - first_default], source) if has else None})
    if args.vararg:
        params.append({"name": args.vararg.arg, "kind": "VAR_POSITIONAL", "has_default": False,
                       "default": None})
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append({"name": a.arg, "kind": "KEYWORD_ONLY", "has_default": d is not None,
                       "default": _default(d, source) if d is not None else None})
    if args.kwarg:
        params.append({"name": args.kwarg.arg, "kind": "VAR_KEYWORD", "has_default": False, "default": None})
    return params[1:] if drop_first else params


def resolve(path: str) -> object | None:
    """The object a dotted torch name denotes in the grader's process: attributes from ``torch``, or an
    imported module (``torch.optim.sgd`` is not an attribute of ``torch.optim``). Runs no import."""
    obj: object = torch
    prefix = "torch"
    for part in path.split(".")[1:]:
        prefix = f"{prefix}.{part}"
        obj = getattr(obj, part, None) or sys.modules.get(prefix)
        if obj is None:
            return None
    return obj


def _torch_object(path: str | None) -> Any:
    """The torch object a dotted name denotes (None for anything that is not torch's)."""
    if not path or path.split(".")[0] != "torch":
        return None
    return resolve(path)


def _inspect_signature(obj: Any) -> list[dict] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [{"name": p.name, "kind": p.kind.name, "has_default": p.default is not p.empty,
             "default": p.default if p.default is not p.empty else None} for p in sig.parameters.values()]


def _is_staticmethod(fn: ast.AST, aliases: dict[str, str]) -> bool:
    return any((isinstance(d, ast.Name) and d.id == "staticmethod" and d.id not in aliases)
               for d in getattr(fn, "decorator_list", []))


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The methods a class body defines (the last definition of a name wins, as at run time)."""
    out = {}
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[stmt.name] = stmt
    return out


class SourceFacts:
    """Interface facts of the graded names of one submission (a parsed module and its imports)."""

    def __init__(self, tree: ast.Module, source: str, aliases: dict[str, str]) -> None:
        self.tree, self.source, self.aliases = tree, source, aliases
        self.bindings = top_level_bindings(tree)

    def plain_definition(self, name: str) -> ast.AST | str:
        """The top-level ``class``/``def`` statement that defines ``name``, or why there is none. Later
        statements that only set other attributes (``SGD.__doc__ = ...``, as torch's files do) are
        fine; rebinding the name or setting what the interface is read from is not."""
        stmts = [s for s in self.bindings.get(name, []) if not self._harmless_later(s, name)]
        if not stmts:
            return f"`{name}` is not defined at the top level of your submission"
        last = max(stmts, key=lambda s: (s.lineno, getattr(s, "col_offset", 0)))
        if isinstance(last, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and last in self.tree.body:
            return last
        return (f"`{name}` is not a plain top-level `class` or `def` statement (it is last set by "
                f"line {last.lineno}: `{ast.get_source_segment(self.source, last) or ''}`"[:300]
                + "), so its interface cannot be read from your code: define it with `class`/`def` at the "
                "top level of a cell and change nothing about it afterwards")

    @staticmethod
    def _harmless_later(stmt: ast.AST, name: str) -> bool:
        """An assignment to attributes of ``name`` other than the ones the interface is read from."""
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            return False
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return all(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == name
                   and t.attr not in INTERFACE_ATTRIBUTES for t in targets)

    def _class_chain(self, cls: ast.ClassDef, seen: set[str]) -> tuple[list[ast.ClassDef], list[Any]]:
        """Same-file classes from ``cls`` up its bases (first base first), and the torch classes at the
        top of the chain (resolved in this process; None for a base that is neither)."""
        chain, external = [cls], []
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id not in self.aliases and base.id not in seen:
                parent = self.plain_definition(base.id)
                if isinstance(parent, ast.ClassDef):
                    sub_chain, sub_ext = self._class_chain(parent, seen | {base.id})
                    chain += sub_chain
                    external += sub_ext
                    continue
            external.append(_torch_object(dotted(base, self.aliases)))
        return chain, external

    def describe(self, name: str, methods: tuple[str, ...] = ()) -> dict:
        """``{is_class, callable, mro, own, staticmethods, methods, signature}`` of ``name``; raises
        ``Fail`` when ``name`` is not a plain top-level definition."""
        node = self.plain_definition(name)
        if isinstance(node, str):
            raise Fail(node)
        if not isinstance(node, ast.ClassDef):
            return {"is_class": False, "callable": True, "mro": [], "own": [], "staticmethods": [],
                    "methods": {}, "signature": signature_of(node, self.source, drop_first=False)}
        chain, external = self._class_chain(node, {name})
        mro = [c.name for c in chain]
        for cls in external:
            if isinstance(cls, type):
                mro += [f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__ if c.__qualname__ not in mro]
        own = _methods(node)
        signature = None
        for cls in chain:  # the nearest __init__ written in this file, else the torch base's
            init = _methods(cls).get("__init__")
            if init is not None:
                static = _is_staticmethod(init, self.aliases)
                signature = signature_of(init, self.source, drop_first=not static)
                break
        else:
            bases = [c for c in external if isinstance(c, type)]
            signature = _inspect_signature(bases[0]) if bases else []
        own_names = sorted(set(own) | {t.id for s in node.body if isinstance(s, (ast.Assign, ast.AnnAssign))
                                       for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                                       if isinstance(t, ast.Name)})
        return {
            "is_class": True,
            "callable": True,
            "mro": mro,
            "own": own_names,
            "staticmethods": sorted(m for m, fn in own.items() if _is_staticmethod(fn, self.aliases)),
            "methods": {m: signature_of(own[m], self.source, drop_first=False) for m in methods if m in own},
            "signature": signature,
        }


# --- the one interface checker ----------------------------------------------------------------------

REQUIRED = NonLiteral("required")  # a parameter that must have no default
_VARIADIC = ("VAR_POSITIONAL", "VAR_KEYWORD")


@dataclass(frozen=True)
class InterfaceSpec:
    """What a graded name must look like.

    ``kind`` "class" (subclassing ``base``, its dotted name in the MRO; ``base_label`` for feedback) or
    "function". ``positional``: parameters that must come first, in this order, as positional
    parameters (the grader passes them positionally). ``params``: (name, default) of every parameter
    the contract names, ``REQUIRED`` for one without a default; any other parameter must be optional.
    ``ordered``: the named parameters must also come in the order of ``params`` (checked when nothing
    else is wrong). ``expected`` is the contract as feedback shows it."""

    name: str
    kind: str
    expected: str
    base: str = ""
    base_label: str = ""
    positional: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    ordered: bool = False
    methods: tuple[str, ...] = field(default=())  # methods whose signatures ``describe`` adds
    signature: bool = True  # False: the constructor's parameters are not part of the contract


def _kind_problem(info: dict, spec: InterfaceSpec) -> str | None:
    if spec.kind == "function":
        if info.get("is_class") or not info.get("callable"):
            return f"`{spec.name}` must be a function"
        return None
    if not info.get("is_class") or spec.base not in info.get("mro", []):
        return f"`{spec.name}` must be a class that subclasses {spec.base_label}"
    return None


def _param_problem(name: str, default: Any, p: dict | None) -> str | None:
    if p is None:
        return f"missing parameter `{name}`" + ("" if default is REQUIRED else f" (default {default!r})")
    if default is REQUIRED:
        return f"`{name}` must be required (no default), not default to {p['default']!r}" \
            if p["has_default"] else None
    if not p["has_default"] or not same_default(p["default"], default):
        got = f"not {p['default']!r}" if p["has_default"] else "but it has no default"
        return f"parameter `{name}` should default to {default!r}, {got}"
    return None


def problems(info: dict, spec: InterfaceSpec) -> list[str]:
    """What is wrong with the interface facts ``info`` (``SourceFacts.describe``) of ``spec.name``."""
    found = [why for why in [_kind_problem(info, spec)] if why]
    if not spec.signature:
        return found
    params = info.get("signature") or []
    by_name = {p["name"]: p for p in params}
    positional = [p["name"] for p in params if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    wanted = list(spec.positional)
    if positional[: len(wanted)] != wanted:
        found.append(f"the parameters must start with {', '.join(wanted)} (in this order); "
                     f"yours start with {', '.join(positional[: len(wanted)]) or 'nothing'}")
    for name, default in spec.params:
        why = _param_problem(name, default, by_name.get(name))
        if why:
            found.append(why)
    named = [n for n, _ in spec.params]
    plain = [p["name"] for p in params if p["kind"] not in _VARIADIC]
    if spec.ordered and not found and plain and named and plain[: len(named)] != named:
        found.append(f"the parameters should come in this order: {', '.join(named)}")
    known = set(wanted) | set(named)
    extra = [p["name"] for p in params
             if p["name"] not in known and not p["has_default"] and p["kind"] not in _VARIADIC]
    if extra:
        found.append(f"extra parameters must be optional: {', '.join(extra)}")
    return found


def fail_with(spec: InterfaceSpec, found: list[str]) -> None:
    """Raise ``Fail`` listing ``found`` under the contract, if anything was found."""
    if found:
        raise Fail(f"expected {spec.expected}:\n- " + "\n- ".join(found))


def require(describe, spec: InterfaceSpec) -> dict:
    """The facts of ``spec.name`` (``describe(name, methods)``, e.g. ``CheckContext.describe``); ``Fail``
    when they break the contract."""
    info = describe(spec.name, spec.methods)
    fail_with(spec, problems(info, spec))
    return info
