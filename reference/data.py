"""Mini-batch index generation."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = ["minibatches"]


def minibatches(
    n: int, batch_size: int, *, shuffle: bool = True, generator: torch.Generator | None = None
) -> Iterator[Tensor]:
    """Yield 1-D ``torch.long`` index tensors that cover ``range(n)`` exactly once.

    The order is ``torch.randperm(n, generator=generator)`` when shuffling (one fresh permutation
    per call) and ``torch.arange(n)`` otherwise; every batch has ``batch_size`` indices except
    possibly the last.

    Raises:
        ValueError: for ``batch_size < 1`` or ``n < 0``, when called (not on first iteration).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    # The permutation is drawn now, so a call consumes the generator exactly once, iterated or not.
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return iter(order.split(batch_size))
