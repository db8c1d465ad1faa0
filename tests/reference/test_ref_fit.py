"""fit: the training loop, the loss bookkeeping and early stopping exactly as DESIGN.md states them."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given
from torch import nn

import reference
import reference.training
from tests.reference.harness import (
    ScriptedLoss,
    check_scripted_fit,
    make_fit_problem,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
)
from tests.strategies import scripted_val_losses

pytestmark = pytest.mark.gradient_descent


def test_signature_is_designs() -> None:
    params = inspect.signature(reference.fit).parameters
    kinds = [(n, p.kind == p.KEYWORD_ONLY, p.default) for n, p in params.items()]
    empty = inspect.Parameter.empty
    assert kinds == [
        ("model", False, empty),
        ("loss_fn", False, empty),
        ("optimizer", False, empty),
        ("train", False, empty),
        ("val", False, empty),
        ("batch_size", True, empty),
        ("max_epochs", True, empty),
        ("patience", True, 1),
        ("scheduler", True, None),
        ("generator", True, None),
    ]


@given(case=scripted_val_losses())
def test_early_stopping_bookkeeping_and_best_weights(case) -> None:
    val_losses, patience, max_epochs = case
    check_scripted_fit(reference.fit, val_losses, patience, max_epochs)


@pytest.mark.parametrize(
    ("val_losses", "patience", "epochs", "best"),
    [
        ([2.0, 1.0, 1.0, 0.5], 1, 3, 1),  # a tie is no improvement: stop after epoch 2
        ([2.0, 1.0, 1.0, 0.5], 2, 4, 3),  # patience 2 survives the tie and finds 0.5
        ([1.0, 2.0, 0.5, 2.0, 2.0, 2.0], 2, 5, 2),
        ([1.0, 1.0, 1.0], 5, 3, 0),  # max_epochs ends it; the first of equal losses is the best
    ],
)
def test_known_stopping_points(val_losses, patience: int, epochs: int, best: int) -> None:
    model, train, val = make_fit_problem(0)
    loss = ScriptedLoss(model, val_losses)
    out = reference.fit(
        model,
        loss,
        torch.optim.SGD(model.parameters(), lr=0.01),
        train,
        val,
        batch_size=8,
        max_epochs=len(val_losses),
        patience=patience,
    )
    assert len(out["val_loss"]) == epochs and out["best_epoch"] == best
    check_scripted_fit(reference.fit, val_losses, patience, len(val_losses))


def test_loop_order_scheduler_and_module_level_minibatches(monkeypatch: pytest.MonkeyPatch) -> None:
    """zero_grad, backward, step, scheduler.step per batch, over the module-level `minibatches`
    called with (len(X), batch_size, shuffle=True, generator=generator)."""
    events: list[str] = []
    calls: list[tuple] = []
    fixed = [torch.tensor([4, 0, 2]), torch.tensor([1, 3])]

    def stand_in(n, batch_size, *, shuffle=True, generator=None):
        calls.append((n, batch_size, shuffle, generator))
        return iter(fixed)

    monkeypatch.setattr(reference.training, "minibatches", stand_in)

    class Recording(torch.optim.SGD):
        def zero_grad(self, set_to_none: bool = True) -> None:
            events.append("zero_grad")
            super().zero_grad(set_to_none)

        def step(self, closure=None):
            assert all(p.grad is not None for p in model.parameters()), "step before backward"
            events.append("step")
            return super().step(closure)

    model = nn.Linear(2, 1)
    opt = Recording(model.parameters(), lr=0.1)
    scheduler = reference.PowerDecayLR(opt)
    original_step = scheduler.step
    monkeypatch.setattr(scheduler, "step", lambda *a: (events.append("scheduler"), original_step(*a)))
    seen: list[list[int]] = []

    def loss_fn(pred, target):
        if torch.is_grad_enabled():
            seen.append(target[:, 0].long().tolist())
        return nn.functional.mse_loss(pred, target)

    x = torch.randn(5, 2)
    y = torch.arange(5.0).unsqueeze(1)
    gen = torch.Generator().manual_seed(0)
    reference.fit(
        model,
        loss_fn,
        opt,
        (x, y),
        (x, y),
        batch_size=3,
        max_epochs=2,
        patience=5,
        scheduler=scheduler,
        generator=gen,
    )
    assert calls == [(5, 3, True, gen)] * 2
    assert seen == [[4, 0, 2], [1, 3]] * 2
    assert events == ["zero_grad", "step", "scheduler"] * 4
    assert scheduler.last_epoch == 4


def test_same_generator_seed_same_run() -> None:
    outs, weights = [], []
    for _ in range(2):
        model, train, val = make_fit_problem(1)
        out = reference.fit(
            model,
            nn.functional.mse_loss,
            torch.optim.SGD(model.parameters(), lr=0.05),
            train,
            val,
            batch_size=4,
            max_epochs=4,
            patience=2,
            generator=torch.Generator().manual_seed(5),
        )
        outs.append(out)
        weights.append(model.state_dict())
    assert outs[0] == outs[1]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


@pytest.mark.parametrize(("keyword", "value"), [("patience", 0), ("max_epochs", 0)])
def test_invalid_arguments_raise(keyword: str, value: int) -> None:
    model, train, val = make_fit_problem(0)
    kwargs = {"batch_size": 4, "max_epochs": 3, "patience": 1, keyword: value}
    with pytest.raises(ValueError, match=keyword):
        reference.fit(
            model, nn.functional.mse_loss, torch.optim.SGD(model.parameters()), train, val, **kwargs
        )
