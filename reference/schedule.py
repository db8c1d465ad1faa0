"""The lecture's decaying step size, eta_t = eta_0 / t**power, as a torch LR scheduler."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

__all__ = ["PowerDecayLR"]


class PowerDecayLR(LRScheduler):
    """Set every group's lr to ``base_lr / (k + 1) ** power`` after ``k`` calls of :meth:`step`.

    Right after construction (``k = 0``) the lr is ``base_lr``; the lecture's ``0.1 / t**0.3`` is
    ``base_lr=0.1, power=0.3`` with ``t = k + 1``. The value is computed as
    ``base_lr * (k + 1) ** -power``, bit for bit what
    ``LambdaLR(optimizer, lambda k: (k + 1) ** -power)`` gives.

    Args:
        optimizer: the wrapped optimizer.
        power: decay exponent (0 keeps the lr constant).
        last_epoch: index of the last step taken, ``-1`` for a fresh schedule (torch's convention).
    """

    def __init__(self, optimizer: Optimizer, power: float = 0.3, last_epoch: int = -1) -> None:
        self.power = power  # set before super().__init__, which already calls get_lr()
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The lrs for the current ``last_epoch``; closed form, so it never reads the current lr."""
        return self._get_closed_form_lr()

    def _get_closed_form_lr(self) -> list[float]:
        factor = (self.last_epoch + 1) ** -self.power
        return [base_lr * factor for base_lr in self.base_lrs]
