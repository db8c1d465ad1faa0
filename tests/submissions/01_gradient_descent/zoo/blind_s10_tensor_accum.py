import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return list(self.base_lrs)
        return [base / math.pow(self.last_epoch + 1, self.power) for base in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size < 1")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return torch.split(order, batch_size)


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    X_val, y_val = val
    history = {"train_loss": [], "val_loss": [], "best_epoch": 0}
    best_loss = None
    best_state = None
    no_improvement = 0
    for epoch in range(max_epochs):
        model.train()
        total = torch.zeros((), dtype=torch.float64)
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.detach().double().cpu() * idx.numel()
        history["train_loss"].append((total / len(X)).item())

        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        history["val_loss"].append(val_loss)

        if best_loss is None or val_loss < best_loss:
            best_loss = val_loss
            history["best_epoch"] = epoch
            # a clone of every entry is a deep copy of the state dict
            best_state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
            no_improvement = 0
        else:
            no_improvement += 1
        if no_improvement >= patience:
            break

    model.load_state_dict(best_state)
    return history
