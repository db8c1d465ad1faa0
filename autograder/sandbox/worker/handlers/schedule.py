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


@graded_op(ops.SchedulerRun)
def scheduler_run(ctx: Context, req: ops.SchedulerRun) -> ops.Lrs:
    """``cls(opt, power=...)`` on an SGD with ``base_lrs``; record every group's lr right after
    construction and after each of ``steps`` rounds of ``opt.step(); sched.step()``.

    ``resume_at`` k: after k rounds, save ``opt.state_dict()`` and ``sched.state_dict()``, build a new
    optimizer and a new scheduler, load both states (torch's checkpoint recipe: the scheduler is
    constructed before the optimizer's state is loaded) and continue with those."""
    cls = ctx.graded("PowerDecayLR")
    kwargs = {} if req.power is None else {"power": req.power}
    opt = _sgd(req.base_lrs)
    sched = cls(opt, **kwargs)
    lrs = [_lrs(opt)]
    for k in range(req.steps):
        if req.resume_at == k and k > 0:
            opt_state = copy.deepcopy(opt.state_dict())
            sched_state = copy.deepcopy(sched.state_dict())
            opt = _sgd(req.base_lrs)
            sched = cls(opt, **kwargs)
            opt.load_state_dict(opt_state)
            sched.load_state_dict(sched_state)
        _opt_step(opt)
        sched.step()
        lrs.append(_lrs(opt))
    return ops.Lrs(lrs)
