"""Forbidden: BatchNormFunction computes forward and backward with torch's aten kernels through
torch.ops (``_native_batch_norm_legit`` and ``native_batch_norm_backward``), so neither is written by
hand; Dropout below is honest.

The grader must: give every BatchNormFunction line 0 with status "forbidden" and keep Dropout's
points. (For 03_regularization.)
"""

import torch
from torch import nn


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        y, mean, rstd = torch.ops.aten._native_batch_norm_legit(x, weight, bias, True, 0.0, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, rstd = ctx.saved_tensors
        gx, gw, gb = torch.ops.aten.native_batch_norm_backward(
            grad, x, weight, None, None, mean, rstd, True, ctx.eps, [True, weight is not None, weight is not None])
        return gx, gw, gb, None


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        return x * (torch.rand_like(x) >= self.p) / (1.0 - self.p)
