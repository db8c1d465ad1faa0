"""``Dropout`` (03_regularization): run the student's layer on inputs the grader sent, with torch's RNG
seeded by the grader, and return its outputs and input gradients."""

from __future__ import annotations

import torch

from .. import protocol
from ..registry import Context
from .common import graded_op, plain


@graded_op("dropout_run")
def dropout_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """``torch.manual_seed(seed)``, ``Dropout(p=p)``, then each step: set train/eval mode, call it on
    ``tensors[step['x']]``; with ``grad`` the input requires grad and ``y.backward(ones)`` runs when the
    output depends on it. Returns ``y{i}`` and ``gx{i}``; ``value['requires_grad'][i]`` says whether the
    output was part of an autograd graph."""
    cls = ctx.graded(args.get("name", "Dropout"))
    torch.manual_seed(int(args["seed"]))
    drop = cls(p=args["p"])
    out: dict[str, torch.Tensor] = {}
    requires_grad = []
    for i, step in enumerate(args["steps"]):
        drop.train(bool(step.get("train", True)))
        x = tensors[step["x"]].clone().requires_grad_(bool(step.get("grad")))
        y = drop(x)
        out[f"y{i}"] = plain(y)
        requires_grad.append(bool(isinstance(y, torch.Tensor) and y.requires_grad))
        if step.get("grad") and requires_grad[-1]:
            y.backward(torch.ones_like(y))
            if x.grad is not None:
                out[f"gx{i}"] = plain(x.grad)
    return protocol.Response(ok=True, value={"requires_grad": requires_grad}, tensors=out)
