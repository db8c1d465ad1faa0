"""A shared _NormBase (parameters, buffers, reset methods, running statistics) in the style of torch's
own batchnorm.py; BatchNorm1d and BatchNorm2d only check their input's rank."""
import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if self.training and self.p > 0.0:
            keep = torch.rand_like(x).ge_(self.p)
            scale = 1.0 / (1.0 - self.p) if self.p < 1.0 else 0.0
            return x * keep * scale
        return x

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        reduce = [d for d in range(x.dim()) if d != 1]
        view = [-1 if d == 1 else 1 for d in range(x.dim())]
        mean = x.mean(reduce, keepdim=True)
        xc = x - mean
        var = xc.pow(2).mean(reduce, keepdim=True)
        invstd = (var + eps).pow(-0.5)
        xhat = xc * invstd
        out = xhat
        if weight is not None:
            out = out * weight.view(view)
        if bias is not None:
            out = out + bias.view(view)
        ctx.save_for_backward(xhat, invstd, weight, bias)
        ctx.reduce, ctx.view = reduce, view
        return out

    @staticmethod
    def backward(ctx, grad_out):
        xhat, invstd, weight, bias = ctx.saved_tensors
        reduce, view = ctx.reduce, ctx.view
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            dxhat = grad_out if weight is None else grad_out * weight.view(view)
            mean_dxhat = dxhat.mean(reduce, keepdim=True)
            mean_dxhat_xhat = (dxhat * xhat).mean(reduce, keepdim=True)
            grad_x = (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) * invstd
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = (grad_out * xhat).sum(reduce)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum(reduce)
        return grad_x, grad_w, grad_b, None


class _NormBase(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory_kwargs))
            self.bias = nn.Parameter(torch.empty(num_features, **factory_kwargs))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory_kwargs))
            self.register_buffer("running_var", torch.ones(num_features, **factory_kwargs))
            self.register_buffer("num_batches_tracked",
                                 torch.tensor(0, dtype=torch.long,
                                              **{k: v for k, v in factory_kwargs.items() if k != "dtype"}))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _check_input_dim(self, x):
        raise NotImplementedError

    def forward(self, x):
        self._check_input_dim(x)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if not bn_training:
            view = [-1 if d == 1 else 1 for d in range(x.dim())]
            out = (x - self.running_mean.view(view)) * (self.running_var.view(view) + self.eps).pow(-0.5)
            if self.affine:
                out = out * self.weight.view(view) + self.bias.view(view)
            return out
        size = x.size()
        values = size[0]
        for s in size[2:]:
            values *= s
        if values == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
        if self.training and self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                if self.momentum is None:
                    factor = self.num_batches_tracked.double().reciprocal()
                else:
                    factor = self.momentum
                reduce = [d for d in range(x.dim()) if d != 1]
                self.running_mean.mul_(1 - factor).add_(x.mean(reduce) * factor)
                self.running_var.mul_(1 - factor).add_(x.var(reduce, correction=1) * factor)
        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input_dim(self, x):
        if x.dim() != 2 and x.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")


class BatchNorm2d(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input_dim(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
