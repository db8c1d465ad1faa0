"""Functional core: dropout(), batch_norm_forward() and batch_norm_backward() hold the math; the layers
and the autograd Function only wire them up."""
import torch
from torch import nn


def dropout(x, p, training):
    """Inverted dropout: drop with probability p, scale the survivors by 1 / (1 - p)."""
    if not training:
        return x
    if p == 1:
        return x * torch.zeros_like(x)
    mask = torch.rand(x.shape, device=x.device, dtype=x.dtype) >= p
    return torch.where(mask, x / (1 - p), torch.zeros((), device=x.device, dtype=x.dtype))


def channel_dims(ndim):
    return (0,) + tuple(range(2, ndim))


def channel_shape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


def batch_norm_forward(x, weight, bias, eps):
    """Returns y and what the backward pass needs."""
    dims, shape = channel_dims(x.dim()), channel_shape(x.dim())
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, keepdim=True, unbiased=False)
    invstd = torch.rsqrt(var + eps)
    xhat = (x - mean) * invstd
    y = xhat
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y, (xhat, invstd)


def batch_norm_backward(grad_y, xhat, invstd, weight, need_x=True, need_w=True, need_b=True):
    dims, shape = channel_dims(grad_y.dim()), channel_shape(grad_y.dim())
    grad_x = grad_w = grad_b = None
    if need_x:
        g = grad_y * weight.reshape(shape) if weight is not None else grad_y
        grad_x = invstd * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))
    if need_w:
        grad_w = (grad_y * xhat).sum(dims)
    if need_b:
        grad_b = grad_y.sum(dims)
    return grad_x, grad_w, grad_b


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    shape = channel_shape(x.dim())
    y = (x - running_mean.reshape(shape)) * torch.rsqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def update_running_stats(running_mean, running_var, num_batches_tracked, x, momentum):
    with torch.no_grad():
        num_batches_tracked.add_(1)
        rho = momentum if momentum is not None else 1.0 / num_batches_tracked.to(torch.float64)
        dims = channel_dims(x.dim())
        running_mean.mul_(1 - rho).add_(rho * x.mean(dims))
        running_var.mul_(1 - rho).add_(rho * x.var(dims, unbiased=True))


def check_batch_size(x):
    if x.numel() // x.shape[1] <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        y, (xhat, invstd) = batch_norm_forward(x, weight, bias, eps)
        ctx.save_for_backward(xhat, invstd, weight)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        xhat, invstd, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        return (*batch_norm_backward(grad_y, xhat, invstd, weight, nx, nw, nb), None)


def _make_state(module, num_features, affine, track_running_stats, device, dtype):
    if affine:
        module.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
        module.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    if track_running_stats:
        module.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
        module.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
        module.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
    else:
        module.register_buffer("running_mean", None)
        module.register_buffer("running_var", None)
        module.register_buffer("num_batches_tracked", None)


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _make_state(self, num_features, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        if not self.training and self.track_running_stats:
            return batch_norm_eval(x, self.running_mean, self.running_var, self.weight, self.bias, self.eps)
        check_batch_size(x)
        if self.training and self.track_running_stats:
            update_running_stats(self.running_mean, self.running_var, self.num_batches_tracked, x, self.momentum)
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _make_state(self, num_features, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if not self.training and self.track_running_stats:
            return batch_norm_eval(x, self.running_mean, self.running_var, self.weight, self.bias, self.eps)
        check_batch_size(x)
        if self.training and self.track_running_stats:
            update_running_stats(self.running_mean, self.running_var, self.num_batches_tracked, x, self.momentum)
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
