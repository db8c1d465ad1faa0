"""Convergence of the BatchNorm modules: a small MLP (Linear -> the student's BatchNorm1d -> ReLU ->
Linear) trained with trusted SGD on mini-batches in the worker; the grader evaluates what comes back
(weights, and the layer's parameters and running statistics in eval mode) against a correct layer's
run from the same start."""

from __future__ import annotations

import functools

import torch
from torch import nn

from ..sandbox.worker import operations as ops
from . import layer_training as L
from .base import CheckContext, Fail, register
from .batchnorm_table import CONVERGENCE, MODULES, BatchNormSpec


@functools.cache
def _problem(name: str) -> tuple[dict, dict, torch.Tensor, float]:
    """Data, initial weights, mini-batch order and the reference's validation loss (once per process)."""
    c = CONVERGENCE
    data = L.teacher_data(c.seed, c.n, c.n_val, c.d, offset=1.0, noise=0.1, shrink=0.5)
    init = L.init_weights(c.seed + 1, c.d, c.hidden)
    order = torch.randint(0, c.n, (c.steps, c.batch), generator=torch.Generator().manual_seed(c.seed + 2))
    ref = L.train_reference(MODULES[name].reference(c.hidden), True, data, init, c, order)
    return data, init, order, L.val_loss(ref, data)


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
def bn_module_convergence(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    c = CONVERGENCE
    data, init, order, want = _problem(spec.name)
    request = ops.MlpTrain("batchnorm", spec.name, {}, c.steps, c.lr, c.momentum, c.seed,
                           tensors={"X": data["X"], "y": data["y"], "order": order, **init})
    resp = ctx.call(request, timeout=ctx.long_call_timeout())
    final = L.final_weights(resp, init)
    student = L.train_reference(_trained_layer(spec, resp), True, data, final, None)
    got = L.val_loss(student, data)
    if not got <= c.factor * want + c.slack:
        raise Fail(
            f"a small MLP (Linear -> {spec.name} -> ReLU -> Linear) trained with SGD on "
            f"mini-batches of {c.batch} with your {spec.name} reaches a validation loss of {got:.4g} in "
            f"eval mode (with its running statistics); with a correct {spec.name} it reaches {want:.4g}."
        )
