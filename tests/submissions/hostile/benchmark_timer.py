"""Cheat (03): runs ``F.dropout`` from a code string, through ``torch.utils.benchmark.Timer``, so the syntax
tree never shows the call. BatchNormFunction below is honest.

The grader must: flag ``torch.utils.benchmark`` (a code-string runner) for review. Granted, torch's dropout
is switched off in Dropout's worker: Dropout's lines are forbidden (0), BatchNormFunction keeps its points.
"""

import torch
import torch.utils.benchmark
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def forward(self, x):
        box = {}
        timer = torch.utils.benchmark.Timer(
            stmt="box['y'] = torch.nn.functional.dropout(x, p, training)",
            globals={"box": box, "x": x, "p": self.p, "training": self.training, "torch": torch})
        timer.timeit(1)
        return box["y"]


class BatchNormFunction(torch.autograd.Function):
    """Batch normalization over every dim but 1, with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = [0] + list(range(2, x.dim()))
        shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased
        inv_std = 1.0 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        y = x_hat
        if weight is not None:
            y = y * weight.view(shape)
        if bias is not None:
            y = y + bias.view(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved_tensors
        dims = [0] + list(range(2, x_hat.dim()))
        shape = [1, x_hat.shape[1]] + [1] * (x_hat.dim() - 2)
        m = x_hat.numel() // x_hat.shape[1]

        grad_weight = (grad_out * x_hat).sum(dim=dims) if weight is not None else None
        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias else None

        g = grad_out * weight.view(shape) if weight is not None else grad_out
        sum_g = g.sum(dim=dims, keepdim=True)
        sum_g_xhat = (g * x_hat).sum(dim=dims, keepdim=True)
        grad_x = inv_std / m * (m * g - sum_g - x_hat * sum_g_xhat)
        grad_x, grad_weight, grad_bias = (grad if need else None for grad, need in
                                          zip((grad_x, grad_weight, grad_bias), ctx.needs_input_grad))
        return grad_x, grad_weight, grad_bias, None
