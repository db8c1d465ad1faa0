"""Cheat (03): BatchNormFunction hands back the grader's own correct stand-in, found among the worker's
objects, instead of computing. Dropout below is honest.

The grader must: flag ``gc`` for review. Granted, there is nothing to find: the worker that grades
BatchNormFunction is never given the stand-in (only the BatchNorm modules' workers are), so its lines
fail (0); Dropout keeps its points.
"""

import gc

import torch
from torch import nn


def _standin():
    gc.unfreeze()
    for obj in gc.get_objects():
        if isinstance(obj, type) and obj.__name__ == "BatchNormFunction" and "kit" in obj.__module__:
            return obj
    return None


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        found = _standin()
        if found is None:
            raise RuntimeError("no stand-in to return")
        return found.apply(x, weight, bias, eps)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, None, None, None


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
