import torch
from torch import nn


class Dropout(nn.Module):
    """Keeps the last mask in self.mask (handy to look at in the notebook)."""

    def __init__(self, p=0.5):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.mask = None

    def forward(self, x):
        if not self.training:
            return x
        self.mask = torch.rand_like(x).lt(1.0 - self.p).type_as(x)
        if self.p == 1.0:
            return x * self.mask
        return x * self.mask / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = [i for i in range(x.dim()) if i != 1]
        var, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
        invstd = torch.rsqrt(var + eps)
        x_hat = (x - mean) * invstd
        shape = [x.shape[1] if i == 1 else 1 for i in range(x.dim())]
        if weight is not None and bias is not None:
            y = torch.addcmul(bias.reshape(shape), x_hat, weight.reshape(shape))
        elif weight is not None:
            y = x_hat * weight.reshape(shape)
        elif bias is not None:
            y = x_hat + bias.reshape(shape)
        else:
            y = x_hat.clone()
        ctx.save_for_backward(x_hat, invstd, weight)
        ctx.dims = dims
        ctx.bias_none = bias is None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, invstd, weight = ctx.saved_tensors
        dims = ctx.dims
        m = grad_y.numel() // grad_y.shape[1]
        shape = [grad_y.shape[1] if i == 1 else 1 for i in range(grad_y.dim())]
        dy_sum = grad_y.sum(dims, keepdim=True)
        dy_xhat_sum = (grad_y * x_hat).sum(dims, keepdim=True)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            k = invstd / m if weight is None else weight.reshape(shape) * invstd / m
            grad_x = k * (m * grad_y - dy_sum - x_hat * dy_xhat_sum)
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = dy_xhat_sum.reshape(-1)
        if not ctx.bias_none and ctx.needs_input_grad[2]:
            grad_b = dy_sum.reshape(-1)
        return grad_x, grad_w, grad_b, None


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory_kwargs))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory_kwargs))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory_kwargs))
            self.register_buffer("running_var", torch.ones(num_features, **factory_kwargs))
            self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        dims = [0] if x.dim() == 2 else [0, 2]
        shape = [1, -1] if x.dim() == 2 else [1, -1, 1]
        if self.training or not self.track_running_stats:
            m = x.shape[0] if x.dim() == 2 else x.shape[0] * x.shape[2]
            if m == 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    var, mean = torch.var_mean(x, dim=dims, correction=1)
                    self.num_batches_tracked.add_(1)
                    f = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
                    self.running_mean.mul_(1.0 - f).add_(mean * f)
                    self.running_var.mul_(1.0 - f).add_(var * f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        scale = torch.rsqrt(self.running_var + self.eps)
        if self.affine:
            scale = scale * self.weight
            shift = self.bias - self.running_mean * scale
        else:
            shift = -self.running_mean * scale
        return x * scale.reshape(shape) + shift.reshape(shape)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory_kwargs))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory_kwargs))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory_kwargs))
            self.register_buffer("running_var", torch.ones(num_features, **factory_kwargs))
            self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if self.training or not self.track_running_stats:
            if x.shape[0] * x.shape[2] * x.shape[3] == 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    var, mean = torch.var_mean(x, dim=[0, 2, 3], correction=1)
                    self.num_batches_tracked.add_(1)
                    f = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
                    self.running_mean.mul_(1.0 - f).add_(mean * f)
                    self.running_var.mul_(1.0 - f).add_(var * f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        scale = torch.rsqrt(self.running_var + self.eps)
        if self.affine:
            scale = scale * self.weight
            shift = self.bias - self.running_mean * scale
        else:
            shift = -self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
