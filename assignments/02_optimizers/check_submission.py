"""What a submission may use: the kit's submission policy, decided on the syntax tree before any of
its code runs. Standalone (standard library only, no kit imports): the grader uses it and every released
notebook ships a copy as ``check_submission.py``.

    python check_submission.py 02_optimizers.ipynb      # or optimizers.py

Two kinds of findings, both static evidence: they make a graded name ``review`` (0 points until a TA
has read the quoted lines and granted them), never ``forbidden``; that status comes only from the
grader's runtime evidence that torch's implementation was called while the graded name was graded.

- **delegation**: a graded definition, or a same-file helper it uses, names torch's own implementation
  of the graded computation (``torch.optim.Adam``, ``F.batch_norm``, ...) or the kit. Names are
  resolved the way Python binds them: an import of ``Adam as TorchAdam`` that only a
  ``if __name__ == "__main__":`` block, a type hint or a comparison at module level uses concerns no
  graded name, and a later ``class SGD`` shadows an earlier ``from torch.optim import SGD``.
- **policy violations**: imports outside the allowlist, dunder attributes outside the allowlist,
  frame/code/closure introspection (also through ``match`` patterns and format fields), private torch
  internals (beyond the curated list below), torch namespaces that reach the dispatcher, load code or
  run code strings, global state, dynamic names and code (``eval``, ``getattr`` with a name that is not
  a known constant, ...) and monkeypatching of imported modules or classes. A violation inside a
  definition concerns that definition and every graded name that uses it; one in module-level code
  (which runs on import) concerns every graded name.

The tables below (this file) are the whole policy; ``report.py`` matches names against them,
``bindings.py`` reads what the module binds, ``visitor.py`` walks the syntax tree, ``notebook.py`` reads
notebooks as the grader does and ``cli.py`` is the command line. ``make release`` joins the six into
the one standalone ``check_submission.py``. Dotted patterns are matched segment by segment with shell
wildcards (``torch.*dropout*`` is ``torch.dropout_`` and ``torch.native_dropout``, never
``torch.nn.Dropout``); a pattern matches a name and everything below it.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import json
import re
import string
import sys
import tokenize
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
    # code-string runners and field-path evaluators: they run or reach what the syntax tree cannot show
    "string.Formatter", "torch.utils.benchmark", "torch.utils.collect_env", "torch.cuda.jiterator",
    "numpy.testing.rundocs", "torch.utils.bundled_inputs", "torch.utils.mobile_optimizer",
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
# helper it uses) flags that graded name for review. torch.optim.lr_scheduler's classes are listed by
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


# ============================== policy/notebook.py ====================================================
# How the kit reads a notebook: nbgrader's cell conventions and IPython's extra syntax, in one place.
#
# The grader's loader, ``make release``, the nbgrader plugin, the mutation tool and the shipped
# ``check_submission.py`` all read notebooks through these functions, so what a student checks before
# submitting is exactly what the grader grades.
#
# - A solution cell has nbgrader metadata ``solution: true`` (and is not graded); a test cell has
#   ``grade: true, solution: false`` and the ``grade_id`` ``test_<GradedName>``; the grader skips test
#   cells and cells tagged ``experiment`` (plots, training runs) or ``self-check`` (the public checks,
#   which the Submitting section's export command leaves out of a .py as well).
# - The graded code is the remaining code cells in order, each ending with one newline.
# - Python is read as Python. In a notebook cell, a line is IPython-only (a line magic, a ``!`` shell
#   line, ``x = !cmd`` / ``x = %magic``, ``obj?`` help) only where IPython itself reads it so: at the
#   start of a logical line, as Python's tokenizer finds them (a continuation line such as ``% lr``
#   inside brackets is Python). Those lines are blanked, keeping every line number; ``%time stmt``
#   keeps ``stmt``; a cell that starts with a cell magic loses its magic line, and its whole body unless
#   the magic runs Python in the notebook's namespace.
# - A ``.py`` file has no magics: only the ``get_ipython()`` statements nbconvert writes for them are
#   dropped (decided on the syntax tree; ``%time stmt`` and ``%%time`` cells keep their code), and its
#   ``# In[ ]:`` markers tell where the notebook's cells were.

TEST_PREFIX = "test_"
EXPERIMENT_TAG = "experiment"
# The public self-check cells (nbgrader's test cells and the policy self-check): the export command of
# a notebook's Submitting section leaves them out of a .py, as the grader leaves them out of a notebook.
SELF_CHECK_TAG = "self-check"
EXPORT_TAGS = (EXPERIMENT_TAG, SELF_CHECK_TAG)


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


def cell_tags(cell) -> list:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return tags if isinstance(tags, list) else []


def is_experiment_cell(cell) -> bool:
    return EXPERIMENT_TAG in cell_tags(cell)


def is_self_check_cell(cell) -> bool:
    return SELF_CHECK_TAG in cell_tags(cell)


def export_command(assignment: str, module: str) -> str:
    """The command of a notebook's Submitting section: a .py without experiments and self-checks."""
    tags = " ".join(f"--TagRemovePreprocessor.remove_cell_tags {tag}" for tag in EXPORT_TAGS)
    return f"jupyter nbconvert --to python {tags} --output {module} {assignment}.ipynb"


