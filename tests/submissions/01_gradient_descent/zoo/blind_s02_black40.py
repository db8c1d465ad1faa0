import copy
import math

import torch
from torch.optim.lr_scheduler import (
    LRScheduler,
)


class PowerDecayLR(LRScheduler):
    def __init__(
        self,
        optimizer,
        power=0.3,
        last_epoch=-1,
    ):
        self.power = power
        super().__init__(
            optimizer, last_epoch
        )

    def get_lr(self):
        return [
            base_learning_rate
            / (self.last_epoch + 1)
            ** self.power
            for base_learning_rate in self.base_lrs
        ]


def minibatches(
    n,
    batch_size,
    *,
    shuffle=True,
    generator=None
):
    if batch_size < 1:
        raise ValueError(
            "batch_size must be a positive integer, got %r"
            % (batch_size,)
        )
    number_of_objects = n
    permutation = (
        torch.randperm(
            number_of_objects,
            generator=generator,
        )
        if shuffle
        else torch.arange(
            number_of_objects
        )
    )
    number_of_batches = (
        number_of_objects // batch_size
        + int(
            number_of_objects
            % batch_size
            != 0
        )
    )
    return (
        permutation[
            batch_index
            * batch_size : (
                batch_index + 1
            )
            * batch_size
        ]
        for batch_index in range(
            number_of_batches
        )
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
    generator=None
):
    inputs, targets = train
    (
        validation_inputs,
        validation_targets,
    ) = val
    train_losses, validation_losses = (
        [],
        [],
    )
    (
        best_validation_loss,
        best_epoch,
        epochs_since_best,
    ) = (math.inf, 0, 0)
    best_state_dict = copy.deepcopy(
        model.state_dict()
    )
    for epoch in range(max_epochs):
        model.train()
        summed_loss = 0.0
        for (
            batch_indices
        ) in minibatches(
            len(inputs),
            batch_size,
            shuffle=True,
            generator=generator,
        ):
            optimizer.zero_grad()
            loss = loss_fn(
                model(
                    inputs[
                        batch_indices
                    ]
                ),
                targets[batch_indices],
            )
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            summed_loss = (
                summed_loss
                + loss.item()
                * batch_indices.numel()
            )
        train_losses.append(
            summed_loss / len(inputs)
        )
        model.eval()
        with torch.no_grad():
            validation_loss = float(
                loss_fn(
                    model(
                        validation_inputs
                    ),
                    validation_targets,
                )
            )
        validation_losses.append(
            validation_loss
        )
        if (
            validation_loss
            < best_validation_loss
        ):
            (
                best_validation_loss,
                best_epoch,
                epochs_since_best,
            ) = (
                validation_loss,
                epoch,
                0,
            )
            best_state_dict = (
                copy.deepcopy(
                    model.state_dict()
                )
            )
        else:
            epochs_since_best += 1
        if (
            epochs_since_best
            >= patience
        ):
            break
    model.load_state_dict(
        best_state_dict
    )
    return {
        "train_loss": train_losses,
        "val_loss": validation_losses,
        "best_epoch": best_epoch,
    }
