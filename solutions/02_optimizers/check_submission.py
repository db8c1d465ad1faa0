"""What a submission may use: the kit's submission policy, decided on the syntax tree before any of
its code runs. Standalone (standard library only, no kit imports): the grader uses it, every released
notebook ships a copy as ``check_submission.py``, and the sandboxed worker gets its runtime tables.

    python check_submission.py 02_optimizers.ipynb      # or optimizers.py

Two kinds of findings:

- **delegation** (status ``forbidden``): a graded definition, or a same-file helper it uses, names
  torch's own implementation of the graded computation (``torch.optim.Adam``, ``F.batch_norm``, ...)
  or imports the kit. Using torch's optimizers or layers in module-level experiment code is fine;
  only what a graded definition can reach counts.
- **policy violations** (status ``review``: 0 points until a TA has read the lines and granted them):
  imports outside the allowlist, dunder attributes outside the allowlist, frame/code/closure
  introspection, private torch internals (beyond the curated list below), torch namespaces that reach
  the dispatcher, code loading or global state, dynamic names and code (``eval``, computed
  ``getattr``, ...) and monkeypatching of imported modules or classes. A violation inside a top-level
  definition concerns that definition and every graded name that uses it; one at module level
  concerns every graded name.

The tables below (this file) are the whole policy; ``report.py`` matches names against them,
``visitor.py`` walks the syntax tree, ``notebook.py`` reads notebooks as the grader does and ``cli.py``
is the command line. ``make release`` joins the five into the one standalone ``check_submission.py``.
The tables below are the whole policy. Dotted patterns are matched segment by segment with shell
wildcards (``torch.*dropout*`` is ``torch.dropout_`` and ``torch.native_dropout``, never
``torch.nn.Dropout``); a pattern matches a name and everything below it.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field


# ============================== policy/tables.py ======================================================

# --- imports ------------------------------------------------------------------------------------------
# Packages (with everything below them) a submission may import: torch, the standard library modules
# numerical code and experiments use, and the plotting and data libraries of the notebooks.
ALLOWED_IMPORTS = frozenset({
    "__future__", "abc", "bisect", "cmath", "collections", "contextlib", "copy", "dataclasses", "decimal",
    "enum", "fractions", "functools", "heapq", "itertools", "math", "numbers", "operator", "pprint",
    "random", "statistics", "string", "textwrap", "time", "typing", "typing_extensions", "warnings",
    "torch", "numpy", "matplotlib", "sklearn.datasets", "tqdm",
})
# Parts of allowed packages that are not: code loading, foreign memory, compilers, serialization.
BANNED_NAMESPACES = frozenset({
    "torch.ops", "torch.library", "torch.overrides", "torch.fx", "torch.jit", "torch.hub", "torch.load",
    "torch.save", "torch.serialization", "torch.from_file", "torch.multiprocessing", "torch.distributed",
    "torch.compile", "torch.compiler", "torch.export", "torch.package", "torch.classes",
    "torch.utils.cpp_extension", "torch.utils.hooks", "torch.cuda.graphs", "torch.autograd.graph",
    "torch.nn.modules.module.register_module_*", "torch.optim.optimizer.register_optimizer_*",
    "torch.set_default_tensor_type", "torch.set_default_device",
    "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.load", "numpy.lib",
    "matplotlib.use", "matplotlib.pyplot.switch_backend", "operator.attrgetter", "operator.methodcaller",
    "typing.get_type_hints", "typing.ForwardRef", "typing_extensions.get_type_hints",
    "typing_extensions.ForwardRef", "functools.singledispatch", "functools.singledispatchmethod",
})
# Public torch names that live in banned namespaces but are plain predicates, used by torch's own code.
ALLOWED_IN_BANNED = frozenset({"torch.jit.is_scripting", "torch.compiler.is_compiling"})
# Private torch names (a segment starting with "_") a submission may use: the public foreach ops, and the
# utilities of torch.optim.optimizer that torch's own optimizer files import (decorators, docstrings,
# scalar helpers, device grouping). None of them computes an update. torch._fused_* are the fused
# optimizer kernels: naming them is allowed (torch's code keeps them behind its ``fused`` flag, which
# the grader never sets); running one while a graded name is graded is delegation (a runtime tripwire).
ALLOWED_PRIVATE = frozenset({
    "torch._foreach_*", "torch._fused_*", "torch.optim.lr_scheduler._LRScheduler",
    "torch.optim.optimizer._use_grad_for_differentiable", "torch.optim.optimizer._get_value",
    "torch.optim.optimizer._dispatch_sqrt", "torch.optim.optimizer._default_to_fused_or_foreach",
    "torch.optim.optimizer._get_scalar_dtype", "torch.optim.optimizer._to_scalar",
    "torch.optim.optimizer._*_doc", "torch.optim.optimizer._view_as_real",
    "torch.optim.optimizer._stack_if_compiling", "torch.optim.optimizer._get_capturable_supported_devices",
    "torch.optim.optimizer._device_dtype_check_for_fused",
    "torch.optim.optimizer._disable_dynamo_if_unsupported",
    *(f"{base}.{helper}" for base in ("torch.optim.Optimizer", "torch.optim.optimizer.Optimizer")
      for helper in ("_group_tensors_by_device_and_dtype", "_cuda_graph_capture_health_check")),
    "torch.utils._foreach_utils._get_fused_kernels_supported_devices",
    "torch.utils._foreach_utils._get_foreach_kernels_supported_devices",
    "torch.nn.modules.module.Module._*", "torch.nn.Module._*",
})

# --- attributes and names -----------------------------------------------------------------------------
# Dunder attributes a submission may touch; every other one (__dict__, __globals__, __code__,
# __closure__, __subclasses__, __mro__, __bases__, __wrapped__, __self__, __func__, __getattribute__,
# __reduce__, __builtins__, __import__, __loader__, ...) is an introspection door.
ALLOWED_DUNDERS = frozenset({
    "__init__", "__name__", "__qualname__", "__doc__", "__module__", "__class__", "__version__", "__all__",
    "__file__", "__debug__", "__repr__", "__str__", "__format__", "__len__", "__iter__", "__next__",
    "__getitem__", "__setitem__", "__contains__", "__enter__", "__exit__", "__call__", "__setstate__",
    "__getstate__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__",
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__",
    "__truediv__", "__rtruediv__", "__itruediv__", "__neg__", "__pos__", "__abs__", "__pow__", "__rpow__",
    "__matmul__", "__rmatmul__", "__float__", "__int__", "__index__", "__new__", "__post_init__",
    "__init_subclass__",
})
# Attributes of frames, generators, coroutines, tracebacks, code objects and closure cells.
BANNED_ATTRIBUTES = frozenset({
    "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace", "f_lasti", "f_lineno",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "tb_frame", "tb_next", "co_code", "co_consts", "co_names", "co_varnames", "cell_contents",
    "func_globals", "func_code", "im_func", "im_self",
})
# Module names that must not be reached at all: importing them, or reaching one as an attribute of an
# allowed module (``torch.sys``, ``F.torch``, ``np.ctypeslib.ctypes``): the interpreter, the file
# system, processes, memory, code objects, serialization.
BANNED_MODULES = frozenset({
    "sys", "os", "posix", "nt", "importlib", "imp", "ctypes", "gc", "inspect", "pickle", "cPickle",
    "marshal", "builtins", "__builtin__", "subprocess", "socket", "threading", "_thread", "multiprocessing",
    "signal", "types", "codeop", "pathlib", "io", "shutil", "tempfile", "dis", "traceback",
    "linecache", "runpy", "pkgutil", "zipimport", "site", "atexit", "faulthandler", "tracemalloc",
    "resource", "fcntl", "mmap", "select", "weakref", "copyreg", "shelve", "dbm", "sqlite3", "asyncio",
    "concurrent", "ctypeslib", "torch",
})
# Builtins that run code, reach namespaces or the outside world.
BANNED_BUILTINS = frozenset({
    "eval", "exec", "compile", "globals", "vars", "locals", "open", "breakpoint", "input", "__import__",
    "help", "memoryview",
})
DYNAMIC_ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
# Global knobs of imported modules a submission may set (experiments tune them; grading does not care).
ASSIGNABLE = frozenset({"torch.backends"})

# --- delegation ---------------------------------------------------------------------------------------
_OPTIMIZERS = ("SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam",
               "ASGD", "LBFGS", "Rprop", "SparseAdam", "Adafactor", "Muon")
# torch's own implementations of the graded computations. Reaching one from a graded definition (or a
# helper it uses) makes that graded name ``forbidden``. torch.optim.lr_scheduler's classes are listed by
# exclusion in DELEGATION_SCHEDULERS.
DELEGATION = frozenset({
    *(f"torch.optim.{name}" for name in _OPTIMIZERS),
    *(f"torch.optim.{module}" for module in ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta",
                                             "adamax", "nadam", "radam", "asgd", "lbfgs", "rprop",
                                             "sparse_adam", "_adafactor", "_muon")),
    "torch.optim._functional", "torch.optim._multi_tensor",
    "torch.*batch_norm*", "torch.*instance_norm*", "torch.*layer_norm*", "torch.*group_norm*",
    "torch.*dropout*", "torch.nn.functional.*batch_norm*", "torch.nn.functional.*instance_norm*",
    "torch.nn.functional.*layer_norm*", "torch.nn.functional.*group_norm*",
    "torch.nn.functional.*dropout*", "torch.nn.*BatchNorm*", "torch.nn.*InstanceNorm*",
    "torch.nn.*Dropout*", "torch.nn.LayerNorm", "torch.nn.GroupNorm", "torch.nn.modules.batchnorm",
    "torch.nn.modules.instancenorm", "torch.nn.modules.normalization", "torch.nn.modules.dropout",
    "torch._VF", "torch._C", "torch.ops", "torch._fused_*",
})
DELEGATION_SCHEDULERS = "torch.optim.lr_scheduler"
ALLOWED_SCHEDULERS = frozenset({"LRScheduler", "_LRScheduler"})
KIT_PACKAGES = frozenset({"reference", "autograder", "kitworker", "solutions"})

# --- runtime tripwires (installed in the sandboxed worker from these tables) ---------------------------
# aten operators (overload packet names) that only torch's own implementations of the graded
# components dispatch: seen by a dispatch mode around the student's code.
RUNTIME_OPS = frozenset({
    "*batch_norm*", "*instance_norm*", "*layer_norm*", "*group_norm*", "*dropout*", "_fused_*",
})
# Python entry points wrapped in the worker (classes: their __init__; modules: the callables of __all__).
RUNTIME_ENTRY_POINTS = tuple(sorted(
    {f"torch.optim.{name}" for name in _OPTIMIZERS}
    | {"torch.optim.sgd", "torch.optim.adam", "torch.optim.adagrad", "torch.optim.rmsprop",
       "torch.optim.lr_scheduler.*", "torch.nn.functional.*batch_norm*", "torch.nn.functional.*dropout*",
       "torch.*batch_norm*", "torch.*dropout*", "torch.nn.*BatchNorm*", "torch.nn.*Dropout*"}
))


# ============================== policy/notebook.py ====================================================
# How the kit reads a notebook: nbgrader's cell conventions and IPython's extra syntax, in one place.
#
# The grader's loader, ``make release``, the nbgrader plugin, the mutation tool and the shipped
# ``check_submission.py`` all read notebooks through these functions, so what a student checks before
# submitting is exactly what the grader grades.
#
# - A solution cell has nbgrader metadata ``solution: true`` (and is not graded); a test cell has
#   ``grade: true, solution: false`` and the ``grade_id`` ``test_<GradedName>``; the grader skips test
#   cells and cells tagged ``experiment`` (plots, training runs).
# - The graded code is the remaining code cells in order, each ending with one newline.
# - IPython-only lines are blanked, keeping every line number: line magics, ``!`` shell lines,
#   ``x = !cmd`` / ``x = %magic``, ``obj?`` help and ``get_ipython()`` lines; ``%time stmt`` keeps
#   ``stmt``; a cell that starts with a cell magic loses its magic line, and its whole body unless the
#   magic runs Python in the notebook's namespace.

TEST_PREFIX = "test_"
EXPERIMENT_TAG = "experiment"


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata (empty for an ordinary cell; dicts and nbformat nodes alike)."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return dict(nbgrader) if isinstance(nbgrader, dict) else {}


def is_solution_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade")


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not a solution (what the grader skips)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def tested_name(cell) -> str | None:
    """The graded name a test cell grades (``grade_id`` ``test_<Name>``), None for any other cell."""
    grade_id = nbgrader_meta(cell).get("grade_id", "")
    if cell.get("cell_type") != "code" or not is_test_cell(cell) or not str(grade_id).startswith(TEST_PREFIX):
        return None
    return grade_id[len(TEST_PREFIX):]


def is_experiment_cell(cell) -> bool:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return EXPERIMENT_TAG in ((meta.get("tags") if isinstance(meta, dict) else None) or [])


def graded_source(cells) -> tuple[str, list[tuple[int, int]]]:
    """The code the grader reads from a notebook's cells: code cells that are neither test cells nor
    experiments, in order; with (cell index, first line) of each cell used."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell) or is_experiment_cell(cell):
            continue
        src = cell.get("source", "")
        src = ("".join(src) if isinstance(src, list) else str(src)).rstrip("\n") + "\n"
        starts.append((index, line))
        parts.append(src)
        line += src.count("\n")
    return "".join(parts), starts


