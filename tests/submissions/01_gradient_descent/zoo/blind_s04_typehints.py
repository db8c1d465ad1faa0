from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

Batch = tuple[torch.Tensor, torch.Tensor]


class PowerDecayLR(LRScheduler):
    """eta_k = eta_0 / (k + 1) ** power."""

    power: float

    def __init__(self, optimizer: torch.optim.Optimizer, power: float = 0.3, last_epoch: int = -1) -> None:
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        denominator: float = (self.last_epoch + 1) ** self.power
        return [float(base) / denominator for base in self.base_lrs]


def minibatches(
    n: int, batch_size: int, *, shuffle: bool = True, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor]:
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} < 1")
    order: torch.Tensor = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return iter(order.split(batch_size)) if n > 0 else iter(())


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.SGD,
    train: Batch,
    val: Batch,
    *,
    batch_size: int,
    max_epochs: int,
    patience: int = 1,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    X_train, y_train = train
    X_val, y_val = val
    train_loss: list[float] = []
    val_loss: list[float] = []
    best: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] = copy.deepcopy(model.state_dict())
    stale: int = 0

    for epoch in range(max_epochs):
        model.train()
        total: float = 0.0
        for idx in minibatches(len(X_train), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss: torch.Tensor = loss_fn(model(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += float(loss.detach()) * len(idx)
        train_loss.append(total / len(X_train))

        model.eval()
        with torch.no_grad():
            current: float = loss_fn(model(X_val), y_val).item()
        val_loss.append(current)

        if current < best:
            best, best_epoch, stale = current, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            continue
        stale += 1
        if stale >= patience:
            break

    model.load_state_dict(best_state)
    return {"train_loss": train_loss, "val_loss": val_loss, "best_epoch": best_epoch}
