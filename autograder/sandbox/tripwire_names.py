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


# Which watched operators could stand in for the graded computation of a check kind (by the kind's
# family, its first word). A family missing here is watched for every operator.
FAMILY_OPS = {
    "optimizer": ("_fused_*",),
    "scheduler": (), "minibatches": (), "fit": (),
    "bn": ("*batch_norm*", "*instance_norm*", "*layer_norm*", "*group_norm*"),
    "dropout": ("*dropout*",),
}
# Operators no code reaches without naming them: torch.ops, torch._C, computed attribute names, eval and
# the like are policy violations (0 points until a TA grants them), and torch's public functions that
# run them (torch.optim's, with fused=True) are delegation, wrapped as entry points. The norm and dropout
# operators are not here: public functions reach them under other names (F.instance_norm runs aten
# batch_norm), so only the dispatch watch can tell.
NAMED_ONLY_OPS = {"_fused_*": "_fused"}


def op_watch_needed(kinds: set[str], source: str, granted: bool) -> bool:
    """Whether a worker grading checks of ``kinds`` on ``source`` needs the dispatch-mode tripwire (about
    12 µs per aten operator, a third of 02's grading time). Not when every operator its families could
    delegate to can only be reached by naming it, the source names none of them, and no reviewed code was
    granted (granted code may reach anything: then the watch always runs)."""
    if granted:
        return True
    for kind in kinds:
        family = kind.split("_")[0]
        if family not in FAMILY_OPS:
            return True
        for pattern in FAMILY_OPS[family]:
            token = NAMED_ONLY_OPS.get(pattern)
            if token is None or token in source:
                return True
    return False


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
