"""Dropout and BatchNorm from scratch. torch's own layers are imported under other names for the
comparison in the __main__ block only. (imports: `ruff check --select I --fix`, combine-as-imports)"""
import math

import torch
from torch.nn import (
    BatchNorm1d as TorchBatchNorm1d,
    BatchNorm2d as TorchBatchNorm2d,
    Dropout as TorchDropout,
    Module,
    Parameter,
)


class Dropout(Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not (0 <= p <= 1):
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        if self.p == 1.0:
            return x * 0.0
        mask = torch.bernoulli(torch.full_like(x, 1.0 - self.p))
        return x * mask * (1.0 / (1.0 - self.p))

    def extra_repr(self):
        return f"p={self.p}"


def _channel_view(t, ndim):
    return t.view(1, -1, *([1] * (ndim - 2)))


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = tuple(d for d in range(x.dim()) if d != 1)
        var, mean = torch.var_mean(x, dim=dims, keepdim=True, unbiased=False)
        rstd = (var + eps).rsqrt()
        xhat = (x - mean) * rstd
        y = xhat
        if weight is not None:
            y = y * _channel_view(weight, x.dim())
        if bias is not None:
            y = y + _channel_view(bias, x.dim())
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.dims = dims
        ctx.bias_given = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        xhat, rstd, weight = ctx.saved_tensors
        dims = ctx.dims
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            g = grad_y if weight is None else grad_y * _channel_view(weight, grad_y.dim())
            dx = rstd * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))
        if ctx.needs_input_grad[1] and weight is not None:
            dw = (grad_y * xhat).sum(dims)
        if ctx.needs_input_grad[2] and ctx.bias_given:
            db = grad_y.sum(dims)
        return dx, dw, db, None


class _Norm(Module):
    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(torch.ones(num_features, **kw))
            self.bias = Parameter(torch.zeros(num_features, **kw))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **kw))
            self.register_buffer("running_var", torch.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, x):
        raise NotImplementedError

    def forward(self, x):
        self._check_input_dim(x)
        if self.training or not self.track_running_stats:
            m = x.numel() // x.shape[1]
            if m <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    rho = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
                    dims = tuple(d for d in range(x.dim()) if d != 1)
                    var, mean = torch.var_mean(x, dim=dims, unbiased=True)
                    self.running_mean.mul_(1 - rho).add_(rho * mean)
                    self.running_var.mul_(1 - rho).add_(rho * var)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        y = (x - _channel_view(self.running_mean, x.dim())) / torch.sqrt(_channel_view(self.running_var, x.dim()) + self.eps)
        if self.affine:
            y = y * _channel_view(self.weight, x.dim()) + _channel_view(self.bias, x.dim())
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_Norm):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input_dim(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")


class BatchNorm2d(_Norm):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input_dim(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.ones(100_000)
    print("dropout fraction:", (Dropout(0.3)(x) == 0).float().mean().item(),
          "torch:", (TorchDropout(0.3)(x) == 0).float().mean().item())
    for mine_cls, ref_cls, shape in ((BatchNorm1d, TorchBatchNorm1d, (16, 3, 5)),
                                     (BatchNorm2d, TorchBatchNorm2d, (8, 3, 4, 4))):
        for momentum in (0.1, None):
            mine, ref = mine_cls(3, momentum=momentum), ref_cls(3, momentum=momentum)
            for _ in range(5):
                inp = torch.randn(shape) * 2 + 3
                assert torch.allclose(mine(inp), ref(inp), atol=1e-5)
            assert torch.allclose(mine.running_var, ref.running_var, atol=1e-5)
            mine.eval(), ref.eval()
            assert torch.allclose(mine(inp), ref(inp), atol=1e-5)
            print(mine_cls.__name__, momentum, "matches", math.isclose(1, 1))
