"""Stand-in for ``BatchNormFunction`` while the BatchNorm modules are graded, so a bug in the student's
function costs points in ``BatchNormFunction`` only. Written with plain differentiable torch primitives
(autograd gives the backward), never torch's own batch norm (switched off in that worker). It holds no
expected values: it computes, on whatever input the student's module hands it, what a correct
``BatchNormFunction.apply`` computes."""

from __future__ import annotations

import torch


def batch_norm_train(
    x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float
) -> torch.Tensor:
    """Normalize with batch statistics over every dim but 1 (biased variance), then the affine."""
    dims = [d for d in range(x.dim()) if d != 1]
    shape = [1, -1] + [1] * (x.dim() - 2)
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    y = centered / torch.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


class BatchNormFunction:
    """Quacks like ``torch.autograd.Function`` for the one way a module uses it: ``.apply(...)``."""

    @staticmethod
    def apply(
        x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float
    ) -> torch.Tensor:
        return batch_norm_train(x, weight, bias, eps)
