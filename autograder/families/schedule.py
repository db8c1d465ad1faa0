"""Checks of ``PowerDecayLR`` (01_gradient_descent), driven by the ``SCHEDULE`` row.

The worker runs the student's scheduler on a trusted torch SGD and returns the learning rates it set;
every expected value is computed here with ``reference.PowerDecayLR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import reference

from ..sandbox.worker import operations as ops
from ..sandbox.worker.handlers.schedule import drive
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, register
from .hypo import Mismatch, search
from .interface import InterfaceSpec
from .reproduce import EXPECTED, GOT, block, student_import


@dataclass(frozen=True)
class ScheduleSpec:
    """A graded learning-rate schedule: its contract, the reference, the module students import it
    from (feedback snippets), the tolerance and the hand-picked cases every grade tries."""

    name: str
    reference: type
    module: str
    interface: InterfaceSpec
    rtol: float  # a closed form or a chained product of ~30 factors agree within this
    explicit: tuple[dict, ...]
    resume_explicit: tuple[dict, ...]


SCHEDULE = ScheduleSpec(
    name="PowerDecayLR",
    reference=reference.PowerDecayLR,
    module="gradient_descent",
    interface=InterfaceSpec(
        "PowerDecayLR", "class",
        "`class PowerDecayLR(LRScheduler)` with `__init__(self, optimizer, power=0.3, last_epoch=-1)`",
        base="torch.optim.lr_scheduler.LRScheduler", base_label="torch.optim.lr_scheduler.LRScheduler",
        positional=("optimizer",), params=(("power", 0.3), ("last_epoch", -1)),
    ),
    rtol=1e-12,
    explicit=(
        {"base_lrs": [0.1], "power": 0.3, "steps": 5},
        {"base_lrs": [0.1, 1.0], "power": 1.0, "steps": 3},
        {"base_lrs": [1.0], "power": 0.0, "steps": 3},
        {"base_lrs": [2.0, 0.05], "power": 2.0, "steps": 4},
        # built to resume (groups carry initial_lr, last_epoch=4): the schedule goes on from k = 5
        {"base_lrs": [1.0], "power": 0.5, "steps": 3, "last_epoch": 4, "start_lrs": [1.0]},
        # an lr changed by hand between steps: the closed form does not read it
        {"base_lrs": [1.0, 0.1], "power": 1.0, "steps": 4, "set_lrs": [[2, [5.0, 5.0]]]},
    ),
    resume_explicit=({"base_lrs": [0.1], "power": 0.3, "steps": 6, "frac": 0.5},),
)


_OPTIONS = ("resume_at", "last_epoch", "start_lrs", "set_lrs")


def run_request(base_lrs: list[float], power: float | None, steps: int, **options) -> ops.SchedulerRun:
    """The ``scheduler_run`` request of a case (``options``: the optional fields, None ones left out)."""
    given = {k: options[k] for k in _OPTIONS if options.get(k) is not None}
    return ops.SchedulerRun(base_lrs, power, steps, **given)


def reference_lrs(base_lrs: list[float], power: float | None, steps: int, **options) -> list[list[float]]:
    """Every group's lr after construction and after each step, with the reference schedule driven
    exactly as the worker drives the student's (``handlers/schedule.drive``)."""
    return drive(SCHEDULE.reference, run_request(base_lrs, power, steps, **options))


def _lr_close(got, want: float) -> bool:
    if not (isinstance(got, float) and math.isfinite(got)):
        return False
    return abs(got - want) <= SCHEDULE.rtol * abs(want) + 1e-300


def _lrs(ctx: CheckContext, base_lrs: list[float], power: float | None, steps: int, **options) -> list:
    return ctx.call(run_request(base_lrs, power, steps, **options)).lrs


def _k0(ex: dict) -> int:
    """``last_epoch`` right after construction: 0, or j + 1 when built with ``last_epoch=j`` (the base
    constructor steps once)."""
    return 0 if ex.get("last_epoch") is None else ex["last_epoch"] + 1


# --- feedback: the failing case as code ----------------------------------------------------------------


