"""Construction: whether a graded class constructs, and the errors it raises. (What a graded name is,
its signature and base classes, is read from the source on the trusted side: ``families/interface.py``.)"""

from __future__ import annotations

import torch

from .. import protocol
from ..registry import Context, raised
from .common import graded_op, tupled


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
        return protocol.Response(ok=True, value=raised(exc))
    return protocol.Response(ok=True, value={"raised": None})
