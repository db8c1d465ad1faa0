import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        q = 1.0 - self.p  # the lecture's keep probability
        if q == 0.0:
            return x.mul(0.0)
        return x * (torch.rand_like(x) < q) / q

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = [0, *range(2, x.dim())]
        mean = x.mean(dims, keepdim=True)
        var = (x - mean).square().mean(dims, keepdim=True)
        s = (var + eps).rsqrt()
        x_hat = (x - mean) * s
        ctx.save_for_backward(x_hat, s, weight, bias)
        ctx.dims = dims
        y = x_hat
        for name, param in (("weight", weight), ("bias", bias)):
            if param is None:
                continue
            param = param.view(1, -1, *([1] * (x.dim() - 2)))
            y = y * param if name == "weight" else y + param
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, s, weight, bias = ctx.saved_tensors
        dims = ctx.dims
        shape = (1, -1, *([1] * (grad_y.dim() - 2)))
        grads = [None, None, None, None]
        if ctx.needs_input_grad[0]:
            g = grad_y if weight is None else grad_y * weight.view(shape)
            grads[0] = s * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
        if weight is not None and ctx.needs_input_grad[1]:
            grads[1] = (grad_y * x_hat).sum(dims)
        if bias is not None and ctx.needs_input_grad[2]:
            grads[2] = grad_y.sum(dims)
        return tuple(grads)


class _BatchNorm(nn.Module):
    _expected_dims = ()
    _stats = ("running_mean", "running_var")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = dict(device=device, dtype=dtype)
        for name, init in (("weight", torch.ones), ("bias", torch.zeros)):
            if affine:
                setattr(self, name, nn.Parameter(init(num_features, **factory)))
            else:
                self.register_parameter(name, None)
        for name, init in (("running_mean", torch.zeros), ("running_var", torch.ones)):
            self.register_buffer(name, init(num_features, **factory) if track_running_stats else None)
        self.register_buffer("num_batches_tracked",
                             torch.tensor(0, dtype=torch.long, device=device) if track_running_stats else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            for name, value in zip(self._stats, (0.0, 1.0)):
                getattr(self, name).fill_(value)
            self.num_batches_tracked.zero_()

    def forward(self, x):
        if x.dim() not in self._expected_dims:
            wanted = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"expected {wanted} input (got {x.dim()}D input)")
        if self.training or not self.track_running_stats:
            if x.numel() // x.size(1) < 2:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                self._track(x)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        shape = (1, -1, *([1] * (x.dim() - 2)))
        y = (x - self.running_mean.view(shape)) / (self.running_var.view(shape) + self.eps).sqrt()
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y

    @torch.no_grad()
    def _track(self, x):
        self.num_batches_tracked += 1
        rho = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
        dims = [0, *range(2, x.dim())]
        batch = {"running_mean": x.mean(dims), "running_var": x.var(dims, unbiased=True)}
        for name in self._stats:
            getattr(self, name).mul_(1 - rho).add_(rho * batch[name])

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    _expected_dims = (2, 3)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)


class BatchNorm2d(_BatchNorm):
    _expected_dims = (4,)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
