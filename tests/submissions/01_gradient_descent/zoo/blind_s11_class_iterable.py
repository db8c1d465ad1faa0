import copy

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        scale = 1.0 / (self.last_epoch + 1) ** self.power
        return [lr * scale for lr in self.base_lrs]


class _MiniBatches:
    """Iterable over index batches; the permutation is drawn once, when the object is created."""

    def __init__(self, order, batch_size):
        self.order = order
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        for i in range(len(self)):
            yield self.order[i * self.batch_size:(i + 1) * self.batch_size]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return _MiniBatches(order, batch_size)


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    X_val, y_val = val
    train_losses, val_losses = [], []
    best_epoch, best_state = None, None
    epoch = 0
    while epoch < max_epochs:
        model.train()
        numerator = 0.0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            out = model(X[idx])
            loss = loss_fn(out, y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            numerator += len(idx) * loss.item()
        train_losses.append(numerator / len(X))

        model.eval()
        with torch.no_grad():
            val_losses.append(loss_fn(model(X_val), y_val).item())

        if best_epoch is None or val_losses[-1] < val_losses[best_epoch]:
            best_epoch = epoch
            best_state = copy.deepcopy(model.state_dict())
        epoch += 1
        if epoch - 1 - best_epoch >= patience:
            break

    model.load_state_dict(best_state)
    return {"train_loss": train_losses, "val_loss": val_losses, "best_epoch": best_epoch}