# Cell magics whose body is Python run in the notebook's own namespace: the body is graded, only the
# magic line goes. Every other cell magic (%%bash, %%html, %%writefile, %%javascript, %%latex, %%timeit,
# ...) runs its body as something else, or in a namespace of its own, so its whole cell is dropped.
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "capture", "prun"})
_CELL_MAGIC = re.compile(r"^%%(\w+)")
# `%time stmt` runs `stmt` in the notebook's namespace: keep the statement.
_TIME_LINE = re.compile(r"^(\s*)%time\s+(\S.*)$")
_MAGIC = re.compile(r"^\s*(%|!)")
_SHELL_ASSIGN = re.compile(r"^\s*[\w.\[\], ]+=\s*(%|!)")  # files = !ls, t = %timeit -o f()
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")  # torch.optim? / ??SGD
_IPYTHON = re.compile(r"\bget_ipython\s*\(\s*\)")
DROPPED = "pass  # (IPython line dropped by the grader)"


def _drop_cell_magics(lines: list[str], first_lines: list[int]) -> None:
    """A cell whose first line is a cell magic: drop the magic line, and the body too unless it is Python."""
    starts = [first - 1 for first in first_lines]
    for start, end in zip(starts, [*starts[1:], len(lines)][: len(starts)], strict=True):
        first = next((i for i in range(start, end) if lines[i].strip()), None)
        match = _CELL_MAGIC.match(lines[first].strip()) if first is not None else None
        if not match:
            continue
        if match.group(1) in PYTHON_BODY_CELL_MAGICS:
            lines[first] = ""
        else:  # blank lines, not removed ones: every later line keeps its number
            lines[start:end] = [""] * (end - start)


