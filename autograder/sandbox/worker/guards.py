"""Switch off torch's own implementation of the graded family in this worker, one way, before any
student code runs (the design is on the trusted side: ``autograder/sandbox/guards.py``).

``prepare`` runs once in the zygote, before it forks: it finds what each family's guard names (the
aten operators and the dispatch keys that have a kernel for them; the Python functions of the family's
torch source files, found among every live object once) and keeps them in a closure. ``disable`` runs in
a worker, right after its confinement and before the student's module: it registers a raising kernel
for each operator of the requested families, replaces the code object of each of their functions by one
that raises, then forgets everything ``prepare`` found. Both write a hit to the worker's hit pipe first,
so the grader learns that a graded call reached torch's implementation (``hits``).
"""

from __future__ import annotations

import ctypes
import fnmatch
import gc
import importlib
import os
import types
import warnings

import torch

KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CompositeExplicitAutogradNonFunctional",
        "CPU", "CUDA", "Meta", "Autograd")
MARK = "[kit: disabled]"  # how a disabled implementation's error starts


def _functions(spec: dict, live: list[types.FunctionType]) -> list[types.FunctionType]:
    """The Python functions of a family among ``live`` ones: every function of its files whose name
    matches (with ``subclasses_of``, only the methods of those subclasses)."""
    root = os.path.dirname(torch.__file__)
    files = [os.path.join(root, pattern) for pattern in spec["files"]]
    roots: set[str] | None = None
    if spec.get("subclasses_of"):
        module_name, _, cls_name = spec["subclasses_of"].rpartition(".")
        base = getattr(importlib.import_module(module_name), cls_name)
        roots = set()
        for rel in spec["files"]:
            module = importlib.import_module(_module_of(rel))
            for attr, value in vars(module).items():
                if isinstance(value, type) and issubclass(value, base) and attr not in spec["keep"] \
                        and value.__module__ == module.__name__:
                    roots.add(value.__qualname__.split(".")[0])
    return [fn for fn in live
            if any(fnmatch.fnmatchcase(fn.__code__.co_filename, f) for f in files)
            and any(fnmatch.fnmatchcase(fn.__name__, p) for p in spec["functions"])
            and (roots is None or fn.__qualname__.split(".")[0] in roots)]


def _operators(spec: dict) -> list[tuple[str, str]]:
    """(operator, dispatch key) pairs of a family: every key where torch registered a kernel."""
    out = []
    for full in torch._C._dispatch_get_all_op_names():
        namespace, _, name = full.partition("::")
        base = name.split(".")[0]
        if namespace != "aten" or not any(fnmatch.fnmatchcase(base, p) for p in spec["ops"]):
            continue
        if any(fnmatch.fnmatchcase(base, p) for p in spec["skip_ops"]):
            continue
        out += [(name, key) for key in KEYS if torch._C._dispatch_has_kernel_for_dispatch_key(full, key)]
    return out


def _module_of(rel: str) -> str:
    return "torch." + rel[: -len(".py")].replace("/", ".").replace(".__init__", "")


def find(config: dict) -> dict[str, tuple[list[tuple[str, str]], list[types.FunctionType]]]:
    """What each family's guard switches off (``config``: the trusted side's ``guard_config()``): its
    (aten operator, dispatch key) pairs and its Python functions. Imports the modules that hold them
    first, so that nothing is left to import later; looks at every live object once."""
    for spec in config.values():
        for rel in spec["files"]:
            if "*" not in rel:
                try:
                    importlib.import_module(_module_of(rel))
                except ImportError:
                    pass
    root = os.path.dirname(torch.__file__)
    with warnings.catch_warnings():  # looking at every live object touches deprecated aliases
        warnings.simplefilter("ignore")
        live = [obj for obj in gc.get_objects()
                if isinstance(obj, types.FunctionType) and obj.__code__.co_filename.startswith(root)]
        return {family: (_operators(spec), _functions(spec, live)) for family, spec in config.items()}


def _make():
    prepared: dict[str, tuple[list, list]] = {}  # family -> ([(operator, key)], [function])
    channel = [-1, -1]  # this worker's hit pipe (read end, write end)

    def prepare(config: dict) -> None:
        """Find, once in the zygote, what each family's guard switches off (``config``: the trusted
        side's ``guard_config()``)."""
        prepared.update(find(config))

    def open_channel() -> None:
        """A fresh hit pipe for this worker (after the fork, before any student code)."""
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        channel[:] = [r, w]

    def _message(family: str, label: str, what: str) -> str:
        return (f"{MARK} {what} is torch's own implementation ({label}), which is switched off while "
                "this graded name is graded: compute it with your own code")

    def _kernel(family: str, label: str, op: str):
        fd, message = channel[1], _message(family, label, f"torch.ops.aten.{op}")
        line = f"{family}:aten.{op}\n".encode()

        def disabled(*args, **kwargs):
            try:
                os.write(fd, line)
            except OSError:
                pass
            raise RuntimeError(message)

        return disabled

    def _code(family: str, label: str, fn: types.FunctionType) -> types.CodeType:
        """A code object that reports and raises, with as many free variables as ``fn`` has cells."""
        what = f"{fn.__module__}.{fn.__qualname__}"
        free = [f"v{i}" for i in range(len(fn.__code__.co_freevars))]
        head = "".join(f"    {v} = None\n" for v in free)
        touch = f"        {', '.join(free)}\n" if free else ""
        hit = repr(f"{family}:{what}\n".encode())
        # Only builtins: the code runs with the globals of torch's module it replaces.
        src = (f"def outer():\n{head}    def disabled(*args, **kwargs):\n{touch}"
               f"        try:\n            __import__('os').write({channel[1]}, {hit})\n"
               "        except BaseException:\n            pass\n"
               f"        raise RuntimeError({_message(family, label, what)!r})\n    return disabled\n")
        namespace: dict = {}
        exec(compile(src, f"<disabled by the grader: {what}>", "exec"), namespace)
        return namespace["outer"]().__code__

    def disable(families: dict[str, str]) -> int:
        """Switch off ``families`` (name -> label) in this process, for good; forget what ``prepare``
        found for every family. Returns how many kernels and functions were switched off."""
        count = 0
        library = torch._C._dispatch_library("IMPL", "aten", "", "<kit guards>", 0)
        for family, label in families.items():
            operators, functions = prepared.get(family, ([], []))
            for op, key in operators:
                library.impl(op, key, _kernel(family, label, op), False)
                count += 1
            for fn in functions:
                fn.__code__ = _code(family, label, fn)
                count += 1
        if families:
            # The registrations last as long as this library object: keep it alive with a reference no
            # Python object holds (it is not tracked by the garbage collector either).
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))
        del library
        prepared.clear()
        gc.collect()
        return count

    def hits() -> list[str]:
        """The hits written since the last call (``family:what`` each)."""
        if channel[0] < 0:
            return []
        data = b""
        try:
            while chunk := os.read(channel[0], 1 << 16):
                data += chunk
        except BlockingIOError:
            pass
        return list(dict.fromkeys(data.decode(errors="replace").splitlines()))

    return prepare, open_channel, disable, hits


prepare, open_channel, disable, hits = _make()
