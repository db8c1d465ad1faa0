import torch
import torch.nn.functional as F
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout (p = probability of dropping)."""

    def __init__(self, p=0.5):
        super(Dropout, self).__init__()
        if p < 0 or p > 1:
            raise ValueError("p must be a probability in [0, 1]")
        self.p = float(p)

    def forward(self, x):
        if self.training:
            if self.p == 1.0:
                return x * 0
            mask = torch.empty_like(x).uniform_(0, 1) >= self.p
            return mask * x * (1.0 / (1.0 - self.p))
        return x

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    """Backward written the long way (the chain rule through mean and variance, as in the derivation)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = tuple([0] + list(range(2, x.ndim)))
        shape = tuple(-1 if i == 1 else 1 for i in range(x.ndim))
        mu = x.mean(dim=dims, keepdim=True)
        xmu = x - mu
        var = (xmu ** 2).mean(dim=dims, keepdim=True)
        ivar = 1.0 / torch.sqrt(var + eps)
        xhat = xmu * ivar
        out = xhat
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        ctx.save_for_backward(xmu, ivar, weight)
        ctx.dims, ctx.shape = dims, shape
        ctx.has = (weight is not None, bias is not None)
        return out

    @staticmethod
    def backward(ctx, dout):
        xmu, ivar, weight = ctx.saved_tensors
        dims, shape = ctx.dims, ctx.shape
        m = dout.numel() / dout.shape[1]
        xhat = xmu * ivar
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dxhat = dout * weight.reshape(shape) if weight is not None else dout
            dvar = (dxhat * xmu).sum(dim=dims, keepdim=True) * -0.5 * ivar ** 3
            dmu = (-dxhat * ivar).sum(dim=dims, keepdim=True) + dvar * (-2.0 * xmu).mean(dim=dims, keepdim=True)
            dx = dxhat * ivar + dvar * 2.0 * xmu / m + dmu / m
        if ctx.has[0] and ctx.needs_input_grad[1]:
            dw = (dout * xhat).sum(dim=dims)
        if ctx.has[1] and ctx.needs_input_grad[2]:
            db = dout.sum(dim=dims)
        return dx, dw, db, None


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.ndim not in (2, 3):
            raise ValueError("expected 2D or 3D input (got {}D input)".format(x.ndim))
        if self.training or self.running_mean is None:
            if x.shape[0] * (x.shape[2] if x.ndim == 3 else 1) == 1:
                raise ValueError("Expected more than 1 value per channel when training, got input size {}".format(
                    x.size()))
            if self.training and self.running_mean is not None:
                with torch.no_grad():
                    dims = (0,) if x.ndim == 2 else (0, 2)
                    self.num_batches_tracked.add_(1)
                    f = self.momentum if self.momentum is not None else 1 / self.num_batches_tracked.double()
                    self.running_mean.copy_(self.running_mean * (1 - f) + x.mean(dims) * f)
                    self.running_var.copy_(self.running_var * (1 - f) + x.var(dims, unbiased=True) * f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        y = (x - self.running_mean.reshape(shape)) / torch.sqrt(self.running_var.reshape(shape) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
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
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError("expected 4D input (got {}D input)".format(x.ndim))
        if self.training or self.running_mean is None:
            if x.shape[0] * x.shape[2] * x.shape[3] == 1:
                raise ValueError("Expected more than 1 value per channel when training, got input size {}".format(
                    x.size()))
            if self.training and self.running_mean is not None:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    f = self.momentum if self.momentum is not None else 1 / self.num_batches_tracked.double()
                    self.running_mean.copy_(self.running_mean * (1 - f) + x.mean((0, 2, 3)) * f)
                    self.running_var.copy_(self.running_var * (1 - f) + x.var((0, 2, 3), unbiased=True) * f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        y = (x - self.running_mean.reshape(1, -1, 1, 1)) / torch.sqrt(self.running_var.reshape(1, -1, 1, 1) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)
        return y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


if __name__ == "__main__":
    torch.manual_seed(0)
    # Dropout vs F.dropout: same statistics
    ones = torch.ones(1_000_000)
    for p in (0.1, 0.5, 0.9):
        mine = Dropout(p)(ones)
        ref = F.dropout(ones, p, training=True)
        print(f"p={p}: dropped {(mine == 0).float().mean():.4f} vs {(ref == 0).float().mean():.4f}, "
              f"mean {mine.mean():.4f} vs {ref.mean():.4f}")
    # BatchNormFunction vs F.batch_norm and gradcheck
    x = torch.randn(6, 3, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    y = BatchNormFunction.apply(x, w, b, 1e-5)
    y_ref = F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)
    print("forward diff", (y - y_ref).abs().max().item())
    print("gradcheck", torch.autograd.gradcheck(lambda *t: BatchNormFunction.apply(*t, 1e-5), (x, w, b)))
    # modules vs F.batch_norm with running statistics
    for cls, shape in ((BatchNorm1d, (8, 3)), (BatchNorm1d, (8, 3, 5)), (BatchNorm2d, (4, 3, 2, 2))):
        bn = cls(3, momentum=None)
        rm, rv = torch.zeros(3), torch.ones(3)
        for _ in range(3):
            inp = torch.randn(shape) + 2
            out = bn(inp)
            ref = F.batch_norm(inp, rm, rv, bn.weight, bn.bias, training=True, momentum=0.0 + 1 / (_ + 1))
            assert torch.allclose(out, ref, atol=1e-5) and torch.allclose(bn.running_var, rv, atol=1e-5)
        print(cls.__name__, shape, "ok")
