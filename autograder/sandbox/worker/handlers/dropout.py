"""``Dropout`` (03_regularization): run the student's layer on inputs the grader sent, with torch's RNG
seeded by the grader, and return its outputs and input gradients."""

from __future__ import annotations

import torch

from .. import operations as ops
from ..registry import Context
from .common import graded_op, plain


@graded_op(ops.DropoutRun)
def dropout_run(ctx: Context, req: ops.DropoutRun) -> ops.DropoutOutputs:
    """``torch.manual_seed(seed)``, ``Dropout(p=p)``, then each step: ``torch.manual_seed(reseed)`` when
    asked, set train/eval mode, call it on ``tensors[step['x']]``; with ``grad``
    the input requires grad and ``y.backward(ones)`` runs when the output depends on it. Returns ``y{i}``
    and ``gx{i}``; ``requires_grad[i]``: whether the output was part of an autograd graph; ``intact[i]``:
    whether the caller's input still holds its values; ``p``: the layer's ``p`` after construction."""
    cls = ctx.graded(req.name)
    torch.manual_seed(int(req.seed))
    drop = cls(p=req.p)
    seen = getattr(drop, "p", None)
    p_seen = float(seen) if isinstance(seen, (int, float)) and not isinstance(seen, bool) else None
    out: dict[str, torch.Tensor] = {}
    requires_grad, intact = [], []
    for i, step in enumerate(req.steps):
        if step.get("reseed") is not None:
            torch.manual_seed(int(step["reseed"]))
        drop.train(bool(step.get("train", True)))
        given = req.tensors[step["x"]]
        x = given.clone().requires_grad_(bool(step.get("grad")))
        y = drop(x)
        intact.append(bool(torch.equal(x.detach(), given)))
        out[f"y{i}"] = plain(y)
        requires_grad.append(bool(isinstance(y, torch.Tensor) and y.requires_grad))
        if step.get("grad") and requires_grad[-1]:
            y.backward(torch.ones_like(y))
            if x.grad is not None:
                out[f"gx{i}"] = plain(x.grad)
    return ops.DropoutOutputs(requires_grad, p_seen, intact, out)
