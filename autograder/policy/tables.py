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
