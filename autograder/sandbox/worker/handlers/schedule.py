"""``PowerDecayLR`` (01_gradient_descent): run the student's schedule on a trusted torch SGD and
return the learning rates it set. No expected values live here: the grader compares."""

from __future__ import annotations

import copy

import torch

from .. import operations as ops
from ..registry import Context
from .common import graded_op


def _sgd(base_lrs: list[float]) -> torch.optim.SGD:
    """A trusted torch SGD with one dummy parameter per group, group i at ``base_lrs[i]``."""
    groups = [
        {"params": [torch.zeros(1, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in base_lrs
    ]
    return torch.optim.SGD(groups)


def _lrs(opt: torch.optim.Optimizer) -> list:
    out = []
    for group in opt.param_groups:
        lr = group["lr"]
        try:
            out.append(float(lr))
        except Exception:  # noqa: BLE001 - reported as not a number
            out.append(None)
    return out


def _opt_step(opt: torch.optim.Optimizer) -> None:
    opt.step()  # torch's SGD: the schedule's worker switches off schedulers, not optimizers


def drive(cls: type, req: ops.SchedulerRun) -> list:
    """``cls(opt, power=...)`` on an SGD with ``req.base_lrs``; every group's lr right after
    construction and after each of ``req.steps`` rounds of ``opt.step(); sched.step()``. The grader
    drives the reference scheduler with this very function, so both runs have one shape.

    ``last_epoch`` j: each group carries ``initial_lr`` (its base lr) and ``lr`` = ``start_lrs`` (a
    resumed optimizer's lr, whatever it holds), and the scheduler is built with ``last_epoch=j``.
    ``set_lrs``: ``[k, lrs]`` pairs, every group's lr overwritten by hand before round k (as another
    piece of code, e.g. a warm-up, would do).
    ``resume_at`` k: after k rounds, save ``opt.state_dict()`` and ``sched.state_dict()``, build a new
    optimizer and a new scheduler, load both states (torch's checkpoint recipe: the scheduler is
    constructed before the optimizer's state is loaded) and continue with those."""
    kwargs = {} if req.power is None else {"power": req.power}

    def build() -> tuple[torch.optim.Optimizer, object]:
        opt = _sgd(req.base_lrs)
        options = dict(kwargs)
        if req.last_epoch is not None:
            start = req.start_lrs if req.start_lrs is not None else req.base_lrs
            for group, base, lr in zip(opt.param_groups, req.base_lrs, start, strict=False):
                group["initial_lr"] = base
                group["lr"] = lr
            options["last_epoch"] = req.last_epoch
        return opt, cls(opt, **options)

    overrides = {int(k): lrs for k, lrs in (req.set_lrs or [])}
    opt, sched = build()
    lrs = [_lrs(opt)]
    for k in range(req.steps):
        if req.resume_at == k and k > 0:
            opt_state = copy.deepcopy(opt.state_dict())
            sched_state = copy.deepcopy(sched.state_dict())
            opt, sched = build()
            opt.load_state_dict(opt_state)
            sched.load_state_dict(sched_state)
        if k in overrides:
            for group, lr in zip(opt.param_groups, overrides[k], strict=False):
                group["lr"] = lr
        _opt_step(opt)
        sched.step()
        lrs.append(_lrs(opt))
    return lrs


@graded_op(ops.SchedulerRun)
def scheduler_run(ctx: Context, req: ops.SchedulerRun) -> ops.Lrs:
    """The student's ``PowerDecayLR`` driven by ``drive``: every group's lr after construction and after
    each round."""
    return ops.Lrs(drive(ctx.graded("PowerDecayLR"), req))
