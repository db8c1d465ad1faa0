"""Convergence of the layers (03_regularization): a small MLP with the student's Dropout or BatchNorm1d,
trained here with trusted SGD (``problems.train_mlp``, the loop the grader runs with the reference);
the grader evaluates the weights that come back."""

from __future__ import annotations

import torch

from .. import operations as ops
from ..registry import Context
from . import problems
from .common import graded_op, plain, tupled
from .standins import substituted


@graded_op(ops.MlpTrain)
def mlp_train(ctx: Context, req: ops.MlpTrain) -> ops.TensorsOnly:
    """Train Linear -> [student BatchNorm1d] -> ReLU -> [student Dropout] -> Linear on (X, y) with MSE and
    SGD(lr, momentum), from the initial weights W1, b1, W2, b2 the grader sent. ``order`` (steps x batch)
    holds the sample indices of each step (full batch when absent). Returns the final W1, b1, W2, b2 and,
    with BatchNorm, its ``bn.<attr>`` parameters and running statistics; with ``every``, all of them
    after every that many steps too (``W1@t``, ``bn.running_mean@t``...)."""
    tensors = req.tensors
    X, y = tensors["X"], tensors["y"]
    batchnorm = req.layer == "batchnorm"  # else "dropout"
    cls = ctx.graded(req.name)
    namespace = ctx.module.__dict__ if batchnorm else None
    standin = ctx.standin("BatchNormFunction", "BatchNormFunction") if batchnorm else None
    with substituted(namespace, "BatchNormFunction", standin):
        kwargs = tupled(req.kwargs)
        student = cls(tensors["W1"].shape[0], **kwargs) if batchnorm else cls(**kwargs)
        model = problems.mlp(tensors, student, batchnorm=batchnorm).to(X.dtype)
        first, last = model[0], model[3]
        out: dict[str, torch.Tensor] = {}

        def snapshot(t: int) -> None:
            if req.every and t % int(req.every) == 0:
                out.update({f"W1@{t}": plain(first.weight), f"b1@{t}": plain(first.bias),
                            f"W2@{t}": plain(last.weight), f"b2@{t}": plain(last.bias)})
                if batchnorm:
                    out.update(_bn_state(student, f"@{t}"))

        problems.train_mlp(model, X, y, sgd_step=ctx.standin("sgd", "sgd_step"), steps=req.steps, lr=req.lr,
                           momentum=req.momentum,
                           seed=int(req.seed), order=tensors.get("order"), after_step=snapshot)
    out.update({"W1": plain(first.weight), "b1": plain(first.bias),
                "W2": plain(last.weight), "b2": plain(last.bias)})
    if batchnorm:
        out.update(_bn_state(student))
    return ops.TensorsOnly(out)


def _bn_state(layer: torch.nn.Module, suffix: str = "") -> dict[str, torch.Tensor]:
    """``bn.<attr><suffix>``: the layer's parameters and running statistics, those that are tensors."""
    out = {}
    for name in ("weight", "bias", "running_mean", "running_var"):
        value = getattr(layer, name, None)
        if isinstance(value, torch.Tensor):
            out[f"bn.{name}{suffix}"] = plain(value)
    return out
