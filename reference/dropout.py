"""Inverted dropout."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Dropout"]


class Dropout(nn.Module):
    """Zero each element with probability ``p`` in training and scale the kept ones by ``1 / (1 - p)``.

    ``p`` is the probability of *dropping*, torch's convention. The lecture writes
    ``d(x) = m * x / p`` with ``m ~ Bernoulli(p)``: there ``p`` is the probability of *keeping* a
    unit, so its ``1/p`` is our ``1 / (1 - p)``. Scaling at training time ("inverted" dropout) keeps
    the expected activation unchanged, so evaluation is the identity.

    Training draws a fresh mask for every call and element from torch's global RNG (on the input's
    device). ``p = 1`` gives zeros for finite inputs; ``p = 0`` returns the input unchanged.

    Raises:
        ValueError: for ``p`` outside ``[0, 1]`` (torch's message).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0  # keeps the autograd graph (zero gradient) instead of a detached zeros
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep)
        # (x * mask) is exact for a 0/1 mask, so kept values are x / keep correctly rounded.
        return (x * mask).div_(keep)

    def extra_repr(self) -> str:
        return f"p={self.p}"
