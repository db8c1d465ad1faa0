"""Helpers shared by the handlers: graded-op wrapping, tuples back from JSON, plain tensors."""

from __future__ import annotations

from typing import Any

import torch

from .. import protocol
from ..operations import Request
from ..registry import Context, handler
from . import tripwires

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def tupled(kwargs: dict[str, Any]) -> dict[str, Any]:
    """JSON turned tuples (betas) into lists: give them back as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def _forbidden(hits: list[str]) -> protocol.Response:
    return protocol.Response(
        ok=False,
        error={"type": "Forbidden", "message": hits[0], "frames": [], "missing": False,
               "tripwire": f"your code calls {hits[0]}"},
    )


def graded_op(record: type[Request], *, watch_ops: bool = True, armed=tripwires.armed):
    """Register ``fn(ctx, request) -> reply`` as the handler of ``record.OP``: the request record is
    decoded at the boundary (a mismatch is the grader's fault, see ``serve``), the student's code runs
    with the tripwires armed, and forbidden calls are reported (also when the code raised afterwards).
    ``armed`` is bound here, when the handlers are defined, before any student code exists;
    ``watch_ops`` as in ``tripwires.armed``."""

    def deco(fn):
        def run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
            request = record.from_wire(args, tensors)
            hits: list[str] = []
            try:
                with armed(watch_ops) as hits:
                    reply = fn(ctx, request)
            except Exception:
                if hits:
                    return _forbidden(hits)
                raise
            return _forbidden(hits) if hits else reply.to_response()

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return handler(record.OP)(run)

    return deco


def plain(t: torch.Tensor) -> torch.Tensor:
    """A plain tensor copy (no subclass, no autograd history) to send back."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(t).__name__}")
    return (
        torch.Tensor._make_subclass(torch.Tensor, t.detach().clone())
        if type(t) is not torch.Tensor
        else t.detach().clone()
    )
