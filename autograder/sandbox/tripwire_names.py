"""The names the worker's runtime tripwires watch, computed on the trusted side from the one policy.

``policy.RUNTIME_ENTRY_POINTS`` holds dotted patterns (``torch.nn.*BatchNorm*``, ``torch.optim.sgd``);
here they are expanded against the grader's own torch into concrete names, and only names that are
delegation by ``policy.is_delegation`` under both the name used and the object's own module are kept
(``torch.optim.lr_scheduler.Optimizer`` is torch's Optimizer, which students subclass: never wrapped;
nor is ``functools.wraps``, imported there).
A module pattern stands for the functions and classes defined in that module. (Builtins such as
``torch.dropout`` live in a private class of torch's, so only classes are checked under their own
name.) The zygote gets the result with its configuration, so the worker package needs no copy of the
policy.
"""

from __future__ import annotations

import fnmatch
import functools
import sys
import types

import torch

from .. import policy


def _canonical(obj: object, fallback: str) -> str:
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else fallback


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


def _expand(pattern: str) -> list[tuple[str, str]]:
    """(module, attribute) pairs a pattern denotes. A wildcard segment skips private names unless it
    starts with ``_`` itself; a module stands for the functions and classes defined in it."""
    found = ["torch"]
    for part in pattern.split(".")[1:]:
        step = []
        for path in found:
            obj = resolve(path)
            if any(c in part for c in "*?["):
                names = [n for n in dir(obj) if fnmatch.fnmatchcase(n, part)
                         and (part.startswith("_") or not n.startswith("_"))]
            else:
                names = [part]
            step += [f"{path}.{n}" for n in names if resolve(f"{path}.{n}") is not None]
        found = step
    out = []
    for path in found:
        obj = resolve(path)
        if isinstance(obj, types.ModuleType):
            out += [(path, n) for n, member in vars(obj).items()
                    if callable(member) and getattr(member, "__module__", "") == obj.__name__]
        elif callable(obj):
            module, _, attr = path.rpartition(".")
            out.append((module, attr))
    return out


@functools.cache
def tripwire_config() -> dict:
    """``{"entry_points": ["module:attribute", ...], "ops": [...]}`` for ``kitworker.handlers.tripwires``."""
    names = set()
    for pattern in policy.RUNTIME_ENTRY_POINTS:
        for module, attr in _expand(pattern):
            path = f"{module}.{attr}"
            obj = resolve(path)
            if not policy.is_delegation(path):
                continue
            if isinstance(obj, type) and not policy.is_delegation(_canonical(obj, path)):
                continue  # a class re-exported from elsewhere: torch.optim.lr_scheduler.Optimizer
            if not isinstance(obj, type) and not str(getattr(obj, "__module__", "")).startswith("torch"):
                continue  # a helper torch imported: torch.optim.lr_scheduler.wraps is functools.wraps
            names.add(f"{module}:{attr}")
    return {"entry_points": sorted(names), "ops": sorted(policy.RUNTIME_OPS)}
