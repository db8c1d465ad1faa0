import copy
import math
from dataclasses import dataclass, field

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power  # must exist before the base constructor calls get_lr()
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step):
        return [base / (step + 1) ** self.power for base in self.base_lrs]

    def get_lr(self):
        return self._lr_at(self.last_epoch)

    def _get_closed_form_lr(self):
        return self._lr_at(self.last_epoch)


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")

    def batches():
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]

    return batches()


@dataclass
class EarlyStopping:
    patience: int
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    best_state: dict = field(default_factory=dict, repr=False)

    def update(self, epoch, loss, model):
        """Record one epoch; return True when training should stop."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience


@dataclass
class History:
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_epoch: int = 0

    def as_dict(self):
        return {"train_loss": list(self.train_loss), "val_loss": list(self.val_loss),
                "best_epoch": self.best_epoch}


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    X_val, y_val = val
    stopper = EarlyStopping(patience=patience)
    history = History()
    for epoch in range(max_epochs):
        model.train()
        seen, loss_sum = 0, 0.0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
        history.train_loss.append(loss_sum / seen)
        model.eval()
        with torch.no_grad():
            history.val_loss.append(loss_fn(model(X_val), y_val).item())
        stop = stopper.update(epoch, history.val_loss[-1], model)
        history.best_epoch = stopper.best_epoch
        if stop:
            break
    if stopper.best_state:
        model.load_state_dict(stopper.best_state)
    return history.as_dict()
