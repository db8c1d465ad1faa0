"""The batch statistics of one forward pass live in a small dataclass that the autograd Function, the
running-statistics update and the eval path share."""
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class BatchStats:
    dims: tuple
    view: tuple
    count: int
    mean: torch.Tensor
    var: torch.Tensor  # biased

    @classmethod
    def of(cls, x):
        dims = (0,) + tuple(range(2, x.dim()))
        view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
        mean = x.mean(dims)
        var = (x - mean.view(view)).pow(2).mean(dims)
        return cls(dims, view, x.numel() // x.shape[1], mean, var)

    @property
    def unbiased_var(self):
        return self.var * (self.count / (self.count - 1))


@dataclass(frozen=True)
class NormConfig:
    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        mask = torch.rand_like(x).ge(self.p).to(x.dtype)
        return x * mask * (0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p))

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        stats = BatchStats.of(x)
        invstd = torch.rsqrt(stats.var + eps).view(stats.view)
        xhat = (x - stats.mean.view(stats.view)) * invstd
        y = xhat if weight is None else xhat * weight.view(stats.view)
        if bias is not None:
            y = y + bias.view(stats.view)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.dims, ctx.view, ctx.with_bias = stats.dims, stats.view, bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        xhat, invstd, weight = ctx.saved_tensors
        dims, view = ctx.dims, ctx.view
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad_y if weight is None else grad_y * weight.view(view)
            grad_x = invstd * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))
        if need_w and weight is not None:
            grad_w = (grad_y * xhat).sum(dims)
        if need_b and ctx.with_bias:
            grad_b = grad_y.sum(dims)
        return grad_x, grad_w, grad_b, None


class _ConfiguredBatchNorm(nn.Module):
    ranks = ()

    def __init__(self, config, device=None, dtype=None):
        super().__init__()
        self.config = config
        self.num_features = config.num_features
        self.eps = config.eps
        self.momentum = config.momentum
        self.affine = config.affine
        self.track_running_stats = config.track_running_stats
        c, kw = config.num_features, {"device": device, "dtype": dtype}
        if config.affine:
            self.weight = nn.Parameter(torch.ones(c, **kw))
            self.bias = nn.Parameter(torch.zeros(c, **kw))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if config.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(c, **kw))
            self.register_buffer("running_var", torch.ones(c, **kw))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() not in self.ranks:
            raise ValueError(self.rank_message.format(x.dim()))
        if self.training or not self.track_running_stats:
            if x.numel() // x.shape[1] <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    stats = BatchStats.of(x)
                    self.num_batches_tracked += 1
                    rho = 1.0 / self.num_batches_tracked.double() if self.momentum is None else self.momentum
                    self.running_mean.mul_(1 - rho).add_(rho * stats.mean)
                    self.running_var.mul_(1 - rho).add_(rho * stats.unbiased_var)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        view = (1, -1) + (1,) * (x.dim() - 2)
        y = (x - self.running_mean.view(view)) * torch.rsqrt(self.running_var.view(view) + self.eps)
        if self.weight is not None:
            y = y * self.weight.view(view) + self.bias.view(view)
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_ConfiguredBatchNorm):
    ranks = (2, 3)
    rank_message = "expected 2D or 3D input (got {}D input)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(NormConfig(num_features, eps, momentum, affine, track_running_stats), device, dtype)


class BatchNorm2d(_ConfiguredBatchNorm):
    ranks = (4,)
    rank_message = "expected 4D input (got {}D input)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(NormConfig(num_features, eps, momentum, affine, track_running_stats), device, dtype)