def _drop_line(text: str) -> str:
    """What replaces one IPython-only line; an indented one may be the only statement of a block."""
    indent = text[: len(text) - len(text.lstrip())]
    return f"{indent}{DROPPED}" if indent else ""


def drop_magics(source: str, first_lines: list[int] = ()) -> str:
    """``source`` with what only IPython understands blanked, every line keeping its number.
    ``first_lines``: the 1-based first line of each notebook cell in ``source`` (none for a .py file)."""
    lines = source.split("\n")
    _drop_cell_magics(lines, list(first_lines))
    out = []
    for text in lines:
        timed = _TIME_LINE.match(text)
        if timed:
            out.append(timed.group(1) + timed.group(2))
        elif _MAGIC.match(text) or _SHELL_ASSIGN.match(text) or _HELP.match(text) or _IPYTHON.search(text):
            out.append(_drop_line(text))
        else:
            out.append(text)
    return "\n".join(out)


# ============================== policy/report.py ======================================================
# What the policy found in one file (``PolicyReport``), and how a dotted name is judged against the
# tables: delegation to torch's own implementation, or a policy violation.

@dataclass(frozen=True)
class Violation:
    """One policy violation: where (1-based line), what, the code of that line, and the top-level
    definition it sits in (``None``: module level)."""

    line: int
    what: str
    code: str
    owner: str | None


