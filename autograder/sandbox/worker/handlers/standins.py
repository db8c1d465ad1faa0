"""Trusted stand-ins, run inside the worker in place of student code, and the one way to swap them in.

``BatchNormFunction`` replaces the student's module-level ``BatchNormFunction`` while their BatchNorm
modules are graded, so a bug in the function costs points in ``BatchNormFunction`` only. It is written
with plain differentiable torch primitives (autograd gives the backward); it never calls torch's own
batch norm, whose tripwire would fire. It holds no expected values: it computes, on whatever input the
student's module hands it, what a correct ``BatchNormFunction.apply`` computes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


@contextlib.contextmanager
def substituted(namespace: dict | None, name: str, standin: object) -> Iterator[None]:
    """Bind ``name`` to ``standin`` in a module's ``namespace`` for the block (restored afterwards, even
    when it was absent); ``None``: nothing is replaced. Trusted code only (the grader's twins use it too)."""
    if namespace is None:
        yield
        return
    missing = object()
    original = namespace.get(name, missing)
    namespace[name] = standin
    try:
        yield
    finally:
        if original is missing:
            namespace.pop(name, None)
        else:
            namespace[name] = original