def graded_source(cells) -> tuple[str, list[tuple[int, int]]]:
    """The code the grader reads from a notebook's cells: code cells that are neither test cells nor
    tagged experiment or self-check, in order; with (cell index, first line) of each cell used."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if is_test_cell(cell) or is_experiment_cell(cell) or is_self_check_cell(cell):
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
# The escapes IPython reads at the start of a logical line (a magic, a shell command, help).
_ESCAPES = ("%", "!", "?")
_TIME_LINE = re.compile(r"^(\s*)%time\s+(\S.*)$")  # `%time stmt` runs `stmt` in the notebook's namespace
_ASSIGNED_ESCAPE = re.compile(r"^\s*[\w.\[\], ]+=\s*(%|!)")  # files = !ls, t = %timeit -o f()
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*(#.*)?$")  # torch.optim? / ??SGD
DROPPED = "pass  # (IPython line dropped by the grader)"
_CELL_MARKER = re.compile(r"^# In\[[ \d]*\]:\s*$")  # what nbconvert writes before each cell of a .py


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


def _statement_end(lines: list[str], first: int, stop: int) -> int:
    """The last physical line (index) of the logical line that starts at ``first``, as Python's own
    tokenizer sees it (brackets, strings and backslashes continue a line), never past ``stop``."""
    rows = iter(range(first, stop))

    def readline() -> str:
        i = next(rows, None)
        if i is None:
            return ""
        return (lines[i].lstrip() if i == first else lines[i]) + "\n"

    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.NEWLINE:
                return first + token.start[0] - 1
            if token.type == tokenize.ENDMARKER:
                break
    except tokenize.TokenError:  # an open bracket or string up to the end: the rest is one line
        return stop - 1
    except SyntaxError as exc:  # newer tokenizers stop at characters Python does not know
        return min(stop - 1, first + max((exc.lineno or 1) - 1, 0))
    return stop - 1


def _escaped(text: str) -> bool:
    """Whether a line that starts a logical line is one IPython reads as a magic, shell or help line."""
    body = text.lstrip()
    return body.startswith(_ESCAPES) or bool(_ASSIGNED_ESCAPE.match(text)) or bool(_HELP.match(text))


def _drop_escapes(lines: list[str], start: int, stop: int) -> None:
    """Blank the IPython-only logical lines of one cell (``lines[start:stop]``): a line is one only when
    it starts a logical line, exactly as IPython decides; ``%time stmt`` keeps ``stmt``."""
    i = start
    while i < stop:
        text = lines[i]
        body = text.strip()
        if not body or body.startswith("#"):
            i += 1
            continue
        if _escaped(text):
            end = i
            while lines[end].rstrip().endswith("\\") and end + 1 < stop:  # a magic continues with `\`
                end += 1
            timed = _TIME_LINE.match(text) if end == i else None
            lines[i] = timed.group(1) + timed.group(2) if timed else _drop_line(text)
            for k in range(i + 1, end + 1):
                lines[k] = ""
            i = end + 1
            continue
        i = _statement_end(lines, i, stop) + 1


def drop_magics(source: str, first_lines: list[int] = ()) -> str:
    """``source`` (a notebook's graded cells) with what only IPython understands blanked, every line
    keeping its number. ``first_lines``: the 1-based first line of each cell (a cell starts a logical
    line; none given: the whole source is one cell)."""
    lines = source.split("\n")
    firsts = list(first_lines) or [1]
    _drop_cell_magics(lines, firsts)
    bounds = [first - 1 for first in firsts]
    for start, stop in zip(bounds, [*bounds[1:], len(lines)], strict=True):
        _drop_escapes(lines, start, stop)
    return "\n".join(lines)


# --- .py files ---------------------------------------------------------------------------------------

def script_cells(source: str) -> list[int]:
    """The 1-based first line of each cell of a ``.py`` exported by nbconvert (after its ``# In[ ]:``
    markers); [] for a file without markers."""
    return [i + 2 for i, line in enumerate(source.split("\n")) if _CELL_MARKER.match(line)]


def _ipython_call(node: ast.AST) -> tuple[str, list] | None:
    """(method, constant arguments) of ``get_ipython().<method>(...)``, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
            and owner.func.id == "get_ipython"):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
    return node.func.attr, args


