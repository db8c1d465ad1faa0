"""01 gradient descent: my solution.

The schedule, the batching and the early-stopping bookkeeping each live in a
small class/function; fit() just wires them together.
"""

import copy

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    """eta_t = eta_0 / t^power with t = number of scheduler steps + 1."""

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super(PowerDecayLR, self).__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch + 1
        scale = t ** (-self.power)
        return [scale * group["initial_lr"] for group in self.optimizer.param_groups]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if not batch_size >= 1:
        raise ValueError("batch size has to be a positive integer")
    if shuffle:
        indices = torch.randperm(n, generator=generator)
    else:
        indices = torch.arange(0, n)
    cuts = list(range(batch_size, n, batch_size))
    batches = [b for b in torch.tensor_split(indices, cuts) if len(b) > 0]
    return (b for b in batches)


class _EarlyStopper:
    """Remembers the best validation loss, its epoch and a copy of the model's weights."""

    def __init__(self, patience):
        self.patience = patience
        self.best_loss = None
        self.best_epoch = None
        self.best_state = None
        self.bad_epochs = 0

    def update(self, epoch, loss, model):
        """Return True when training should stop."""
        if self.best_loss is None or loss < self.best_loss:
            self.best_loss = loss
            self.best_epoch = epoch
            self.best_state = copy.deepcopy(model.state_dict())
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1,
        scheduler=None, generator=None):
    X_train, y_train = train
    X_val, y_val = val
    stopper = _EarlyStopper(patience)
    result = {"train_loss": [], "val_loss": []}

    epoch = 0
    while epoch < max_epochs:
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=X_train.device)
        count = 0
        for batch in minibatches(X_train.shape[0], batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            batch_loss = loss_fn(model(X_train[batch]), y_train[batch])
            loss_sum += batch_loss.detach().double() * batch.shape[0]
            count += batch.shape[0]
            batch_loss.backward()
            optimizer.step()
            if scheduler:
                scheduler.step()
        result["train_loss"].append((loss_sum / count).item())

        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        result["val_loss"].append(val_loss)

        if stopper.update(epoch, val_loss, model):
            break
        epoch += 1

    if stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
    result["best_epoch"] = stopper.best_epoch
    return result
