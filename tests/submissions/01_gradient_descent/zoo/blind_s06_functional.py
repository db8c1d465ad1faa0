"""Functional core: the schedule, the batching and one epoch are plain functions; the graded names are
thin wrappers around them."""
import copy
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


def power_decay(base_lr, steps_taken, power):
    """The lecture's eta_t = eta_0 / t ** p with t = steps_taken + 1."""
    return base_lr * (steps_taken + 1) ** (-power)


def batch_bounds(n, batch_size):
    return [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]


def train_epoch(model, loss_fn, optimizer, X, y, batches, scheduler=None):
    model.train()
    weighted = []
    for idx in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        weighted.append((loss.item(), idx.numel()))
    return sum(l * k for l, k in weighted) / sum(k for _, k in weighted)


def evaluate(model, loss_fn, X, y):
    model.eval()
    with torch.no_grad():
        return loss_fn(model(X), y).item()


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [power_decay(lr, self.last_epoch, self.power) for lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
    perm = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return [perm[lo:hi] for lo, hi in batch_bounds(n, batch_size)]


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    (X, y), (X_val, y_val) = train, val
    out = {"train_loss": [], "val_loss": [], "best_epoch": 0}
    best, snapshot, since_best = math.inf, None, 0
    for epoch in range(max_epochs):
        batches = minibatches(len(X), batch_size, shuffle=True, generator=generator)
        out["train_loss"].append(train_epoch(model, loss_fn, optimizer, X, y, batches, scheduler))
        out["val_loss"].append(evaluate(model, loss_fn, X_val, y_val))
        if out["val_loss"][-1] < best:
            best, out["best_epoch"], since_best = out["val_loss"][-1], epoch, 0
            snapshot = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            if since_best >= patience:
                break
    if snapshot is not None:
        model.load_state_dict(snapshot)
    return out
