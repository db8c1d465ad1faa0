"""The thin shell every reference optimizer shares: grad mode and the closure are handled once, here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

__all__ = ["ReferenceOptimizer"]


class ReferenceOptimizer(Optimizer):
    """Base class of the reference optimizers.

    Subclasses validate their hyper-parameters, hand a ``defaults`` dict to this constructor and
    implement :meth:`_update_group`, which gathers one param group with ``_init_group`` and calls
    the module-level functional update. :meth:`step` runs without autograd (the update must not be
    recorded) while the closure, if any, runs with grad enabled, as in ``torch.optim``.
    """

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Param groups saved before a flag existed (or by another implementation) get its default,
        # so `load_state_dict` of an older or foreign state_dict keeps working.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step and return the closure's loss (``None`` without closure).

        Args:
            closure: re-evaluates the model and returns the loss; it runs under
                ``torch.enable_grad()`` so it may call ``backward()``.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError
