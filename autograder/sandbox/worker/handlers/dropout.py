"""``Dropout`` (03_regularization): run the student's layer on inputs the grader sent, with torch's RNG
seeded by the grader, and return its outputs and input gradients."""

from __future__ import annotations

import torch

from .. import operations as ops
from ..registry import Context
from .common import graded_op, plain


@graded_op(ops.DropoutRun)
def dropout_run(ctx: Context, req: ops.DropoutRun) -> ops.DropoutOutputs:
    """``torch.manual_seed(seed)``, ``Dropout(p=p)``, then each step: set train/eval mode, call it on
    ``tensors[step['x']]``; with ``grad`` the input requires grad and ``y.backward(ones)`` runs when the
    output depends on it. Returns ``y{i}`` and ``gx{i}``; ``value['requires_grad'][i]`` says whether the
    output was part of an autograd graph."""
    cls = ctx.graded(req.name)
    torch.manual_seed(int(req.seed))
    drop = cls(p=req.p)
    out: dict[str, torch.Tensor] = {}
    requires_grad = []
    for i, step in enumerate(req.steps):
        drop.train(bool(step.get("train", True)))
        x = req.tensors[step["x"]].clone().requires_grad_(bool(step.get("grad")))
        y = drop(x)
        out[f"y{i}"] = plain(y)
        requires_grad.append(bool(isinstance(y, torch.Tensor) and y.requires_grad))
        if step.get("grad") and requires_grad[-1]:
            y.backward(torch.ones_like(y))
            if x.grad is not None:
                out[f"gx{i}"] = plain(x.grad)
    return ops.DropoutOutputs(requires_grad, out)
