import copy
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    _hyperparameters = ("power",)

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        # store every hyper-parameter as a plain attribute (state_dict() saves self.__dict__)
        for name, value in zip(self._hyperparameters, (power,)):
            setattr(self, name, value)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        power = getattr(self, self._hyperparameters[0])
        return [lr / (self.last_epoch + 1) ** power for lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    make_order = "randperm" if shuffle else "arange"
    order = torch.randperm(n, generator=generator) if make_order == "randperm" else torch.arange(n)
    return (order[i:i + batch_size] for i in range(0, n, batch_size))


def _set_mode(model, mode):
    # mode is "train" or "eval"
    getattr(model, mode)()


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    Xv, yv = val
    history = {key: [] for key in ("train_loss", "val_loss")}
    history["best_epoch"] = 0
    best = math.inf
    best_state = None
    bad = 0
    for epoch in range(max_epochs):
        _set_mode(model, "train")
        total = 0.0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
        _set_mode(model, "eval")
        with torch.no_grad():
            val_loss = loss_fn(model(Xv), yv).item()
        for key, value in (("train_loss", total / len(X)), ("val_loss", val_loss)):
            history[key].append(value)
        if val_loss < best:
            best, bad = val_loss, 0
            history["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(best_state)
    return history
