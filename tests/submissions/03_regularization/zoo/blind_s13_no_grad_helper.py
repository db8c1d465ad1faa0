import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if self.training:
            keep_prob = 1.0 - self.p
            mask = x.new_empty(x.shape).bernoulli_(keep_prob)
            if keep_prob > 0.0:
                mask.div_(keep_prob)
            return x * mask
        return x

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        axes = (0,) + tuple(range(2, x.dim()))
        shape = (1, -1) + (1,) * (x.dim() - 2)
        m = x.numel() // x.shape[1]
        mean = torch.sum(x, dim=axes, keepdim=True) / m
        centered = x - mean
        var = torch.sum(centered * centered, dim=axes, keepdim=True) / m
        std = torch.sqrt(var + eps)
        x_hat = centered / std
        y = x_hat
        if weight is not None:
            y = y * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save_for_backward(x_hat, std, weight)
        ctx.axes, ctx.shape, ctx.m = axes, shape, m
        ctx.bias_present = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, std, weight = ctx.saved_tensors
        axes, shape, m = ctx.axes, ctx.shape, ctx.m
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            g = grad_y * weight.reshape(shape) if weight is not None else grad_y
            sum_g = torch.sum(g, dim=axes, keepdim=True)
            sum_gx = torch.sum(g * x_hat, dim=axes, keepdim=True)
            grad_x = (g - sum_g / m - x_hat * sum_gx / m) / std
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = torch.sum(grad_y * x_hat, dim=axes)
        if ctx.bias_present and ctx.needs_input_grad[2]:
            grad_b = torch.sum(grad_y, dim=axes)
        return grad_x, grad_w, grad_b, None


@torch.no_grad()
def update_running_stats(module, x):
    """One exponential-moving-average step of the running statistics (unbiased variance)."""
    axes = (0,) + tuple(range(2, x.dim()))
    module.num_batches_tracked += 1
    if module.momentum is None:
        rho = 1.0 / module.num_batches_tracked.double()
    else:
        rho = module.momentum
    module.running_mean.mul_(1 - rho).add_(rho * x.mean(axes))
    module.running_var.mul_(1 - rho).add_(rho * x.var(axes, unbiased=True))


def normalize_with_running_stats(module, x):
    shape = (1, -1) + (1,) * (x.dim() - 2)
    y = (x - module.running_mean.reshape(shape)) / torch.sqrt(module.running_var.reshape(shape) + module.eps)
    if module.affine:
        y = y * module.weight.reshape(shape) + module.bias.reshape(shape)
    return y


def register_state(module, num_features, affine, track_running_stats, device, dtype):
    opts = {"device": device, "dtype": dtype}
    if affine:
        module.weight = nn.Parameter(torch.ones(num_features, **opts))
        module.bias = nn.Parameter(torch.zeros(num_features, **opts))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    if track_running_stats:
        module.register_buffer("running_mean", torch.zeros(num_features, **opts))
        module.register_buffer("running_var", torch.ones(num_features, **opts))
        module.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
    else:
        module.register_buffer("running_mean", None)
        module.register_buffer("running_var", None)
        module.register_buffer("num_batches_tracked", None)


def one_value_per_channel(x):
    return x.numel() // x.shape[1] == 1


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_state(self, num_features, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() < 2 or x.dim() > 3:
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        if not self.training and self.track_running_stats:
            return normalize_with_running_stats(self, x)
        if one_value_per_channel(x):
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
        if self.training and self.track_running_stats:
            update_running_stats(self, x)
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_state(self, num_features, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if not self.training and self.track_running_stats:
            return normalize_with_running_stats(self, x)
        if one_value_per_channel(x):
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
        if self.training and self.track_running_stats:
            update_running_stats(self, x)
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
