"""What the oracle records about an implementation, and how two records are compared.

An *explorer* (one per graded name, in ``explore_*.py``) drives an implementation through scenarios
and yields ``(scenario, observation)`` pairs. Observations are plain data: tensors, Python scalars,
strings, ``None``, lists/tuples/dicts of these, and ``Raised`` for an exception. The same explorer
runs once on the reference and once on a mutant; ``first_difference`` compares the two streams.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

# Tolerances: a mutant is "equal" when every tensor is within a few hundred ulps of the reference
# (the solution and the reference differ by a few ulps per step, being written with other op orders).
RTOL = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 2e-3, torch.bfloat16: 2e-2}
FLOAT_RTOL = 1e-7  # Python floats (losses, learning rates)


@dataclass(frozen=True)
class Raised:
    """The implementation raised; only the exception type is compared."""

    type: str

    def __repr__(self) -> str:
        return f"raised {self.type}"


@dataclass(frozen=True)
class Impl:
    """The object under test and the module namespace it looks its collaborators up in."""

    obj: Any
    namespace: dict


Scenario = tuple[str, Any]
Explorer = Callable[[Impl], Iterator[Scenario]]


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or ``Raised`` with the exception's type name."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the implementation under test may raise anything
        return Raised(type(exc).__name__)




def snap(value: Any) -> Any:
    """A detached copy of whatever tensors ``value`` holds (so later in-place updates don't change it)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    return value


def signature_of(obj: Any, names: tuple[str, ...]) -> Any:
    """The contract's parameters of ``obj`` (a function, or a class's ``__init__``): for each name its
    default, or "required". The grader passes hyper-parameters by keyword, so only whether a name can
    be passed by keyword matters, not its position or kind (torch itself makes ``maximize``
    positional in RMSprop). Defaults compare by value (``0 == 0.0``); a bool must stay a bool. Extra
    optional parameters are allowed, so only ``names`` are reported."""
    try:
        sig = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
    except (TypeError, ValueError):
        return Raised("no signature")
    out: dict[str, Any] = {}
    for name in names:
        p = sig.parameters.get(name)
        if p is None or p.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            out[name] = "missing"
        elif p.default is inspect.Parameter.empty:
            out[name] = "required"
        elif isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
            out[name] = ("number", float(p.default))
        else:
            out[name] = repr(p.default)
    return out


# --- comparison -----------------------------------------------------------------------------------


def _tensor_difference(want: torch.Tensor, got: torch.Tensor) -> str | None:
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} instead of {want.dtype}"
    if got.shape != want.shape:
        return f"shape {tuple(got.shape)} instead of {tuple(want.shape)}"
    if got.device != want.device:
        return f"device {got.device} instead of {want.device}"
    if not want.dtype.is_floating_point:
        if torch.equal(got, want):
            return None
        return f"values {_short(got)} instead of {_short(want)}"
    w, g = want.double(), got.double()
    same_nan = torch.equal(torch.isnan(w), torch.isnan(g))
    finite_w, finite_g = torch.isfinite(w), torch.isfinite(g)
    same_inf = torch.equal(finite_w, finite_g) and torch.equal(
        w[~finite_w & ~torch.isnan(w)], g[~finite_g & ~torch.isnan(g)]
    )
    if not (same_nan and same_inf):
        return f"values {_short(got)} instead of {_short(want)} (NaN/inf pattern)"
    if w.numel() == 0:
        return None
    rtol = RTOL.get(want.dtype, 1e-6)
    wf, gf = w[finite_w], g[finite_w]
    if wf.numel() == 0:
        return None
    scale = wf.abs().max()
    err = (gf - wf).abs()
    bound = rtol * (wf.abs() + 0.05 * scale) + 1e-300
    if bool((err <= bound).all()):
        return None
    return f"values {_short(got)} instead of {_short(want)} (max abs diff {err.max().item():.3g})"


def _short(t: torch.Tensor) -> str:
    flat = t.detach().reshape(-1)
    shown = ", ".join(f"{v:.6g}" if t.dtype.is_floating_point else str(int(v)) for v in flat[:6].tolist())
    more = ", ..." if flat.numel() > 6 else ""
    return f"[{shown}{more}]"


def difference(want: Any, got: Any, path: str = "") -> str | None:
    """None when ``got`` matches ``want``; otherwise where and how it differs."""
    where = f"{path}: " if path else ""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{where}{_describe(got)} instead of a tensor"
        d = _tensor_difference(want, got)
        return f"{where}{d}" if d else None
    if isinstance(want, Raised) or isinstance(got, Raised):
        return None if want == got else f"{where}{_describe(got)} instead of {_describe(want)}"
    if _number(want) and _number(got):  # numbers compare by value: torch writes momentum=0, we 0.0
        want, got = float(want), float(got)
    elif type(want) is not type(got) and not (
        isinstance(want, (list, tuple)) and isinstance(got, (list, tuple))
    ):
        return f"{where}{_describe(got)} instead of {_describe(want)}"
    if isinstance(want, float):
        if math.isnan(want) and math.isnan(got) or want == got:
            return None
        if (
            math.isfinite(want)
            and math.isfinite(got)
            and abs(got - want) <= FLOAT_RTOL * max(abs(want), 1e-12)
        ):
            return None
        return f"{where}{got!r} instead of {want!r}"
    if isinstance(want, (list, tuple)):
        if len(want) != len(got):
            counts = f"{len(got)} items instead of {len(want)}"
            return f"{where}{counts}: {_describe(got)} instead of {_describe(want)}"
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            d = difference(w, g, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(want, dict):
        if list(want) != list(got):
            return f"{where}keys {list(got)} instead of {list(want)}"
        for k in want:
            d = difference(want[k], got[k], f"{path}.{k}" if path else str(k))
            if d:
                return d
        return None
    return None if want == got else f"{where}{got!r} instead of {want!r}"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor {_short(value)}"
    if isinstance(value, Raised):
        return repr(value)
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."
