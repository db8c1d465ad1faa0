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
        t = self.last_epoch + 1
        return [eta0 / math.exp(self.power * math.log(t)) for eta0 in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = iter((torch.randperm(n, generator=generator) if shuffle else torch.arange(n)).tolist())

    def chunks():
        while True:
            chunk = list(itertools.islice(order, batch_size))
            if not chunk:
                return
            yield torch.tensor(chunk, dtype=torch.long)

    return chunks()


@torch.no_grad()
def _validation_loss(model, loss_fn, X, y):
    model.eval()
    return loss_fn(model(X), y).item()


def _train_one_epoch(model, loss_fn, optimizer, scheduler, X, y, batches):
    model.train()
    total, count = 0.0, 0
    for idx in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(idx)
        count += len(idx)
    return total / count


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    history = {"train_loss": [], "val_loss": [], "best_epoch": 0}
    best, best_state, wait = math.inf, copy.deepcopy(model.state_dict()), 0
    for epoch in range(max_epochs):
        batches = minibatches(len(X), batch_size, shuffle=True, generator=generator)
        history["train_loss"].append(_train_one_epoch(model, loss_fn, optimizer, scheduler, X, y, batches))
        current = _validation_loss(model, loss_fn, *val)
        history["val_loss"].append(current)
        if current < best:
            best, wait = current, 0
            history["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            wait += 1
            if wait >= patience:
                break
    model.load_state_dict(best_state)
    return history