@dataclass
class PolicyReport:
    """What the policy found in one source file."""

    forbidden: dict[str, str] = field(default_factory=dict)  # top-level name or "*" -> reason
    violations: list[Violation] = field(default_factory=list)
    uses: dict[str, set[str]] = field(default_factory=dict)  # top-level name -> names it references
    source: str = ""  # the source the report is about
    definitions: list[str] = field(default_factory=list)  # top-level def and class names, in order
    aliases: dict[str, str] = field(default_factory=dict)  # imported name -> dotted name

    def forbidden_reason(self, name: str) -> str | None:
        return self.forbidden.get(name) or self.forbidden.get("*")

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
        """The violations that concern graded name ``name``: module level, and in every definition it
        reaches."""
        mine = set(self.reachable(name))
        return [v for v in self.violations if v.owner is None or v.owner in mine]

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
        return None  # delegation, reported as forbidden
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


def verdicts(report: PolicyReport, names) -> dict[str, tuple[str, str, list[Violation]]]:
    """Per graded name with a finding: (status, reason, violations) as the grader decides them."""
    out = {}
    for name in names:
        reason = report.forbidden_reason(name)
        found = report.violations_of(name)
        if reason:
            out[name] = ("forbidden", reason, found)
        elif found:
            out[name] = ("review", "breaks the submission policy", found)
    return out


