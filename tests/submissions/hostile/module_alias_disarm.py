"""Cheat (03): binds torch.nn.functional to a plain variable (``nnf``) so that ``nnf.batch_norm`` does not
read as torch's batch norm, and tries to switch the grader's runtime checks off through sys.modules first.
Dropout below is honest.

The grader must: flag the delegation through the alias and ``import sys`` for review. Granted, there is
nothing to switch off (the guards are no Python objects) and batch norm is switched off at torch's
dispatcher in BatchNormFunction's worker: its lines are forbidden (0), Dropout keeps its points.
"""

import sys

import torch
from torch import nn

nnf = torch.nn.functional
for _name in list(sys.modules):
    if _name.startswith("kitworker"):
        _module = sys.modules[_name]
        for _attr in ("armed", "disable", "prepare", "hits"):
            if hasattr(_module, _attr):
                setattr(_module, _attr, lambda *a, **k: None)


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            wr = weight.detach().requires_grad_(True) if weight is not None else None
            br = bias.detach().requires_grad_(True) if bias is not None else None
            y = nnf.batch_norm(xr, None, None, wr, br, training=True, eps=eps)
        ctx.save_for_backward(xr, y)
        ctx.inputs = (xr, wr, br)
        return y.detach()

    @staticmethod
    def backward(ctx, grad_y):
        xr, y = ctx.saved_tensors
        inputs = [t for t in ctx.inputs if t is not None]
        grads = iter(torch.autograd.grad(y, inputs, grad_y))
        return (*(next(grads) if t is not None else None for t in ctx.inputs), None)


class Dropout(nn.Module):
    """Inverted dropout: p is the probability of DROPPING a unit.

    (The lecture writes the layer with the keep probability; here keep = 1 - p.)
    """

    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients
        keep = torch.rand_like(x) >= self.p
        return x * keep / (1 - self.p)
