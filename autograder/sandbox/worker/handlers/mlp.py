"""Convergence of the layers (03_regularization): a small MLP with the student's Dropout or BatchNorm1d,
trained here with trusted SGD; the grader evaluates the weights that come back."""

from __future__ import annotations

import torch
from torch import nn

from .. import protocol
from ..registry import Context
from . import problems
from .common import graded_op, plain, tupled
from .standins import BatchNormFunction, substituted


@graded_op("mlp_train")
def mlp_train(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Train Linear -> [student BatchNorm1d] -> ReLU -> [student Dropout] -> Linear on (X, y) with MSE and
    SGD(lr, momentum), from the initial weights W1, b1, W2, b2 the grader sent. ``order`` (steps x batch)
    holds the sample indices of each step (full batch when absent). Returns the final W1, b1, W2, b2 and,
    with BatchNorm, its ``bn.<attr>`` parameters and running statistics."""
    X, y = tensors["X"], tensors["y"]
    hidden = tensors["W1"].shape[0]
    layer = args["layer"]  # "dropout" or "batchnorm"
    cls = ctx.graded(args["name"])
    with substituted(
        ctx.module.__dict__ if layer == "batchnorm" else None, "BatchNormFunction", BatchNormFunction
    ):
        first, last = nn.Linear(X.shape[1], hidden), nn.Linear(hidden, 1)
        with torch.no_grad():
            for lin, (w, b) in ((first, ("W1", "b1")), (last, ("W2", "b2"))):
                lin.weight.copy_(tensors[w])
                lin.bias.copy_(tensors[b])
        student = (
            cls(hidden, **tupled(args.get("kwargs", {})))
            if layer == "batchnorm"
            else cls(**tupled(args.get("kwargs", {})))
        )
        layers = (
            [first, student, nn.ReLU(), last] if layer == "batchnorm" else [first, nn.ReLU(), student, last]
        )
        model = nn.Sequential(*layers).to(X.dtype)
        params = list(model.parameters())
        buffers: list = [None] * len(params)
        torch.manual_seed(int(args["seed"]))
        model.train()
        order = tensors.get("order")
        for t in range(args["steps"]):
            xb, yb = (X, y) if order is None else (X[order[t]], y[order[t]])
            for p in params:
                p.grad = None
            nn.functional.mse_loss(model(xb), yb).backward()
            problems.sgd_step(params, buffers, args["lr"], args.get("momentum", 0.0))
    out = {
        "W1": plain(first.weight),
        "b1": plain(first.bias),
        "W2": plain(last.weight),
        "b2": plain(last.bias),
    }
    if layer == "batchnorm":
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = getattr(student, name, None)
            if isinstance(value, torch.Tensor):
                out[f"bn.{name}"] = plain(value)
    return protocol.Response(ok=True, value={}, tensors=out)