def snippet(base_lrs: list[float], power: float | None, steps: int, resume_at: int | None = None,
            last_epoch: int | None = None, start_lrs: list | None = None, set_lrs: list | None = None) -> str:
    """The failing case as a reproducer: every group's lr right after construction and after each
    sched.step(), with the student's PowerDecayLR and with torch's LambdaLR on the same rule; with
    ``resume_at``, both are rebuilt after that step and resumed from deep copies of their state_dicts;
    ``last_epoch``/``start_lrs``/``set_lrs`` as in ``handlers/schedule.drive``."""
    groups = ", ".join(f'{{"params": [torch.zeros(1)], "lr": {lr!r}}}' for lr in base_lrs)
    power_arg = "" if power is None else f", power={power!r}"
    if last_epoch is not None:
        power_arg += f", last_epoch={last_epoch!r}"
    rule = f"lambda k: 1 / (k + 1) ** {0.3 if power is None else power!r}"
    rule += "" if last_epoch is None else f", last_epoch={last_epoch!r}"
    lines = ["import copy"] if resume_at else []
    lines += ["import torch", student_import(SCHEDULE.module, SCHEDULE.name), "", "",
              "def lrs(make):  # every group's lr after construction and after each sched.step()",
              f"    opt = torch.optim.SGD([{groups}])"]
    if last_epoch is not None:
        start = start_lrs if start_lrs is not None else base_lrs
        lines += [f"    for group, lr in zip(opt.param_groups, {start!r}):  # a resumed optimizer",
                  "        group['initial_lr'], group['lr'] = group['lr'], lr"]
    lines += ["    sched = make(opt)", "    out = [[g['lr'] for g in opt.param_groups]]"]
    if steps:
        lines += [f"    for k in range(1, {steps + 1}):"]
        for k, new_lrs in set_lrs or []:
            lines += [f"        if k == {k + 1}:  # lrs set by hand (as other code may do) before this step",
                      f"            for group, lr in zip(opt.param_groups, {new_lrs!r}):",
                      "                group['lr'] = lr"]
        lines += ["        opt.step()", "        sched.step()"]
        if resume_at:
            lines += [f"        if k == {resume_at}:  # interrupt, rebuild both, resume from copies",
                      "            states = copy.deepcopy((opt.state_dict(), sched.state_dict()))",
                      f"            opt = torch.optim.SGD([{groups}])",
                      "            sched = make(opt)",
                      "            opt.load_state_dict(states[0])",
                      "            sched.load_state_dict(states[1])"]
        lines += ["        out.append([g['lr'] for g in opt.param_groups])"]
    lines += [
        "    return out",
        "",
        "",
        f"got = lrs(lambda opt: {SCHEDULE.name}(opt{power_arg}))",
        f"again = lrs(lambda opt: {SCHEDULE.name}(opt{power_arg}))  # a scheduler keeps its state in itself",
        f"expected = lrs(lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, {rule}))",
        "for k, (g, a, e) in enumerate(zip(got, again, expected, strict=False)):",
        "    print(f'after {k} call(s) of sched.step():')",
        f"    print({GOT + '     '!r}, g if g == a else f'{{g}}, then {{a}} when run again')",
        f"    print({EXPECTED!r}, e)",
    ]
    return block(*lines)


def _describe_schedule(ex: dict, detail: str) -> str:
    return (
        "the learning rates differ from initial_lr / (last_epoch + 1) ** power on this case: "
        f"{detail}\n"
        + snippet(ex["base_lrs"], ex["power"], ex["steps"], last_epoch=ex.get("last_epoch"),
                  start_lrs=ex.get("start_lrs"), set_lrs=ex.get("set_lrs"))
    )


def _resume_at(ex: dict) -> int:
    return max(1, min(ex["steps"] - 1, round(ex["frac"] * ex["steps"])))


def _describe_resume(ex: dict, detail: str) -> str:
    return (
        f"state_dict() / load_state_dict() does not resume the schedule: {detail}\n"
        + snippet(ex["base_lrs"], ex["power"], ex["steps"], resume_at=_resume_at(ex))
    )


# --- the checks ----------------------------------------------------------------------------------------


