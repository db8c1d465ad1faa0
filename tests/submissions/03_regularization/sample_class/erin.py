"""03 - Dropout & BatchNorm (student solution).

BatchNormFunction works on a (C, M) matrix: channel first, everything else
flattened. The two BatchNorm layers share one base class and only differ in
the input ranks they accept.
"""

from typing import Optional

import torch
from torch import Tensor, nn


class Dropout(nn.Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError("Dropout p must lie in [0, 1]")
        self.p = float(p)

    def forward(self, input: Tensor) -> Tensor:
        if self.training
            keep = 1.0 - self.p
            mask = input.new_empty(input.shape).bernoulli_(keep)
            scale = 0.0 if keep == 0.0 else 1.0 / keep
            return input * mask * scale
        return input

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _to_cm(x: Tensor) -> Tensor:
    """(N, C, *) -> (C, N * prod(*))."""
    return x.transpose(0, 1).reshape(x.shape[1], -1)


def _from_cm(y: Tensor, like: Tensor) -> Tensor:
    shape = list(like.shape)
    shape[0], shape[1] = shape[1], shape[0]
    return y.reshape(shape).transpose(0, 1)


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor], eps: float) -> Tensor:
        xs = _to_cm(x)
        var, mean = torch.var_mean(xs, dim=1, unbiased=False, keepdim=True)
        rstd = torch.rsqrt(var + eps)
        xhat = (xs - mean) * rstd
        ys = xhat
        if weight is not None:
            ys = ys * weight[:, None]
        if bias is not None:
            ys = ys + bias[:, None]
        ctx.save_for_backward(x, xhat, rstd, weight, bias)
        return _from_cm(ys, x).contiguous()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        x, xhat, rstd, weight, bias = ctx.saved_tensors
        gy = _to_cm(grad_output)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gw = torch.einsum("cm,cm->c", gy, xhat) if weight is not None and need_w else None
        gb = gy.sum(dim=1) if bias is not None and need_b else None
        gxhat = gy * weight[:, None] if weight is not None else gy
        mean_g = gxhat.mean(dim=1, keepdim=True)
        mean_gx = (gxhat * xhat).mean(dim=1, keepdim=True)
        gx = rstd * (gxhat - mean_g - xhat * mean_gx)
        return _from_cm(gx, x).contiguous() if need_x else None, gw, gb, None


class _BatchNorm(nn.Module):
    ranks: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features))
            self.bias = nn.Parameter(torch.empty(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.empty(num_features))
            self.register_buffer("running_var", torch.empty(num_features))
            self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() not in self.ranks:
            wanted = " or ".join(f"{r}D" for r in self.ranks)
            raise ValueError(f"expected {wanted} input (got {x.dim()}D input)")

    def _update_running_stats(self, x: Tensor) -> None:
        self.num_batches_tracked += 1
        if self.momentum is None:
            factor = 1.0 / int(self.num_batches_tracked)
        else:
            factor = self.momentum
        xs = _to_cm(x.detach())
        var, mean = torch.var_mean(xs, dim=1, unbiased=True)
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(var, factor)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        if batch_stats:
            if x.numel() == x.shape[1]:
                raise ValueError(
                    f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self._update_running_stats(x)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = torch.rsqrt(self.running_var + self.eps)
        shift = -self.running_mean * scale
        if self.affine:
            scale = scale * self.weight
            shift = shift * self.weight + self.bias
        return x * scale.view(shape) + shift.view(shape)


class BatchNorm1d(_BatchNorm):
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    ranks = (4,)
