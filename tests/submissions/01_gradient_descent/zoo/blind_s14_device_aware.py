"""Written for GPU training: indices follow the data's device, losses are read once per batch."""
import copy
import itertools
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        k = max(self.last_epoch, 0)
        return [lr / (1 + k) ** self.power for lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    starts = torch.arange(0, n, batch_size).tolist()
    return (order[s:s + batch_size] for s in starts)


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    X_val, y_val = val
    n = len(X)
    hist = {"train_loss": [], "val_loss": [], "best_epoch": 0}
    best_val = math.inf
    best_state = copy.deepcopy(model.state_dict())
    strikes = 0
    for epoch in itertools.count():
        if epoch >= max_epochs:
            break
        model.train()
        weighted = 0.0
        for idx in minibatches(n, batch_size, shuffle=True, generator=generator):
            idx = idx.to(X.device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            weighted += loss.item() * idx.numel()
        hist["train_loss"].append(weighted / n)
        model.eval()
        with torch.no_grad():
            v = loss_fn(model(X_val), y_val)
        hist["val_loss"].append(v.item())
        improved = hist["val_loss"][-1] < best_val
        if improved:
            best_val = hist["val_loss"][-1]
            hist["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
        strikes = 0 if improved else strikes + 1
        if strikes >= patience:
            break
    model.load_state_dict(best_state)
    return hist
