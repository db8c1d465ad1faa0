"""The lecture's optimization problems, built from data the grader sent (no expected values here), and
the small MLP the layers' convergence checks train.

Each problem has ``init`` (the starting point) and ``loss(w, t)`` (the loss at step t: stochastic
problems pick their sample from t, deterministically). ``mlp``/``train_mlp`` are trusted code shared
by the worker (with the student's layer inside) and the grader (with the reference's): one training
loop, so the two runs differ only in the layer. The SGD step itself is a stand-in
(``autograder/sandbox/standins/sgd.py``): no optimizer update lives in the worker package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Problem:
    init: torch.Tensor
    loss: Callable[[torch.Tensor, int], torch.Tensor]  # what one optimizer step sees
    full: Callable[[torch.Tensor], torch.Tensor]  # the whole objective (how a run is judged)


def _quadratic(t: dict) -> Problem:
    # 0.5 * (w - c)^T diag(h) (w - c): the ill-conditioned valley of the zig-zag picture.
    h, c = t["h"], t["c"]

    def f(w, step=0):
        return 0.5 * (h * (w - c) ** 2).sum()

    return Problem(t["init"], f, f)


def _rosenbrock(t: dict) -> Problem:
    a, b = t["ab"][0], t["ab"][1]

    def f(w, step=0):
        return (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2

    return Problem(t["init"], f, f)


def _sparse_regression(t: dict) -> Problem:
    # One sample per step (the lecture's stochastic setting), squared error on one-hot features.
    X, y = t["X"], t["y"]
    n = X.shape[0]
    return Problem(
        t["init"],
        lambda w, step: 0.5 * (X[step % n] @ w - y[step % n]) ** 2,
        lambda w: 0.5 * ((X @ w - y) ** 2).mean(),
    )


_BUILDERS = {"quadratic": _quadratic, "rosenbrock": _rosenbrock, "sparse_regression": _sparse_regression}


def build(name: str, tensors: dict) -> Problem:
    return _BUILDERS[name](tensors)


def mlp(weights: dict[str, torch.Tensor], middle: nn.Module, *, batchnorm: bool) -> nn.Sequential:
    """Linear -> middle -> ReLU -> Linear (BatchNorm) or Linear -> ReLU -> middle -> Linear (Dropout),
    with the initial weights ``W1``, ``b1``, ``W2``, ``b2``."""
    hidden, d = weights["W1"].shape
    first, last = nn.Linear(d, hidden), nn.Linear(hidden, 1)
    with torch.no_grad():
        for lin, (w, b) in ((first, ("W1", "b1")), (last, ("W2", "b2"))):
            lin.weight.copy_(weights[w])
            lin.bias.copy_(weights[b])
    if batchnorm:
        return nn.Sequential(first, middle, nn.ReLU(), last)
    return nn.Sequential(first, nn.ReLU(), middle, last)


def train_mlp(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, sgd_step, steps: int, lr: float,
              momentum: float, seed: int, order: torch.Tensor | None = None, after_step=None) -> None:
    """``steps`` steps of SGD (``sgd_step``: the trusted stand-in ``sgd``, given by the caller) on the mean
    squared error, torch's RNG seeded with ``seed`` first; step t uses the samples ``order[t]`` (the
    whole set when ``order`` is None); ``after_step(t)`` is called after step t."""
    params = list(model.parameters())
    buffers: list = [None] * len(params)
    torch.manual_seed(seed)
    model.train()
    for t in range(steps):
        xb, yb = (X, y) if order is None else (X[order[t]], y[order[t]])
        for p in params:
            p.grad = None
        nn.functional.mse_loss(model(xb), yb).backward()
        sgd_step(params, buffers, lr, momentum)
        if after_step is not None:  # snapshots for a loss curve (the step number, 1-based)
            after_step(t + 1)
