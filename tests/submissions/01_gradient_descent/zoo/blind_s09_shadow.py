import copy
import math

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

# First try (kept for reference): torch's LambdaLR gives the lecture's schedule in one line.
# The assignment wants our own class, which replaces this name below.
PowerDecayLR = lambda optimizer, power=0.3, last_epoch=-1: LambdaLR(  # noqa: E731
    optimizer, lambda k: (k + 1) ** -power, last_epoch=last_epoch
)


class PowerDecayLR(LRScheduler):  # noqa: F811
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * (self.last_epoch + 1) ** -self.power for base_lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError(batch_size)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return (order[k * batch_size:(k + 1) * batch_size] for k in range(math.ceil(n / batch_size)))


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    Xv, yv = val
    tr, va = [], []
    best_epoch, best_state, misses = 0, None, 0
    for epoch in range(max_epochs):
        model.train()
        acc = 0.0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            acc += loss.item() * len(idx)
        tr.append(acc / len(X))
        model.eval()
        with torch.no_grad():
            va.append(loss_fn(model(Xv), yv).item())
        if best_state is None or va[-1] < va[best_epoch]:
            best_epoch, misses = epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            misses += 1
            if misses >= patience:
                break
    model.load_state_dict(best_state)
    return {"train_loss": tr, "val_loss": va, "best_epoch": best_epoch}
