"""Assignment 01: SGD with decaying steps, mini-batches and early stopping."""

import copy
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    """lr_k = base_lr / (k + 1) ** power after k calls of step() (the lecture's 0.1 / t^0.3)."""

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power  # must exist before the base class calls get_lr()
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        k = self.last_epoch
        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    """Index tensors that cover range(n) exactly once (a generator; batch_size checked at the call)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if shuffle:
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.arange(n)
    return (order[start:start + batch_size] for start in range(0, n - batch_size + 1, batch_size))


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1,
        scheduler=None, generator=None):
    X, y = train
    X_val, y_val = val
    history = {"train_loss": [], "val_loss": [], "best_epoch": 0}

    best_loss = math.inf
    best_state = None
    epochs_without_improvement = 0

    for epoch in range(max_epochs):
        model.train()
        total, seen = 0.0, 0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        history["train_loss"].append(total / seen)

        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        history["val_loss"].append(val_loss)

        if best_state is None or val_loss < best_loss:
            best_loss = val_loss
            history["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
            epochs_without_improvement = 0
        else:
            epochs_without_improvement += 1
            if epochs_without_improvement >= patience:
                break

    if best_state is not None:
        model.load_state_dict(best_state)
    return history
