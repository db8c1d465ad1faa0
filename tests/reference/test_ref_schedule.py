"""PowerDecayLR: base_lr / (k + 1) ** power after k steps, i.e. LambdaLR with (k + 1) ** -power."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch
from hypothesis import given
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

import reference
from tests.reference.harness import (
    assert_lrs_equal,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
)
from tests.strategies import scheduler_cases

pytestmark = pytest.mark.gradient_descent


def _optimizer(base_lrs) -> torch.optim.Optimizer:
    return torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))], "lr": lr} for lr in base_lrs])


def _lambda_lr(optimizer: torch.optim.Optimizer, power: float) -> LambdaLR:
    return LambdaLR(optimizer, lambda k: (k + 1) ** -power)


def test_is_an_lrscheduler_with_designs_signature() -> None:
    assert issubclass(reference.PowerDecayLR, LRScheduler)
    assert not issubclass(reference.PowerDecayLR, LambdaLR)
    params = inspect.signature(reference.PowerDecayLR).parameters
    assert [(n, p.default) for n, p in params.items()] == [
        ("optimizer", inspect.Parameter.empty),
        ("power", 0.3),
        ("last_epoch", -1),
    ]


@given(case=scheduler_cases())
def test_matches_lambda_lr_bit_for_bit(case) -> None:
    power, base_lrs, steps = case
    ours_opt, theirs_opt = _optimizer(base_lrs), _optimizer(base_lrs)
    ours, theirs = reference.PowerDecayLR(ours_opt, power=power), _lambda_lr(theirs_opt, power)
    for k in range(steps + 1):
        assert_lrs_equal(ours_opt, theirs_opt, f"after {k} steps")
        assert ours.get_last_lr() == theirs.get_last_lr()
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


@given(case=scheduler_cases())
def test_closed_form(case) -> None:
    power, base_lrs, steps = case
    opt = _optimizer(base_lrs)
    scheduler = reference.PowerDecayLR(opt, power=power)
    for _ in range(steps):
        opt.step()
        scheduler.step()
    expected = [lr / (steps + 1) ** power for lr in base_lrs]
    for group, lr in zip(opt.param_groups, expected, strict=True):
        assert group["lr"] == pytest.approx(lr, rel=1e-12)
    # The deprecated step(epoch) goes through _get_closed_form_lr.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scheduler.step(steps + 3)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx(
        [lr / (steps + 4) ** power for lr in base_lrs]
    )


def test_lecture_schedule() -> None:
    opt = _optimizer([0.1])
    scheduler = reference.PowerDecayLR(opt)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert lrs == pytest.approx([0.1 / t**0.3 for t in (1, 2, 3, 4)], rel=1e-15)


@given(case=scheduler_cases())
def test_state_dict_resume(case) -> None:
    power, base_lrs, steps = case
    opt = _optimizer(base_lrs)
    straight = reference.PowerDecayLR(opt, power=power)
    for _ in range(steps):
        opt.step()
        straight.step()
    resumed_opt = _optimizer(base_lrs)
    resumed = reference.PowerDecayLR(resumed_opt, power=power)
    resumed.load_state_dict(straight.state_dict())
    resumed_opt.load_state_dict(opt.state_dict())
    for k in range(3):
        assert_lrs_equal(resumed_opt, opt, f"{k} steps after resuming")
        for o, s in ((opt, straight), (resumed_opt, resumed)):
            o.step()
            s.step()