def drop_ipython_calls(source: str, *, expand: bool = True) -> tuple[str, list[int]]:
    """``source`` without the ``get_ipython()`` statements nbconvert writes for magics, shell and help
    lines (and without the assignments of their results), decided on the syntax tree. As in a notebook,
    ``%time stmt`` and a ``%%time``/``%%capture``/``%%prun`` cell keep their Python code. Returns the new
    source and, per new line, the line of ``source`` it comes from (1-based). A source that does not
    parse is returned as it is (the loader reports the syntax error). ``expand=False`` keeps every line
    number (a cell magic's Python body is then dropped too, unless it is a single line)."""
    lines = source.split("\n")
    origin = list(range(1, len(lines) + 1))
    if "get_ipython" not in source:
        return source, origin
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, origin
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expr, ast.Assign)):
            continue
        call = _ipython_call(node.value)
        if call is None:
            continue
        method, args = call
        indent = " " * node.col_offset
        keep: list[str] = [indent + DROPPED if indent else ""]
        if isinstance(node, ast.Expr) and method == "run_line_magic" and args[:1] == ["time"] \
                and isinstance(args[1:2] and args[1], str):
            keep = [indent + args[1]]
        elif isinstance(node, ast.Expr) and method == "run_cell_magic" and len(args) == 3 \
                and args[0] in PYTHON_BODY_CELL_MAGICS and isinstance(args[2], str):
            body = [indent + line if line.strip() else "" for line in args[2].rstrip("\n").split("\n")]
            keep = body if body and (expand or len(body) == 1) else keep
        edits.append((node.lineno, node.end_lineno or node.lineno, keep))
    for first, last, keep in sorted(edits, reverse=True):
        lines[first - 1: last] = keep + [""] * max(0, (last - first + 1) - len(keep))
        origin[first - 1: last] = [first] * len(keep) + list(range(first + len(keep), last + 1))[
            : max(0, (last - first + 1) - len(keep))]
    return "\n".join(lines), origin


# --- where a line is, in words a student can follow ---------------------------------------------------

_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.MULTILINE)


def describe_line(source: str, cells: list[tuple[int, int]], line: int,
                  origin: list[int] | None = None) -> str:
    """Where line ``line`` of the graded ``source`` is: in a notebook (``cells``: each graded cell's
    number among the notebook's code cells, as Jupyter users count them, and its first line) 'the cell
    defining `Adam`, line 3', or 'code cell 4, line 3' for a cell defining nothing; in a ``.py`` file
    'line 12' of the file (``origin`` maps graded lines to the file's when they differ)."""
    if not cells:
        if origin and 1 <= line <= len(origin):
            line = origin[line - 1]
        return f"line {line}"
    at = max((k for k, c in enumerate(cells) if c[1] <= line), key=lambda k: cells[k][1], default=0)
    number, first = cells[at]
    end = cells[at + 1][1] - 1 if at + 1 < len(cells) else None
    body = "\n".join(source.split("\n")[first - 1: end])
    names = _DEFINITION.findall(body)
    local = f"line {line - first + 1}"
    if names:
        shown = ", ".join(f"`{n}`" for n in names[:3]) + (" ..." if len(names) > 3 else "")
        return f"the cell defining {shown}, {local}"
    return f"code cell {number}, {local}"


def code_cell_numbers(cells) -> dict[int, int]:
    """Cell index -> its 1-based number among the notebook's code cells (what a student can count)."""
    out: dict[int, int] = {}
    for index, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out[index] = len(out) + 1
    return out


def graded_code(text: str, kind: str) -> tuple[str, list[tuple[int, int]], list[int] | None]:
    """What the grader grades of a submission's text (``kind`` "ipynb" or "py"): the source, its
    notebook cells as (code cell number, first line) ([] for a .py), and for a .py the file line of
    each source line where they differ (None otherwise). Raises ValueError for a notebook that is not
    JSON with a list of cells."""
    if kind != "ipynb":
        source, origin = drop_ipython_calls(text)
        return source, [], origin if origin != list(range(1, len(origin) + 1)) else None
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(cells, list):
        raise ValueError("its 'cells' is not a list")
    source, starts = graded_source(cells)
    source = drop_magics(source, [first for _, first in starts])
    source, _ = drop_ipython_calls(source, expand=False)  # explicit get_ipython() lines, as in a .py
    numbers = code_cell_numbers(cells)
    return source, [(numbers.get(index, index + 1), first) for index, first in starts], None


