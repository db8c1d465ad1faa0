"""Helpers shared by the handlers: JSON-safe values, graded-op wrapping, tensor naming."""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import torch

from . import protocol, tripwires
from .serve import Context, handler


def jsonable(value: Any) -> Any:
    """A default value as plain JSON (tuples become lists; anything exotic its repr)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    return {"repr": repr(value)[:200]}


def tupled(kwargs: dict[str, Any]) -> dict[str, Any]:
    """JSON turned tuples (betas) into lists: give them back as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def graded_op(op: str):
    """Register a handler that runs student code: tripwires armed, forbidden calls reported."""

    def deco(fn):
        @functools.wraps(fn)
        def run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
            with tripwires.armed() as hits:
                resp = fn(ctx, args, tensors)
            if hits:
                return protocol.Response(
                    ok=False,
                    error={
                        "type": "Forbidden",
                        "message": hits[0],
                        "frames": [],
                        "missing": False,
                        "tripwire": f"your code calls {hits[0]}",
                    },
                )
            return resp

        return handler(op)(run)

    return deco


def signature_of(obj: Any) -> list[dict[str, Any]]:
    params = []
    for p in inspect.signature(obj).parameters.values():
        params.append(
            {
                "name": p.name,
                "kind": p.kind.name,
                "has_default": p.default is not p.empty,
                "default": jsonable(p.default) if p.default is not p.empty else None,
            }
        )
    return params


def plain(t: torch.Tensor) -> torch.Tensor:
    """A plain tensor copy (no subclass, no autograd history) to send back."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(t).__name__}")
    return (
        torch.Tensor._make_subclass(torch.Tensor, t.detach().clone())
        if type(t) is not torch.Tensor
        else t.detach().clone()
    )
