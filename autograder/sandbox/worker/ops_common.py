"""Construction: whether a graded class constructs, and the errors it raises. (What a graded name is,
its signature and base classes, is read from the source on the trusted side: ``checks/interface.py``.)"""

from __future__ import annotations

import torch

from . import protocol
from .common import graded_op, tupled
from .serve import Context


def _exception_info(exc: BaseException) -> dict:
    return {
        "raised": type(exc).__name__,
        "message": str(exc)[:500],
        "mro": [c.__name__ for c in type(exc).__mro__],
    }


@graded_op("construct")
def construct(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Construct ``name`` with the tensors as params (optimizers) or just kwargs; report any raise."""
    cls = ctx.graded(args["name"])
    kwargs = tupled(args.get("kwargs", {}))
    try:
        if args.get("with_params"):
            params = [t.clone().requires_grad_(True) for _, t in sorted(tensors.items())]
            obj = cls(params, **kwargs)
            if args.get("step"):
                for p in params:
                    p.grad = torch.ones_like(p)
                obj.step()
        else:
            cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to see what it raises
        return protocol.Response(ok=True, value=_exception_info(exc))
    return protocol.Response(ok=True, value={"raised": None})