# ============================== policy/report.py ======================================================
# What the policy found in one file (``PolicyReport``), and how a dotted name is judged against the
# tables: delegation to torch's own implementation, or a policy violation. Both are static evidence:
# they make a graded name ``review`` (0 points until a TA has read the lines and granted them), never
# ``forbidden``, which only the runtime's evidence decides.

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


# ============================== policy/bindings.py ====================================================
# What a module binds, read the way Python runs it on import (part of the standalone policy).
#
# - Code that never runs binds nothing: ``if __name__ == "__main__":`` blocks (the grader imports the
#   module under its own name), ``if TYPE_CHECKING:`` blocks and branches of a constant-false test.
# - ``effective_bindings``: the statements whose binding a module-level name may hold once the module has
#   run (a later ``class SGD`` replaces an earlier ``from torch.optim import SGD``; a binding in a branch
#   joins the earlier ones).
# - ``Scope``: what one function-like scope binds, which locals alias a dotted name and which hold
#   only known strings.
# - ``module_aliases``: names bound to a dotted name, by an import anywhere or by a module-level
#   assignment (``nnf = torch.nn.functional``), and module-level names bound only to strings.

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


# ============================== policy/visitor.py =====================================================
# The syntax-tree walk of the policy: one visitor, one method per node kind, that records policy
# violations (with the definition they sit in), the dotted names each binding statement reaches and the
# global names it uses; ``check_source`` turns that into a ``PolicyReport``.
#
# What the walk reads as Python would run it:
#
# - code that never runs is not read: ``if __name__ == "__main__":`` blocks (the grader imports the
#   module under its own name), ``if TYPE_CHECKING:`` blocks and branches of a constant-false test;
# - type hints are not uses: an annotation never makes a definition use torch's implementation
#   (what an annotation *runs* is still checked for violations);
# - names are resolved as the module binds them: an import binds only its own alias, a later ``class``
#   or ``def`` shadows an earlier import of the same name, variables bound to modules or classes
#   (``nnf = torch.nn.functional``, in a function or at module level) are aliases like imports;
# - computed attribute names are resolved where their values are constants (``for name in
#   ("running_mean", "running_var"): getattr(self, name)``) and judged like ``self.running_mean``;
# - attribute names hidden in ``match`` class patterns and in format-string fields are attribute access.
#
# Every binding statement is visited once, so the scan is linear in the size of the source.

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


# ============================== policy/cli.py =========================================================
# The policy's command line, as students run it: ``python check_submission.py NOTEBOOK.ipynb``.

# The released copy (check_submission.py, written by `make release`) names its assignment's graded
# names here; the kit's own copy leaves it empty and reports every top-level definition.
GRADED_NAMES: tuple[str, ...] = ('SGD', 'Adagrad', 'RMSprop', 'Adam')  # 02_optimizers


def check_file(path: str) -> list[str]:
    """The problems the grader would find in one ``.py`` or ``.ipynb`` file, as lines of text."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    source, cells, origin = graded_code(text, "ipynb" if path.endswith(".ipynb") else "py")
    report = check_source(source)

    def where(line: int) -> str:
        return describe_line(source, cells, line, origin)

    def quoted(found: list) -> list[str]:
        shown = [f"    {where(v.line)}: {v.what}\n        {v.code}" for v in found[:QUOTED_VIOLATIONS]]
        more = len(found) - QUOTED_VIOLATIONS
        return shown + ([f"    ... and {more} more"] if more > 0 else [])

    names = GRADED_NAMES or report.definitions
    lines = []
    shared = [v for v in report.violations if v.owner is None]
    if shared and names:
        lines.append("module-level code (runs on import, so every graded name is set to review: 0 points "
                     "until a TA has read these lines and granted them):")
        lines += quoted(shared)
    for name, (_, _why, found) in verdicts(report, names).items():
        own = [v for v in found if v.owner is not None]
        delegation = report.delegation_reason(name)
        if delegation or own:
            lines.append(f"{name}: review (0 points until a TA has read these lines and granted them):")
        if delegation:
            lines.append(f"    `{name}` {delegation}")
        lines += quoted(own)
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
        except (OSError, ValueError, KeyError, TypeError, SyntaxError, RecursionError, MemoryError) as exc:
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
