"""Construction: whether a graded class constructs, and the errors it raises. (What a graded name is,
its signature and base classes, is read from the source on the trusted side: ``families/interface.py``.)"""

from __future__ import annotations

import torch

from .. import operations as ops
from ..registry import Context, describe_exception, raised
from .common import graded_op, tupled


@graded_op(ops.Construct)
def construct(ctx: Context, req: ops.Construct) -> ops.Raised:
    """Construct ``name`` with the tensors as params (optimizers) or just kwargs; report any raise."""
    cls = ctx.graded(req.name)
    kwargs = tupled(req.kwargs)
    try:
        if req.with_params:
            params = [t.clone().requires_grad_(True) for _, t in sorted(req.tensors.items())]
            obj = cls(params, **kwargs)
            if req.step:
                for p in params:
                    p.grad = torch.ones_like(p)
                obj.step()
        else:
            cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to see what it raises
        return ops.Raised(**raised(exc), frames=describe_exception(exc, ctx.filename)["frames"])
    return ops.Raised()
