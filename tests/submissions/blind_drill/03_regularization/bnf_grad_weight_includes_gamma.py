import math

import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout: in training, zero each element with probability ``p``, scale the rest by ``1/(1-p)``."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * torch.zeros_like(x)
        keep = torch.rand_like(x) >= self.p
        return x * keep.to(x.dtype) * (1.0 / (1.0 - self.p))

    def extra_repr(self):
        return f"p={self.p}"


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def _reduce_dims(x):
    return [d for d in range(x.dim()) if d != 1]


class BatchNormFunction(torch.autograd.Function):
    """Batch normalisation with batch statistics and a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = _reduce_dims(x)
        shape = _channel_shape(x)
        mean = x.mean(dim=dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=dims, keepdim=True)
        inv_std = torch.rsqrt(var + eps)
        x_hat = centered * inv_std
        y = x_hat
        if weight is not None:
            y = y * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.dims = dims
        ctx.shape = shape
        ctx.has_weight = weight is not None
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, inv_std, weight = ctx.saved_tensors
        dims, shape = ctx.dims, ctx.shape
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            g = grad_y * weight.reshape(shape) if ctx.has_weight else grad_y
            grad_x = inv_std * (g - g.mean(dim=dims, keepdim=True)
                                - x_hat * (g * x_hat).mean(dim=dims, keepdim=True))
        if ctx.has_weight and ctx.needs_input_grad[1]:
            grad_weight = (grad_y * weight.reshape(shape) * x_hat).sum(dim=dims)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_y.sum(dim=dims)
        return grad_x, grad_weight, grad_bias, None


class BatchNorm1d(nn.Module):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs, with torch's parameters and buffers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")

    def forward(self, x):
        self._check_input_dim(x)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            m = x.shape[0] * math.prod(x.shape[2:])
            if m <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            y = BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    if self.momentum is None:
                        rho = 1.0 / self.num_batches_tracked.to(self.running_mean.dtype)
                    else:
                        rho = self.momentum
                    dims = [d for d in range(x.dim()) if d != 1]
                    xd = x.detach()
                    batch_mean = xd.mean(dim=dims)
                    batch_var = xd.var(dim=dims, unbiased=True)
                    self.running_mean.mul_(1 - rho).add_(rho * batch_mean)
                    self.running_var.mul_(1 - rho).add_(rho * batch_var)
            return y
        shape = (1, x.shape[1]) + (1,) * (x.dim() - 2)
        y = (x - self.running_mean.reshape(shape)) * torch.rsqrt(self.running_var.reshape(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    """Batch normalisation of ``(N, C, H, W)`` inputs, with torch's parameters and buffers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")

    def forward(self, x):
        self._check_input_dim(x)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            m = x.shape[0] * x.shape[2] * x.shape[3]
            if m <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            y = BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    if self.momentum is None:
                        rho = 1.0 / self.num_batches_tracked.to(self.running_mean.dtype)
                    else:
                        rho = self.momentum
                    xd = x.detach()
                    batch_mean = xd.mean(dim=(0, 2, 3))
                    batch_var = xd.var(dim=(0, 2, 3), unbiased=True)
                    self.running_mean.mul_(1 - rho).add_(rho * batch_mean)
                    self.running_var.mul_(1 - rho).add_(rho * batch_var)
            return y
        shape = (1, x.shape[1], 1, 1)
        y = (x - self.running_mean.reshape(shape)) * torch.rsqrt(self.running_var.reshape(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
