"""Regularization notebook export: Dropout and BatchNorm.

BatchNormFunction's backward is the step-by-step chain rule through the
computational graph (mean -> centered -> variance -> inverse std -> output).
BatchNorm2d moves the channels last and reuses the same function on a 2-D view.
"""

import math

import torch
import torch.nn as nn


class Dropout(nn.Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        keep_prob = 1.0 - self.p
        mask = torch.bernoulli(torch.full_like(x, keep_prob)).bool()
        # where() keeps p = 1 finite: every unit dropped, x / 0 never selected
        return torch.where(mask, x / keep_prob if keep_prob > 0 else x, torch.zeros_like(x))


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        C = x.size(1)
        reduce_dims = tuple(d for d in range(x.dim()) if d != 1)
        view = [1] * x.dim()
        view[1] = C
        n = x.numel() / C

        mu = x.sum(dim=reduce_dims, keepdim=True) / n
        xc = x - mu
        var = (xc * xc).sum(dim=reduce_dims, keepdim=True) / n
        std = torch.sqrt(var + eps)
        xn = xc / std

        out = xn
        if weight is not None:
            out = out * weight.reshape(view)
        if bias is not None:
            out = out + bias.reshape(view)

        ctx.save_for_backward(xc, std, weight, bias)
        ctx.reduce_dims = reduce_dims
        ctx.n = n
        return out

    @staticmethod
    def backward(ctx, dout):
        xc, std, weight, bias = ctx.saved_tensors
        dims, n = ctx.reduce_dims, ctx.n
        view = [1] * xc.dim()
        view[1] = xc.size(1)
        xn = xc / std

        dweight = dbias = None
        if weight is not None and ctx.needs_input_grad[1]:
            dweight = (dout * xn).sum(dim=dims)
        if bias is not None and ctx.needs_input_grad[2]:
            dbias = dout.sum(dim=dims)

        dxn = dout * weight.reshape(view) if weight is not None else dout
        # xn = xc / std
        dxc = dxn / std
        dstd = -(dxn * xc).sum(dim=dims, keepdim=True) / (std * std)
        # std = sqrt(var + eps)
        dvar = dstd / (2 * std)
        # var = mean(xc^2)
        dxc = dxc + 2 * xc * dvar / n
        # xc = x - mu, mu = mean(x)
        dmu = -dxc.sum(dim=dims, keepdim=True)
        dx = dxc + dmu / n
        return (dx if ctx.needs_input_grad[0] else None), dweight, dbias, None


class _Stats(nn.Module):
    """Parameters, buffers and the eval path shared by both BatchNorm layers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0))
        else:
            self.running_mean = None
            self.running_var = None
            self.num_batches_tracked = None

    def _normalize_2d(self, x2):
        """x2 has shape (M, C): M values per channel."""
        if self.training or self.running_mean is None:
            if x2.shape[0] == 1:
                raise ValueError("Expected more than 1 value per channel when training, "
                                 f"got input size {self._input_size}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    if self.momentum is None:
                        w = 1 / float(self.num_batches_tracked)
                    else:
                        w = self.momentum
                    m = x2.shape[0]
                    mean = x2.mean(0)
                    unbiased = ((x2 - mean) ** 2).sum(0) / (m - 1)
                    self.running_mean.copy_((1 - w) * self.running_mean + w * mean)
                    self.running_var.copy_((1 - w) * self.running_var + w * unbiased)
            return BatchNormFunction.apply(x2, self.weight, self.bias, self.eps)
        y = (x2 - self.running_mean) * torch.rsqrt(self.running_var + self.eps)
        if self.affine:
            y = torch.addcmul(self.bias, y, self.weight)
        return y


class BatchNorm1d(_Stats):
    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        self._input_size = x.size()
        if x.dim() == 2:
            return self._normalize_2d(x)
        N, C, L = x.shape
        y = self._normalize_2d(x.transpose(1, 2).reshape(N * L, C))
        return y.reshape(N, L, C).transpose(1, 2)


class BatchNorm2d(_Stats):
    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        self._input_size = x.size()
        N, C, H, W = x.shape
        y = self._normalize_2d(x.permute(0, 2, 3, 1).reshape(N * H * W, C))
        return y.reshape(N, H, W, C).permute(0, 3, 1, 2)
