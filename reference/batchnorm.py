"""Batch normalization: an autograd Function with a hand-written backward and the two modules.

Forward over a batch, for every channel ``c`` (dim 1), reducing over every other dim
(``n`` values per channel)::

    mean = sum(x) / n,   var = sum((x - mean)**2) / n           # biased variance
    xhat = (x - mean) / sqrt(var + eps),   y = weight * xhat + bias

Backward, with ``dxhat = dy * weight`` and sums over the same dims::

    dweight = sum(dy * xhat),   dbias = sum(dy)
    dx = invstd / n * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

The modules keep torch's running statistics: ``running = (1 - m) * running + m * batch`` with the
*unbiased* batch variance, ``m = momentum`` or, for ``momentum=None``, the cumulative average
``m = 1 / num_batches_tracked``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx, once_differentiable

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNormFunction"]


def _reduce_dims(x: Tensor) -> list[int]:
    return [d for d in range(x.dim()) if d != 1]


def _per_channel(t: Tensor, x: Tensor) -> Tensor:
    """View a per-channel vector so that it broadcasts against ``x`` along dim 1."""
    return t.view([1, -1] + [1] * (x.dim() - 2))


class BatchNormFunction(torch.autograd.Function):
    """``y = weight * (x - mean) / sqrt(var + eps) + bias`` with batch statistics over all dims but 1.

    ``weight`` and ``bias`` may each be ``None`` (no scale / no shift). The backward is written by
    hand (closed form above) and is itself not differentiable again (``once_differentiable``).
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx, x: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float
    ) -> Tensor:
        dims = _reduce_dims(x)
        # Two passes (mean, then mean of squared deviations): accurate for shifted data, and an empty
        # batch just gives NaN statistics that multiply nothing, with no warning.
        mean = x.mean(dims, keepdim=True)
        var = (x - mean).square().mean(dims, keepdim=True)
        invstd = torch.rsqrt(var + eps)
        xhat = (x - mean) * invstd
        y = xhat
        if weight is not None:
            y = y * _per_channel(weight, x)
        if bias is not None:
            y = y + _per_channel(bias, x)
        ctx.save_for_backward(xhat, invstd, weight)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, dy: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:
        xhat, invstd, weight = ctx.saved_tensors
        dims = _reduce_dims(dy)
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        dx = dweight = dbias = None
        if needs_weight:
            dweight = (dy * xhat).sum(dims)
        if needs_bias:
            dbias = dy.sum(dims)
        if needs_x:
            n = math.prod(dy.shape[d] for d in dims)  # values per channel (0 for an empty batch)
            dxhat = dy * _per_channel(weight, dy) if weight is not None else dy
            sum_dxhat = dxhat.sum(dims, keepdim=True)
            sum_dxhat_xhat = (dxhat * xhat).sum(dims, keepdim=True)
            dx = (invstd / n) * (n * dxhat - sum_dxhat - xhat * sum_dxhat_xhat)
        return dx, dweight, dbias, None


class _BatchNorm(nn.Module):
    """What BatchNorm1d and BatchNorm2d share: parameters, buffers, running statistics, forward.

    Parameters, buffers and ``state_dict`` keys are torch's: ``weight``/``bias`` (``None`` without
    affine), ``running_mean``/``running_var``/``num_batches_tracked`` (``None`` without
    ``track_running_stats``). Subclasses only say which input ranks they accept.
    """

    _version = 2  # torch's _NormBase version, so state_dict metadata matches too
    _ranks: tuple[int, ...] = ()
    _rank_message = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _check_input(self, x: Tensor, use_batch_stats: bool) -> None:
        # Same errors, messages and conditions as torch's _BatchNorm.forward / F.batch_norm.
        if x.dim() not in self._ranks:
            raise ValueError(self._rank_message.format(dim=x.dim()))
        if use_batch_stats:
            if math.prod(x.shape[d] for d in _reduce_dims(x)) == 1:
                raise ValueError(
                    f"Expected more than 1 value per channel when training, got input size {x.size()}"
                )
            if self.eps <= 0.0:
                raise ValueError(f"batch_norm eps must be positive during training, but got {self.eps}")
        elif self.eps < 0.0:
            raise ValueError(f"batch_norm eps must be non-negative, but got {self.eps}")

    def forward(self, x: Tensor) -> Tensor:
        # Batch statistics in training, and in eval when there are no running statistics.
        use_batch_stats = self.training or self.running_mean is None
        self._check_input(x, use_batch_stats)
        if self.training and self.track_running_stats:
            self._update_running_stats(x)
        if use_batch_stats:
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        invstd = torch.rsqrt(self.running_var + self.eps)
        y = (x - _per_channel(self.running_mean, x)) * _per_channel(invstd, x)
        if self.weight is not None:
            y = y * _per_channel(self.weight, x)
        if self.bias is not None:
            y = y + _per_channel(self.bias, x)
        return y

    @torch.no_grad()
    def _update_running_stats(self, x: Tensor) -> None:
        self.num_batches_tracked.add_(1)
        if x.numel() == 0:  # torch leaves the statistics of an empty batch alone (but counts it)
            return
        var, mean = torch.var_mean(x, _reduce_dims(x), correction=1)
        if self.momentum is None:
            # Cumulative average; the factor stays a device tensor so no host sync is needed.
            factor = self.num_batches_tracked.to(self.running_mean.dtype).reciprocal()
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
            self.running_var.lerp_(var.to(self.running_var.dtype), factor)
        else:
            self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
            self.running_var.mul_(1 - self.momentum).add_(var, alpha=self.momentum)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` inputs, as ``torch.nn.BatchNorm1d``."""

    _ranks = (2, 3)
    _rank_message = "expected 2D or 3D input (got {dim}D input)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)`` inputs, as ``torch.nn.BatchNorm2d``."""

    _ranks = (4,)
    _rank_message = "expected 4D input (got {dim}D input)"