@register("scheduler_interface")
def scheduler_interface(ctx: CheckContext) -> None:
    interface.require(ctx.describe, SCHEDULE.interface)
    # It must also construct and step (a stub that raises NotImplementedError does not).
    lrs = _lrs(ctx, [1.0], None, 3)
    if not all(isinstance(lr, float) for row in lrs for lr in row):
        raise Fail(
            "after `PowerDecayLR(opt)` and `sched.step()` the optimizer's lr is not a number: "
            f"{lrs}; get_lr() must return one float per param group"
        )
    # The default power, however it is written (a default argument, a class attribute, `power or ...`):
    # PowerDecayLR(opt) must give what PowerDecayLR(opt, power=0.3) gives. Judged only where the
    # explicit run is right, so a wrong schedule (or a counter shared between runs) costs
    # PowerDecayLR.schedule only.
    power = SCHEDULE.interface.params[0][1]
    explicit = _lrs(ctx, [1.0], power, 3)
    want = reference_lrs([1.0], power, 3)
    def matches(run: list) -> bool:
        return len(run) == len(want) and all(_lr_close(r[0], w[0]) for r, w in zip(run, want, strict=False))

    if matches(explicit) and not matches(lrs):
        raise Fail(
            "the default power is not 0.3: with base lr 1.0, `PowerDecayLR(opt)` sets the lrs "
            f"{[row[0] for row in lrs]} over 3 steps, but `PowerDecayLR(opt, power=0.3)` sets "
            f"{[row[0] for row in explicit]}\n" + snippet([1.0], None, 3)
        )


@register("scheduler_schedule")
def scheduler_schedule(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        options = {k: ex.get(k) for k in ("last_epoch", "start_lrs", "set_lrs")}
        got = _lrs(ctx, ex["base_lrs"], ex["power"], ex["steps"], **options)
        want = reference_lrs(ex["base_lrs"], ex["power"], ex["steps"], **options)
        if len(got) != len(want):
            raise Mismatch(f"recorded {len(got)} rows of lrs, expected {len(want)}")
        built = "" if ex.get("last_epoch") is None else f" (built with last_epoch={ex['last_epoch']})"
        for k, (g_row, w_row) in enumerate(zip(got, want, strict=False)):
            for i, (g, w) in enumerate(zip(g_row, w_row, strict=False)):
                if not _lr_close(g, w):
                    when = "right after construction" if k == 0 else f"after {k} call(s) of sched.step()"
                    raise Mismatch(
                        f"group {i}'s lr {when}{built} (initial_lr={ex['base_lrs'][i]!r}, last_epoch="
                        f"{_k0(ex) + k}): got {g!r}, expected {ex['base_lrs'][i]!r} / {_k0(ex) + k + 1} ** "
                        f"{ex['power']!r} = {w!r}"
                    )

    search(ctx, S.schedules(), body, max_examples=20, describe=_describe_schedule,
           explicit=list(SCHEDULE.explicit))


@register("scheduler_state_dict_resume")
def scheduler_state_dict_resume(ctx: CheckContext) -> None:
    # Guard: this line compares the scheduler with itself, which is only meaningful when the lr moves
    # (a constant 'schedule' resumes trivially). Whether it moves correctly is PowerDecayLR.schedule's job.
    flat = [row[0] for row in _lrs(ctx, [1.0], 0.5, 3)]
    if not all(isinstance(v, float) and math.isfinite(v) for v in flat) or len(set(flat)) == 1:
        raise Fail(
            "with base lr 1.0 and power=0.5 the lr stays the same over 3 steps "
            f"(lrs: {flat}); this check compares a resumed schedule with an uninterrupted one and "
            "needs a schedule that moves first"
        )

    def body(ex: dict) -> None:
        plain = _lrs(ctx, ex["base_lrs"], ex["power"], ex["steps"])
        resumed = _lrs(ctx, ex["base_lrs"], ex["power"], ex["steps"], resume_at=_resume_at(ex))
        for k, (p_row, r_row) in enumerate(zip(plain, resumed, strict=False)):
            for i, (p, r) in enumerate(zip(p_row, r_row, strict=False)):
                if not (isinstance(p, float) and _lr_close(r, p)):
                    raise Mismatch(
                        f"after {k} steps group {i}'s lr: got {r!r} in the resumed run, expected {p!r} "
                        f"as without the interruption after step {_resume_at(ex)}"
                    )

    search(ctx, S.schedule_resumes(), body, max_examples=12, describe=_describe_resume,
           explicit=list(SCHEDULE.resume_explicit))
