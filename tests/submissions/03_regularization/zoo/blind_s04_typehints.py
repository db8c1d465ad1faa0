from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx


class Dropout(nn.Module):
    p: float

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep: float = 1.0 - self.p
        mask: Tensor = torch.rand_like(x) < keep
        scale: float = 0.0 if keep == 0.0 else 1.0 / keep
        return torch.where(mask, x * scale, torch.zeros_like(x))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _reduce_dims(x: Tensor) -> list[int]:
    return [0, *range(2, x.dim())]


def _per_channel(t: Tensor, like: Tensor) -> Tensor:
    return t.reshape([1, -1] + [1] * (like.dim() - 2))


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor | None, bias: Tensor | None,  # type: ignore[override]
                eps: float) -> Tensor:
        dims = _reduce_dims(x)
        mu: Tensor = x.mean(dims, keepdim=True)
        sigma2: Tensor = x.var(dims, unbiased=False, keepdim=True)
        s: Tensor = torch.rsqrt(sigma2 + eps)
        x_hat: Tensor = (x - mu) * s
        out = x_hat if weight is None else x_hat * _per_channel(weight, x)
        if bias is not None:
            out = out + _per_channel(bias, x)
        ctx.save_for_backward(x_hat, s, weight)
        return out

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:  # type: ignore[override]
        x_hat, s, weight = ctx.saved_tensors
        dims = _reduce_dims(grad_y)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x: Tensor | None = None
        if need_x:
            g = grad_y if weight is None else grad_y * _per_channel(weight, grad_y)
            grad_x = s * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
        grad_w: Tensor | None = (grad_y * x_hat).sum(dims) if need_w else None
        grad_b: Tensor | None = grad_y.sum(dims) if need_b else None
        return grad_x, grad_w, grad_b, None


class BatchNorm1d(nn.Module):
    weight: nn.Parameter | None
    bias: nn.Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
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

    @classmethod
    def from_torch(cls, layer: nn.BatchNorm1d) -> BatchNorm1d:
        """Copy the configuration and state of a torch layer (to compare the two on a trained network)."""
        mine = cls(layer.num_features, layer.eps, layer.momentum, layer.affine, layer.track_running_stats)
        mine.load_state_dict(layer.state_dict())
        return mine

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        if self.training or self.running_mean is None:
            if x.numel() <= x.shape[1]:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.num_batches_tracked is not None:
                self._update_running_stats(x)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        out = (x - _per_channel(self.running_mean, x)) / torch.sqrt(_per_channel(self.running_var, x) + self.eps)
        if self.weight is not None:
            out = out * _per_channel(self.weight, x)
        if self.bias is not None:
            out = out + _per_channel(self.bias, x)
        return out

    @torch.no_grad()
    def _update_running_stats(self, x: Tensor) -> None:
        assert self.running_mean is not None and self.running_var is not None
        assert self.num_batches_tracked is not None
        self.num_batches_tracked += 1
        factor: float | Tensor = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
        dims = _reduce_dims(x)
        self.running_mean.lerp_(x.mean(dims), factor)
        self.running_var.lerp_(x.var(dims, unbiased=True), factor)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(nn.Module):
    weight: nn.Parameter | None
    bias: nn.Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if self.training or self.running_mean is None:
            if x.numel() <= x.shape[1]:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.num_batches_tracked is not None:
                with torch.no_grad():
                    self.num_batches_tracked += 1
                    factor = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.double()
                    self.running_mean.lerp_(x.mean((0, 2, 3)), factor)
                    self.running_var.lerp_(x.var((0, 2, 3), unbiased=True), factor)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        scale = torch.rsqrt(self.running_var + self.eps)
        shift = -self.running_mean * scale
        if self.weight is not None:
            scale = scale * self.weight
            shift = shift * self.weight
        if self.bias is not None:
            shift = shift + self.bias
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
