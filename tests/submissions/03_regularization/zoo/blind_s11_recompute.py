import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        mask = torch.rand(x.shape, dtype=x.dtype, device=x.device) < keep
        if keep == 0:
            return x.masked_fill(~mask, 0.0)
        return torch.where(mask, x / keep, 0.0)

    def extra_repr(self):
        return f"p={self.p}"


def _dims(x):
    return [0] + list(range(2, x.dim()))


def _col(t, ndim):
    return t.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormFunction(torch.autograd.Function):
    """Saves the input and its statistics; x_hat is recomputed in backward (less memory kept around)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        d = _dims(x)
        mean = x.mean(d)
        var = x.var(d, unbiased=False)
        rstd = torch.rsqrt(var + eps)
        y = (x - _col(mean, x.dim())) * _col(rstd, x.dim())
        if weight is not None:
            y = y * _col(weight, x.dim())
        if bias is not None:
            y = y + _col(bias, x.dim())
        ctx.save_for_backward(x, mean, rstd, weight, bias)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, mean, rstd, weight, bias = ctx.saved_tensors
        n, d = x.dim(), _dims(x)
        x_hat = (x - _col(mean, n)) * _col(rstd, n)
        m = x.numel() // x.shape[1]
        grad_x = grad_w = grad_b = None
        sum_dy = grad_y.sum(d)
        sum_dy_xhat = (grad_y * x_hat).sum(d)
        if ctx.needs_input_grad[0]:
            scale = rstd if weight is None else weight * rstd
            grad_x = _col(scale / m, n) * (m * grad_y - _col(sum_dy, n) - x_hat * _col(sum_dy_xhat, n))
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = sum_dy_xhat
        if bias is not None and ctx.needs_input_grad[2]:
            grad_b = sum_dy
        return grad_x, grad_w, grad_b, None


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.register_parameter("weight", nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
                                if affine else None)
        self.register_buffer("running_mean",
                             torch.zeros(num_features, device=device, dtype=dtype) if track_running_stats else None)
        self.register_buffer("running_var",
                             torch.ones(num_features, device=device, dtype=dtype) if track_running_stats else None)
        self.register_buffer("num_batches_tracked",
                             torch.tensor(0, dtype=torch.long, device=device) if track_running_stats else None)

    def _check(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")

    def forward(self, x):
        self._check(x)
        if self.training or not self.track_running_stats:
            if x.numel() == x.shape[1]:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    a = self.momentum if self.momentum is not None else self.num_batches_tracked.double().reciprocal()
                    d = _dims(x)
                    self.running_mean.copy_(torch.lerp(self.running_mean, x.mean(d), a))
                    self.running_var.copy_(torch.lerp(self.running_var, x.var(d), a))
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        n = x.dim()
        y = (x - _col(self.running_mean, n)) * _col(torch.rsqrt(self.running_var + self.eps), n)
        if self.affine:
            y = torch.addcmul(_col(self.bias, n), y, _col(self.weight, n))
        return y

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
        self.register_parameter("weight", nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
                                if affine else None)
        self.register_buffer("running_mean",
                             torch.zeros(num_features, device=device, dtype=dtype) if track_running_stats else None)
        self.register_buffer("running_var",
                             torch.ones(num_features, device=device, dtype=dtype) if track_running_stats else None)
        self.register_buffer("num_batches_tracked",
                             torch.tensor(0, dtype=torch.long, device=device) if track_running_stats else None)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if self.training or not self.track_running_stats:
            if x.numel() == x.shape[1]:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    a = self.momentum if self.momentum is not None else self.num_batches_tracked.double().reciprocal()
                    self.running_mean.copy_(torch.lerp(self.running_mean, x.mean((0, 2, 3)), a))
                    self.running_var.copy_(torch.lerp(self.running_var, x.var((0, 2, 3)), a))
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        y = (x - _col(self.running_mean, 4)) * _col(torch.rsqrt(self.running_var + self.eps), 4)
        if self.affine:
            y = torch.addcmul(_col(self.bias, 4), y, _col(self.weight, 4))
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
