import copy
import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    """Polynomially decaying learning rate: ``lr = base_lr / (k + 1) ** power`` after ``k`` steps."""

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rate of every param group for step ``self.last_epoch``."""
        factor = (self.last_epoch + 1) ** -self.power
        return [base_lr * factor for base_lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    """Split the indices ``0 .. n-1`` into consecutive mini-batches."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if shuffle:
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.arange(n, dtype=torch.int32)
    return (order[start:start + batch_size] for start in range(0, n, batch_size))


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    """Mini-batch training with early stopping on the validation loss."""
    X, y = train
    X_val, y_val = val
    train_losses, val_losses = [], []
    best_loss = math.inf
    best_epoch = 0
    best_state = None
    epochs_without_improvement = 0
    for epoch in range(max_epochs):
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
            count += len(idx)
        train_losses.append(total / count)
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        val_losses.append(float(val_loss))
        if best_state is None or val_loss < best_loss:
            best_loss = val_loss
            best_epoch = epoch
            best_state = copy.deepcopy(model.state_dict())
            epochs_without_improvement = 0
        else:
            epochs_without_improvement += 1
            if epochs_without_improvement >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"train_loss": train_losses, "val_loss": val_losses, "best_epoch": best_epoch}