# ============================== policy/visitor.py =====================================================
# The syntax-tree walk of the policy: one visitor, one method per node kind, that records policy
# violations (with the top-level definition they sit in), delegation and the names each top-level
# definition uses; ``check_source`` turns that into a ``PolicyReport``.

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


# ============================== policy/cli.py =========================================================
# The policy's command line, as students run it: ``python check_submission.py NOTEBOOK.ipynb``.

# The released copy (check_submission.py, written by `make release`) names its assignment's graded
# names here; the kit's own copy leaves it empty and reports every top-level definition.
GRADED_NAMES: tuple[str, ...] = ('SGD', 'Adagrad', 'RMSprop', 'Adam')  # 02_optimizers


def check_file(path: str) -> list[str]:
    """The problems the grader would find in one ``.py`` or ``.ipynb`` file, as lines of text."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    starts: list[tuple[int, int]] = []
    if path.endswith(".ipynb"):
        text, starts = graded_source(json.loads(text)["cells"])
    report = check_source(drop_magics(text, [first for _, first in starts]))

    def where(line: int) -> str:
        cell = max((s for s in starts if s[1] <= line), key=lambda s: s[1], default=None)
        return f"line {line}" if cell is None else f"cell {cell[0] + 1}, line {line - cell[1] + 1}"

    names = GRADED_NAMES or report.definitions
    lines = []
    shared = [v for v in report.violations if v.owner is None]
    if shared and names:
        lines.append("module level (every graded name is set to review: 0 points until a TA has read "
                     "these lines and granted them):")
        lines += [f"    {where(v.line)}: {v.what}\n        {v.code}" for v in shared]
    for name, (status, reason, found) in verdicts(report, names).items():
        if status == "forbidden":
            lines.append(f"{name}: forbidden (0 points): `{name}` {reason}")
            continue
        own = [v for v in found if v.owner is not None]
        if own:
            lines.append(f"{name}: review (0 points until a TA has read these lines and granted them):")
            lines += [f"    {where(v.line)} in `{v.owner}`: {v.what}\n        {v.code}" for v in own]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Check files as the grader would: print the problems found, or that there are none."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python check_submission.py NOTEBOOK.ipynb | MODULE.py ...")
        return 2
    status = 0
    for path in args:
        try:
            problems = check_file(path)
        except (OSError, ValueError, KeyError, TypeError, SyntaxError) as exc:
            print(f"{path}: cannot be checked ({type(exc).__name__}: {exc})")
            status = 1
            continue
        if problems:
            status = 1
            print(f"{path}:")
            print("\n".join(f"  {line}" for line in problems))
        else:
            print(f"{path}: no problems found")
    return status


if __name__ == "__main__":
    sys.exit(main())
