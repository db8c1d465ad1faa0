"""The convergence problem of the layers (Dropout, BatchNorm): a small MLP on a teacher's regression.

The worker trains the MLP with the student's layer inside (``handlers/mlp.py``); the grader trains the
same MLP with the reference's layer through the very same loop (``handlers/problems.train_mlp``), then
evaluates both in eval mode on the validation set here.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..sandbox.standins.sgd import sgd_step
from ..sandbox.worker import operations as ops
from ..sandbox.worker.handlers import problems
from .base import Fail


@dataclass(frozen=True)
class MlpProblem:
    """One convergence run: data size, widths, the optimizer's settings, and the student's final
    validation loss must be at most ``factor`` times the reference's plus ``slack``."""

    n: int
    n_val: int
    d: int
    hidden: int
    steps: int
    lr: float
    momentum: float
    seed: int
    factor: float = 1.5
    slack: float = 0.01
    batch: int | None = None  # mini-batches of this size (None: the whole training set each step)


def teacher_data(
    seed: int, n: int, n_val: int, d: int, offset: float, noise: float, shrink: float
) -> dict[str, torch.Tensor]:
    """A regression problem y = tanh(X W) v + noise from a random teacher network (float32)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, 16, generator=g) * shrink
    v = torch.randn(16, 1, generator=g) / 4

    def sample(m):
        X = torch.randn(m, d, generator=g) * (2.0 if offset else 1.0) + offset
        return X, torch.tanh(X @ W) @ v + noise * torch.randn(m, 1, generator=g)

    X, y = sample(n)
    Xv, yv = sample(n_val)
    return {"X": X, "y": y, "Xv": Xv, "yv": yv}


def _linear_init(g: torch.Generator, fan_out: int, fan_in: int) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1 / math.sqrt(fan_in)
    return (
        (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound,
        (torch.rand(fan_out, generator=g) * 2 - 1) * bound,
    )


def init_weights(seed: int, d: int, hidden: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    W1, b1 = _linear_init(g, hidden, d)
    W2, b2 = _linear_init(g, 1, hidden)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Tiny networks train fastest on one thread (and don't fight the workers for the cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_reference(
    middle: nn.Module, batchnorm: bool, data: dict, weights: dict, problem: MlpProblem | None,
    order: torch.Tensor | None = None, after_step=None,
) -> nn.Sequential:
    """The grader's own run of the worker's ``mlp_train`` (``problem`` None: no training, the model just
    holds ``weights``), in eval mode at the end; the grader's RNG state is left as it was."""
    model = problems.mlp(weights, middle, batchnorm=batchnorm)
    if problem is not None:
        with torch.random.fork_rng(), one_thread():
            problems.train_mlp(model, data["X"], data["y"], sgd_step=sgd_step, steps=problem.steps,
                               lr=problem.lr, momentum=problem.momentum, seed=problem.seed, order=order,
                               after_step=None if after_step is None else lambda t: after_step(t, model))
    return model.eval()


def val_loss(model: nn.Module, data: dict) -> float:
    with torch.no_grad(), one_thread():
        return float(nn.functional.mse_loss(model(data["Xv"]), data["yv"]))


def returned(resp: ops.Reply, key: str, like: torch.Tensor) -> torch.Tensor:
    """A tensor the worker sent back, of the shape and dtype of ``like``; ``Fail`` otherwise."""
    t = resp.tensors.get(key)
    if not isinstance(t, torch.Tensor) or t.shape != like.shape:
        raise Fail(
            f"training the network did not give back its weights ({key}): the layer changed them or "
            "replaced them with tensors of another shape"
        )
    return t.to(like.dtype)


def snapshot_curve(resp: ops.Reply, steps: int, every: int, keys: dict[str, str],
                   loss: Callable[[dict[str, torch.Tensor]], float]) -> list[float]:
    """``loss`` of the student's run after every ``every`` steps, from the snapshots the worker sent
    (``keys``: name for ``loss`` -> reply key prefix, ``<prefix>@<t>``), as far as they are usable: the
    curve stops at a missing tensor or at shapes the layer changed (the final check reports those)."""
    curve = []
    for t in range(every, steps + 1, every):
        w = {name: resp.tensors.get(f"{key}@{t}") for name, key in keys.items()}
        if not all(isinstance(v, torch.Tensor) for v in w.values()):
            break
        try:
            curve.append(loss(w))
        except RuntimeError:
            break
    return curve


def final_weights(resp: ops.Reply, init: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: returned(resp, k, v) for k, v in init.items()}
