"""Oracle scenarios for 01_gradient_descent, from DESIGN.md's contract:

- ``PowerDecayLR``: an ``LRScheduler`` subclass; signature; the lr of every group after construction
  and after each of 9 steps for many powers (0 and the default included) and one, two or three
  groups; ``get_last_lr()``; a ``state_dict`` round trip into a fresh scheduler; construction with
  ``last_epoch`` > -1.
- ``minibatches``: signature; ``ValueError`` raised by the call itself (not on iteration) for
  ``batch_size < 1``; for many ``n`` (0 included) and batch sizes: the batches (values, dtype, rank),
  with and without shuffling, with a seeded generator (and what it draws next) and with the global
  RNG (and what it draws next), two calls in a row.
- ``fit``: signature; on a small model with dropout and a BatchNorm buffer, for batch sizes (1, a
  divisor, a non-divisor, larger than the set), patience, ``max_epochs``, with or without a
  scheduler, with or without a generator: the returned history (types included), every forward pass
  (train/eval mode, grad mode, rows), the gradients and lr seen by every ``optimizer.step()``, every
  call of the module-level ``minibatches`` (substituted by the reference, recording its arguments),
  and the final ``state_dict``; early stopping with scripted validation losses (ties, late
  improvements, patience 1-3); a model whose parameters already hold gradients when ``fit`` starts
  (the contract's order ``zero_grad``, loss, ``backward``, ``step`` means every step sees its own
  batch's gradient only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ....sandbox.worker.handlers.standins import substituted
from .observe import Impl, Raised, Scenario, attempt, signature_of, snap

# --- PowerDecayLR ---------------------------------------------------------------------------------

POWERS = (None, 0.3, 0.0, 0.5, 1.0, 2.0, 0.7, 1.5)
LR_SETS = ((0.1,), (0.1, 0.02), (1.0, 0.5, 0.003))


def _sgd(lrs: tuple[float, ...]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _lrs(opt) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def _schedule(cls, lrs: tuple[float, ...], power: float | None, steps: int = 9) -> list:
    opt = _sgd(lrs)
    sched = attempt(lambda: cls(opt) if power is None else cls(opt, power=power))
    if isinstance(sched, Raised):
        return [sched]
    seen: list[Any] = [_lrs(opt), attempt(sched.get_last_lr)]
    for _ in range(steps):
        opt.step()
        seen.append(attempt(sched.step))
        seen.append(_lrs(opt))
        seen.append(attempt(sched.get_last_lr))
    return seen


def _resume(cls, lrs: tuple[float, ...], power: float) -> list:
    opt = _sgd(lrs)
    sched = cls(opt, power=power)
    for _ in range(3):
        opt.step()
        sched.step()
    saved = sched.state_dict()
    opt2 = _sgd(lrs)
    opt2.load_state_dict(opt.state_dict())
    sched2 = cls(opt2, power=power)
    seen: list[Any] = [attempt(lambda: sched2.load_state_dict(saved))]
    for _ in range(4):
        opt2.step()
        sched2.step()
        seen.append(_lrs(opt2))
    return seen


def _last_epoch(cls, lrs: tuple[float, ...], power: float) -> list:
    opt = _sgd(lrs)
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    sched = cls(opt, power=power, last_epoch=3)
    seen: list[Any] = [_lrs(opt)]
    for _ in range(3):
        opt.step()
        sched.step()
        seen.append(_lrs(opt))
    return seen


def explore_power_decay(impl: Impl) -> Iterator[Scenario]:
    cls = impl.obj
    yield (
        "PowerDecayLR: a subclass of torch.optim.lr_scheduler.LRScheduler",
        isinstance(cls, type) and issubclass(cls, torch.optim.lr_scheduler.LRScheduler),
    )
    yield "PowerDecayLR: signature", signature_of(cls, ("optimizer", "power", "last_epoch"))
    for lrs in LR_SETS:
        for power in POWERS:
            kw = "" if power is None else f", power={power}"
            yield (
                (
                    f"PowerDecayLR(SGD with group lrs {list(lrs)}{kw}): lrs after construction and after "
                    "each of 9 steps"
                ),
                attempt(lambda lrs=lrs, power=power: _schedule(cls, lrs, power)),
            )
    for lrs in LR_SETS[:2]:
        for power in (0.3, 1.0):
            yield (
                (
                    f"PowerDecayLR(lrs {list(lrs)}, power={power}): 3 steps, state_dict() into a fresh "
                    "scheduler, 4 more steps"
                ),
                attempt(lambda lrs=lrs, power=power: _resume(cls, lrs, power)),
            )
            yield (
                (f"PowerDecayLR(lrs {list(lrs)}, power={power}, last_epoch=3) on groups with initial_lr"),
                attempt(lambda lrs=lrs, power=power: _last_epoch(cls, lrs, power)),
            )


# --- minibatches ----------------------------------------------------------------------------------

SIZES = ((1, 1), (1, 3), (5, 1), (5, 2), (5, 5), (5, 7), (8, 4), (10, 3), (17, 5), (16, 16), (20, 6))


def _batches(result: Any) -> Any:
    out = []
    for batch in result:
        if isinstance(batch, torch.Tensor):
            out.append((batch.dtype, batch.dim(), snap(batch)))
        else:
            out.append(repr(batch))
    return out


def _call(fn, n: int, bs: int, **kw) -> Any:
    """Call, then iterate: an error must come from the call itself."""
    result = attempt(lambda: fn(n, bs, **kw))
    if isinstance(result, Raised):
        return ["call", result]
    return ["call returned", attempt(lambda: _batches(result))]


def explore_minibatches(impl: Impl) -> Iterator[Scenario]:
    fn = impl.obj
    yield "minibatches: signature", signature_of(fn, ("n", "batch_size", "shuffle", "generator"))
    for bs in (0, -1, -5):
        yield f"minibatches(4, {bs}) raises ValueError when called", _call(fn, 4, bs)
    for n, bs in SIZES:
        yield f"minibatches({n}, {bs}, shuffle=False)", _call(fn, n, bs, shuffle=False)
    for shuffle in (False, True):  # the contract: no batch or one empty batch, either is right

        def empty(shuffle=shuffle):
            result = attempt(lambda: fn(0, 3, shuffle=shuffle))
            if isinstance(result, Raised):
                return ["call", result]
            batches = attempt(lambda: list(result))
            if isinstance(batches, Raised):
                return ["iterating", batches]
            return ["indices", sum(b.numel() if isinstance(b, torch.Tensor) else 1 for b in batches)]

        yield f"minibatches(0, 3, shuffle={shuffle}): no indices (no batch or one empty one)", attempt(empty)
    for n, bs in SIZES:

        def seeded(n=n, bs=bs):
            gen = torch.Generator().manual_seed(n * 31 + bs)
            first = _call(fn, n, bs, shuffle=True, generator=gen)
            second = _call(fn, n, bs, generator=gen)
            return [first, second, torch.randperm(6, generator=gen)]

        yield (
            (
                f"minibatches({n}, {bs}, shuffle=True, generator=g) twice with one seeded generator, "
                "then what g draws next"
            ),
            attempt(seeded),
        )
    for n, bs in SIZES[3:]:

        def global_rng(n=n, bs=bs):
            torch.manual_seed(1000 + n)
            first = _call(fn, n, bs)
            return [first, torch.rand(2, dtype=torch.float64)]

        yield (
            (
                f"torch.manual_seed(s); minibatches({n}, {bs}) with the global RNG, then what the "
                "global RNG draws next"
            ),
            attempt(global_rng),
        )


# --- fit ------------------------------------------------------------------------------------------


class _Log:
    def __init__(self) -> None:
        self.events: list[Any] = []


class _Model(nn.Module):
    """A small model whose every forward pass is logged (mode, grad mode, rows)."""

    def __init__(self, log: _Log) -> None:
        super().__init__()
        self.log = log
        self.net = nn.Sequential(
            nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Dropout(0.2), nn.Linear(5, 1)
        )

    def forward(self, x):
        self.log.events.append(("forward", self.training, torch.is_grad_enabled(), x.shape[0]))
        return self.net(x)


class _LoggedSGD(torch.optim.SGD):
    def __init__(self, params, log: _Log) -> None:
        super().__init__(params, lr=0.05, momentum=0.5)
        self.log = log

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.log.events.append(("zero_grad",))
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        grads = [snap(p.grad) for g in self.param_groups for p in g["params"]]
        self.log.events.append(("step", self.param_groups[0]["lr"], grads))
        return super().step(closure)


class _LoggedScheduler(torch.optim.lr_scheduler.LambdaLR):
    def __init__(self, opt, log: _Log) -> None:
        self.log = log
        super().__init__(opt, lambda k: 1.0 / (1 + 0.2 * k))

    def step(self, *args, **kwargs):
        if hasattr(self, "log"):
            self.log.events.append(("scheduler.step",))
        return super().step(*args, **kwargs)


class _ScriptedLoss:
    """A loss that is not symmetric in (prediction, target), so swapped arguments show; the scripted
    value for validation passes (grad disabled), so early stopping sees exactly the losses a
    scenario wants."""

    def __init__(self, script: tuple[float, ...] | None) -> None:
        self.script = list(script) if script else None
        self.calls = 0

    def __call__(self, pred, target):
        loss = nn.functional.mse_loss(pred, target) + 0.1 * pred.mean()
        if self.script is not None and not torch.is_grad_enabled():
            value = self.script[min(self.calls, len(self.script) - 1)]
            self.calls += 1
            return loss * 0 + value
        return loss


def _recording_minibatches(reference_fn, log: _Log, generator):
    """The reference minibatches, logging the arguments fit passes as their effective values (a
    left-out ``shuffle`` is the contract's default ``True``)."""

    def recorded(n, batch_size, shuffle=True, generator=None):
        who = (
            "None" if generator is None else ("fit's generator" if generator is fit_generator else "another")
        )
        log.events.append(("minibatches", n, batch_size, shuffle, who))
        return reference_fn(n, batch_size, shuffle=shuffle, generator=generator)

    fit_generator = generator
    return recorded


def _problem(seed: int, n: int, n_val: int):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(3, 1, generator=gen)
    x = torch.randn(n, 3, generator=gen)
    y = x @ w + 0.1 * torch.randn(n, 1, generator=gen)
    xv = torch.randn(n_val, 3, generator=gen)
    yv = xv @ w + 0.1 * torch.randn(n_val, 1, generator=gen)
    return (x, y), (xv, yv)


FIT_RUNS = (
    # (n, batch_size, max_epochs, patience, scheduler, generator, script)
    (12, 4, 1, 1, False, True, None),
    (12, 4, 3, 1, False, True, None),
    (12, 5, 4, 2, False, True, None),
    (12, 1, 2, 1, False, True, None),
    (12, 20, 3, 1, False, True, None),
    (12, 12, 3, 1, False, False, None),
    (13, 4, 4, 3, True, True, None),
    (10, 3, 5, 2, True, False, None),
    (10, 4, 6, 1, False, True, (5.0, 4.0, 4.0, 3.0, 2.0, 1.0)),
    (10, 4, 6, 2, False, True, (5.0, 4.0, 4.0, 3.0, 3.5, 3.6)),
    (10, 4, 6, 3, False, True, (5.0, 6.0, 7.0, 4.0, 5.0, 6.0)),
    (10, 4, 6, 2, False, True, (5.0, 6.0, 7.0, 4.0, 5.0, 6.0)),
    (10, 4, 5, 1, False, True, (3.0, 3.0, 3.0, 3.0, 3.0)),
    (10, 4, 5, 2, False, True, (9.0, 8.0, 7.0, 6.0, 5.0)),
    (10, 4, 6, 2, True, True, (1.0, 2.0, 0.5, 0.5, 0.7, 0.2)),
    (10, 3, 4, 1, False, False, (2.0, 1.0, 1.5, 0.5)),
    (10, 4, 7, 3, False, True, (4.0, 3.0, 3.0, 3.0, 2.9, 3.0, 1.0)),
)


# The notebook's step order ("optimizer.zero_grad(), loss = ..., loss.backward(), optimizer.step()"
# for every batch) promises that a gradient held before fit never reaches a step.
STALE_GRAD_RUNS = ((12, 4, 2, 1, False, True, None),)


def _fit_once(fn, namespace: dict, run: tuple, stale_grads: bool = False) -> Any:
    n, bs, max_epochs, patience, use_scheduler, use_generator, script = run
    import reference

    log = _Log()
    torch.manual_seed(2024 + n + bs)  # model init and dropout masks
    model = _Model(log)
    if stale_grads:  # gradients left over from earlier work, as a notebook's model often has
        for p in model.parameters():
            p.grad = torch.full_like(p, 0.5)
    train, val = _problem(n * 7 + bs, n, 6)
    opt = _LoggedSGD(model.parameters(), log)
    sched = _LoggedScheduler(opt, log) if use_scheduler else None
    gen = torch.Generator().manual_seed(99) if use_generator else None
    kwargs: dict[str, Any] = {"batch_size": bs, "max_epochs": max_epochs, "patience": patience}
    if sched is not None:
        kwargs["scheduler"] = sched
    if gen is not None:
        kwargs["generator"] = gen
    with substituted(namespace, "minibatches", _recording_minibatches(reference.minibatches, log, gen)):
        history = attempt(lambda: fn(model, _ScriptedLoss(script), opt, train, val, **kwargs))
    if isinstance(history, dict):
        shown = {
            k: (type(v).__name__, snap(v)) if not isinstance(v, list) else [(type(x).__name__, x) for x in v]
            for k, v in history.items()
        }
    else:
        shown = history
    state = {k: snap(v) for k, v in model.net.state_dict().items()}
    return {"returned": shown, "events": log.events, "final state_dict": state}


def explore_fit(impl: Impl) -> Iterator[Scenario]:
    fn = impl.obj
    yield (
        "fit: signature",
        signature_of(
            fn,
            (
                "model",
                "loss_fn",
                "optimizer",
                "train",
                "val",
                "batch_size",
                "max_epochs",
                "patience",
                "scheduler",
                "generator",
            ),
        ),
    )
    for run in FIT_RUNS:
        n, bs, max_epochs, patience, use_scheduler, use_generator, script = run
        text = (
            f"fit(model, loss_fn, SGD, {n} training rows, 6 validation rows, batch_size={bs}, "
            f"max_epochs={max_epochs}, patience={patience}"
            + (", scheduler=LambdaLR" if use_scheduler else "")
            + (", generator=g" if use_generator else "")
            + ")"
            + (f" with scripted validation losses {list(script)}" if script else "")
        )
        yield text, _fit_once(fn, impl.namespace, run)
    for run in STALE_GRAD_RUNS:
        n, bs, max_epochs = run[:3]
        text = (
            f"fit(model, loss_fn, SGD, {n} training rows, 6 validation rows, batch_size={bs}, "
            f"max_epochs={max_epochs}, generator=g) on a model whose parameters already hold a gradient "
            "(0.5 everywhere) when fit starts"
        )
        yield text, _fit_once(fn, impl.namespace, run, stale_grads=True)


EXPLORERS = {"PowerDecayLR": explore_power_decay, "minibatches": explore_minibatches, "fit": explore_fit}


def reference_impls() -> dict[str, Impl]:
    import reference.training
    from reference import PowerDecayLR, minibatches

    return {
        "PowerDecayLR": Impl(PowerDecayLR, {}),
        "minibatches": Impl(minibatches, {}),
        "fit": Impl(reference.training.fit, vars(reference.training)),
    }
