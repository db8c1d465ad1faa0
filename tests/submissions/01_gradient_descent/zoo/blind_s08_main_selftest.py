import copy
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super(PowerDecayLR, self).__init__(optimizer, last_epoch)

    def get_lr(self):
        k = self.last_epoch
        return [group_lr * math.pow(k + 1, -self.power) for group_lr in self.base_lrs]


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    if batch_size < 1:
        raise ValueError("batch_size has to be at least one")
    indices = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    num_full, rest = divmod(n, batch_size)
    sizes = [batch_size] * num_full + ([rest] if rest else [])
    return list(torch.split(indices, sizes)) if sizes else []


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    X, y = train
    X_val, y_val = val
    result = {"train_loss": [], "val_loss": [], "best_epoch": -1}
    best_state = None
    for epoch in range(max_epochs):
        model.train()
        batch_losses, batch_sizes = [], []
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            batch_losses.append(loss.item())
            batch_sizes.append(len(idx))
        result["train_loss"].append(sum(l * s for l, s in zip(batch_losses, batch_sizes)) / sum(batch_sizes))

        model.eval()
        with torch.no_grad():
            result["val_loss"].append(loss_fn(model(X_val), y_val).item())

        best_epoch = result["best_epoch"]
        if best_epoch < 0 or result["val_loss"][-1] < result["val_loss"][best_epoch]:
            result["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - result["best_epoch"] >= patience:
            break

    model.load_state_dict(best_state)
    return result


if __name__ == "__main__":
    from torch import nn
    from torch.optim.lr_scheduler import LambdaLR as TorchLambdaLR

    # 1. schedule
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [p], "lr": 0.1}, {"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0}])
    ref_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
                               {"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0}])
    sched, ref = PowerDecayLR(opt, power=0.3), TorchLambdaLR(ref_opt, lambda k: (k + 1) ** -0.3)
    for k in range(10):
        mine = [g["lr"] for g in opt.param_groups]
        theirs = [g["lr"] for g in ref_opt.param_groups]
        assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(mine, theirs)), (k, mine, theirs)
        opt.step(), ref_opt.step(), sched.step(), ref.step()
    print("schedule ok:", sched.get_last_lr())

    # 2. batches
    assert [b.tolist() for b in minibatches(7, 3, shuffle=False)] == [[0, 1, 2], [3, 4, 5], [6]]
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(torch.cat(minibatches(10, 4, generator=g1)), torch.randperm(10, generator=g2))
    assert minibatches(0, 3) == []
    try:
        minibatches(3, 0)
        raise AssertionError("no error")
    except ValueError:
        pass
    print("minibatches ok")

    # 3. early stopping on a noisy problem
    torch.manual_seed(0)
    X = torch.randn(60, 4)
    y = X[:, 0] + 0.5 * torch.randn(60)
    model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 1), nn.Flatten(0))
    hist = fit(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.05), (X[:40], y[:40]),
               (X[40:], y[40:]), batch_size=4, max_epochs=200, patience=5)
    with torch.no_grad():
        model.eval()
        restored = nn.functional.mse_loss(model(X[40:]), y[40:]).item()
    assert math.isclose(restored, hist["val_loss"][hist["best_epoch"]], rel_tol=1e-6)
    print(f"stopped after {len(hist['val_loss'])} epochs, best epoch {hist['best_epoch']}")
