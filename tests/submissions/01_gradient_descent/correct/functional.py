"""Gradient descent notebook (exported).

Mini-batch SGD, the 0.1 / t^0.3 step-size schedule, and early stopping,
split into small helper functions.
"""

import math
from copy import deepcopy
from typing import Iterator, Optional

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer: torch.optim.Optimizer, power: float = 0.3, last_epoch: int = -1) -> None:
        self.power = float(power)
        super().__init__(optimizer, last_epoch=last_epoch)

    def _factor(self, k: int) -> float:
        return math.pow(k + 1, -self.power)

    def get_lr(self):
        return [lr0 * self._factor(self.last_epoch) for lr0 in self.base_lrs]

    def _get_closed_form_lr(self):
        return self.get_lr()


def minibatches(n: int, batch_size: int, *, shuffle: bool = True,
                generator: Optional[torch.Generator] = None) -> Iterator[torch.Tensor]:
    # checked before anything is yielded, so the error comes at the call
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    perm = torch.randperm(n, generator=generator) if shuffle else torch.arange(n, dtype=torch.long)
    return iter(torch.split(perm, batch_size))


def _train_one_epoch(model, loss_fn, optimizer, X, y, batch_size, scheduler, generator):
    losses, sizes = [], []
    model.train()
    for batch in minibatches(len(X), batch_size, shuffle=True, generator=generator):
        optimizer.zero_grad()
        out = model(X[batch])
        loss = loss_fn(out, y[batch])
        losses.append(float(loss.detach()))  # recorded before the step changes the weights
        sizes.append(batch.numel())
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return sum(l * s for l, s in zip(losses, sizes)) / sum(sizes)


@torch.no_grad()
def _evaluate(model, loss_fn, X, y):
    model.eval()
    return float(loss_fn(model(X), y))


def fit(model: nn.Module, loss_fn, optimizer, train, val, *, batch_size: int, max_epochs: int,
        patience: int = 1, scheduler=None, generator=None) -> dict:
    train_losses, val_losses = [], []
    best_epoch, best_val, best_weights = None, None, None
    for epoch in range(max_epochs):
        train_losses.append(_train_one_epoch(model, loss_fn, optimizer, train[0], train[1],
                                             batch_size, scheduler, generator))
        v = _evaluate(model, loss_fn, val[0], val[1])
        val_losses.append(v)
        if best_epoch is None or v < best_val:
            best_epoch, best_val = epoch, v
            best_weights = deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break
    if best_weights is not None:
        model.load_state_dict(best_weights)
    return {"train_loss": train_losses, "val_loss": val_losses, "best_epoch": best_epoch}
