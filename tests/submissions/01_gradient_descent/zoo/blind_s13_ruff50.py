import copy
import math

import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(
        self, optimizer, power=0.3, last_epoch=-1
    ):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [
            initial_learning_rate
            * (self.last_epoch + 1)
            ** (-self.power)
            for initial_learning_rate in self.base_lrs
        ]


def minibatches(
    n, batch_size, *, shuffle=True, generator=None
):
    if batch_size < 1:
        raise ValueError(
            f"batch_size must be >= 1, got {batch_size}"
        )
    if shuffle:
        permutation = torch.randperm(
            n, generator=generator
        )
    else:
        permutation = torch.arange(n)
    last_batch_size = (
        n % batch_size
        if n % batch_size != 0
        else batch_size
    )
    full_batches = (
        n - last_batch_size
    ) // batch_size + (1 if n > 0 else 0)
    return (
        permutation[
            position * batch_size : min(
                n,
                position * batch_size
                + batch_size,
            )
        ]
        for position in range(full_batches)
    )


def fit(
    model,
    loss_fn,
    optimizer,
    train,
    val,
    *,
    batch_size,
    max_epochs,
    patience=1,
    scheduler=None,
    generator=None,
):
    features, labels = train
    val_features, val_labels = val
    history = {
        "train_loss": [],
        "val_loss": [],
        "best_epoch": 0,
    }
    lowest_validation_loss = math.inf
    saved_state = copy.deepcopy(
        model.state_dict()
    )
    epochs_without_improvement = 0
    for epoch in range(max_epochs):
        model.train()
        epoch_loss_times_size = 0.0
        for indices in minibatches(
            features.shape[0],
            batch_size,
            shuffle=True,
            generator=generator,
        ):
            optimizer.zero_grad()
            batch_loss = loss_fn(
                model(features[indices]),
                labels[indices],
            )
            batch_loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            epoch_loss_times_size += (
                batch_loss.item()
                * indices.shape[0]
            )
        history["train_loss"].append(
            epoch_loss_times_size
            / features.shape[0]
        )
        model.eval()
        with torch.no_grad():
            validation_loss = loss_fn(
                model(val_features), val_labels
            ).item()
        history["val_loss"].append(
            validation_loss
        )
        if (
            validation_loss
            < lowest_validation_loss
        ):
            lowest_validation_loss = (
                validation_loss
            )
            history["best_epoch"] = epoch
            saved_state = copy.deepcopy(
                model.state_dict()
            )
            epochs_without_improvement = 0
        else:
            epochs_without_improvement = (
                epochs_without_improvement + 1
            )
        if epochs_without_improvement >= patience:
            break
    model.load_state_dict(saved_state)
    return history
