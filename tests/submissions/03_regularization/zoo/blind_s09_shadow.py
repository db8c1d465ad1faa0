import torch
from torch import nn
from torch.nn import Dropout  # to look at what torch does first; my own class below replaces it


class Dropout(nn.Module):  # noqa: F811
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return torch.zeros_like(x) * x
        keep = torch.bernoulli(torch.full_like(x, 1.0 - self.p))
        return x * keep / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        n_channels = x.shape[1]
        flat = x.transpose(0, 1).reshape(n_channels, -1)  # (C, m)
        mean = flat.mean(1)
        var = flat.var(1, unbiased=False)
        invstd = 1.0 / torch.sqrt(var + eps)
        view = (1, n_channels) + (1,) * (x.dim() - 2)
        xhat = (x - mean.view(view)) * invstd.view(view)
        y = xhat
        if weight is not None:
            y = y * weight.view(view)
        if bias is not None:
            y = y + bias.view(view)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.bias_is_none = bias is None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        xhat, invstd, weight = ctx.saved_tensors
        C = grad_y.shape[1]
        view = (1, C) + (1,) * (grad_y.dim() - 2)
        flat = lambda t: t.transpose(0, 1).reshape(C, -1)
        grad_x = grad_w = grad_b = None
        sum_g = flat(grad_y).sum(1)
        sum_g_xhat = flat(grad_y * xhat).sum(1)
        if ctx.needs_input_grad[0]:
            m = flat(grad_y).shape[1]
            w = weight if weight is not None else torch.ones_like(invstd)
            k = (w * invstd).view(view)
            grad_x = k * (grad_y - sum_g.view(view) / m - xhat * sum_g_xhat.view(view) / m)
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = sum_g_xhat
        if not ctx.bias_is_none and ctx.needs_input_grad[2]:
            grad_b = sum_g
        return grad_x, grad_w, grad_b, None


def _init_layer(layer, num_features, eps, momentum, affine, track_running_stats, device, dtype):
    layer.num_features, layer.eps, layer.momentum = num_features, eps, momentum
    layer.affine, layer.track_running_stats = affine, track_running_stats
    if affine:
        layer.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
        layer.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
    else:
        layer.register_parameter("weight", None)
        layer.register_parameter("bias", None)
    if track_running_stats:
        layer.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
        layer.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
        layer.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
    else:
        layer.register_buffer("running_mean", None)
        layer.register_buffer("running_var", None)
        layer.register_buffer("num_batches_tracked", None)


def _bn_forward(layer, x):
    C = x.shape[1]
    view = (1, C) + (1,) * (x.dim() - 2)
    if layer.training or not layer.track_running_stats:
        m = x.numel() // C
        if m == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
        if layer.training and layer.track_running_stats:
            with torch.no_grad():
                flat = x.detach().transpose(0, 1).reshape(C, -1)
                layer.num_batches_tracked += 1
                rho = layer.momentum if layer.momentum is not None else 1.0 / layer.num_batches_tracked.double()
                layer.running_mean.mul_(1.0 - rho).add_(rho * flat.mean(1))
                layer.running_var.mul_(1.0 - rho).add_(rho * flat.var(1, unbiased=True))
        return BatchNormFunction.apply(x, layer.weight, layer.bias, layer.eps)
    y = (x - layer.running_mean.view(view)) / torch.sqrt(layer.running_var.view(view) + layer.eps)
    if layer.affine:
        y = y * layer.weight.view(view) + layer.bias.view(view)
    return y


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        _init_layer(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        return _bn_forward(self, x)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        _init_layer(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        return _bn_forward(self, x)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
