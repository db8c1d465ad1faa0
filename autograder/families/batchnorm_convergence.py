"""Convergence of the BatchNorm modules: a small MLP (Linear -> the student's BatchNorm1d -> ReLU ->
Linear) trained with trusted SGD on mini-batches in the worker; the grader evaluates what comes back
(weights, and the layer's parameters and running statistics in eval mode) against a correct layer's
run from the same start."""

from __future__ import annotations

import functools

import torch
from torch import nn

from ..records import CheckResult
from ..sandbox.worker import operations as ops
from . import layer_training as L
from .base import CheckContext, Fail, register
from .batchnorm_table import CONVERGENCE, MODULES, BatchNormSpec

CURVE_EVERY = 5  # steps between two points of the convergence plot
BN_KEYS = ("weight", "bias", "running_mean", "running_var")


def _eval_val_loss(w: dict[str, torch.Tensor], data: dict) -> float:
    """The validation loss of Linear -> BatchNorm1d in eval mode (running statistics, the default eps)
    -> ReLU -> Linear with the weights and layer state ``w``, computed without building modules."""
    with torch.no_grad():
        h = data["Xv"] @ w["W1"].T + w["b1"]
        h = (h - w["running_mean"]) / torch.sqrt(w["running_var"] + 1e-5) * w["weight"] + w["bias"]
        return float(nn.functional.mse_loss(torch.relu(h) @ w["W2"].T + w["b2"], data["yv"]))


@functools.cache
def _problem(name: str) -> tuple[dict, dict, torch.Tensor, float, list[float]]:
    """Data, initial weights, mini-batch order, the reference's validation loss and its curve (once per
    process)."""
    c = CONVERGENCE
    data = L.teacher_data(c.seed, c.n, c.n_val, c.d, offset=1.0, noise=0.1, shrink=0.5)
    init = L.init_weights(c.seed + 1, c.d, c.hidden)
    order = torch.randint(0, c.n, (c.steps, c.batch), generator=torch.Generator().manual_seed(c.seed + 2))
    curve: list[float] = []

    def snapshot(t: int, model) -> None:
        if t % CURVE_EVERY == 0:
            first, bn, last = model[0], model[1], model[3]
            w = {"W1": first.weight, "b1": first.bias, "W2": last.weight, "b2": last.bias,
                 **{k: getattr(bn, k) for k in BN_KEYS}}
            curve.append(_eval_val_loss({k: v.detach() for k, v in w.items()}, data))

    layer = MODULES[name].reference(c.hidden)
    ref = L.train_reference(layer, True, data, init, c, order, after_step=snapshot)
    return data, init, order, L.val_loss(ref, data), curve


def _trained_layer(spec: BatchNormSpec, resp: ops.Reply) -> nn.Module:
    """The reference module holding the parameters and running statistics the student's ended with."""
    hidden = CONVERGENCE.hidden
    bn = spec.reference(hidden)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = resp.tensors.get(f"bn.{name}")
            if value is None or value.shape != (hidden,):
                raise Fail(
                    f"after training, bn.{name} of your {spec.name}({hidden}) is missing or not of "
                    f"shape ({hidden},)"
                )
            getattr(bn, name).copy_(value)
    return bn


@register("bn_module_convergence")
def bn_module_convergence(ctx: CheckContext) -> CheckResult:
    spec = MODULES[ctx.name]
    c = CONVERGENCE
    data, init, order, want, ref_curve = _problem(spec.name)
    tensors = {"X": data["X"], "y": data["y"], "order": order, **init}
    request = ops.MlpTrain("batchnorm", spec.name, {}, c.steps, c.lr, c.momentum, c.seed, tensors=tensors,
                           every=CURVE_EVERY)
    resp = ctx.call(request, timeout=ctx.long_call_timeout())
    final = L.final_weights(resp, init)
    student = L.train_reference(_trained_layer(spec, resp), True, data, final, None)
    got = L.val_loss(student, data)
    keys = {k: k for k in ("W1", "b1", "W2", "b2")} | {k: f"bn.{k}" for k in BN_KEYS}
    mine = L.snapshot_curve(resp, c.steps, CURVE_EVERY, keys, lambda w: _eval_val_loss(w, data))
    steps = list(range(CURVE_EVERY, c.steps + 1, CURVE_EVERY))
    plot = {"title": f"a small MLP with {spec.name}, trained with SGD on mini-batches of {c.batch}",
            "xlabel": "step", "ylabel": "validation MSE, eval mode (log scale)", "log": True,
            "caption": f"the validation loss (with the running statistics) while training with your "
                       f"{spec.name} against a correct one's, same data, weights, batches and optimizer",
            "series": [{"label": f"your {spec.name}", "x": steps[: len(mine)], "y": mine},
                       {"label": f"a correct {spec.name}", "x": steps[: len(ref_curve)], "y": ref_curve}]}
    if not got <= c.factor * want + c.slack:
        raise Fail(
            f"a small MLP (Linear -> {spec.name} -> ReLU -> Linear) trained with SGD on "
            f"mini-batches of {c.batch} with your {spec.name} reaches a validation loss of {got:.4g} in "
            f"eval mode (with its running statistics); with a correct {spec.name} it reaches {want:.4g}.",
            plot=plot,
        )
    return CheckResult(ctx.line.id, "passed", "", 1.0, plot)
