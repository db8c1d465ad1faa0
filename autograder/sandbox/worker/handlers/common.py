"""Helpers shared by the handlers: graded-op wrapping, tuples back from JSON, plain tensors."""

from __future__ import annotations

from typing import Any

import torch

from .. import guards, protocol
from ..operations import Request
from ..registry import Context, handler

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def tupled(kwargs: dict[str, Any]) -> dict[str, Any]:
    """JSON turned tuples (betas) into lists: give them back as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def _forbidden(hits: list[str]) -> protocol.Response:
    """The reply to a graded call that reached a switched-off implementation (``family:what``)."""
    return protocol.Response(
        ok=False,
        error={"type": "Forbidden", "message": hits[0], "frames": [], "missing": False, "tripwire": hits[0]},
    )


def graded_op(record: type[Request], *, hits=guards.hits):
    """Register ``fn(ctx, request) -> reply`` as the handler of ``record.OP``: the request record is
    decoded at the boundary (a mismatch is the grader's fault, see ``serve``), the student's code runs,
    and a call it made into an implementation the worker's guards switched off is reported (also when
    the code raised afterwards, or caught the error). ``hits`` is bound here, when the handlers are
    defined, before any student code exists."""

    def deco(fn):
        def run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
            request = record.from_wire(args, tensors)
            hits()  # what module-level code or an earlier request reached is not this call's
            try:
                reply = fn(ctx, request)
            except Exception:
                found = hits()
                if found:
                    return _forbidden(found)
                raise
            found = hits()
            return _forbidden(found) if found else reply.to_response()

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
