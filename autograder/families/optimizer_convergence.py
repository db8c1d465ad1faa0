"""Convergence of the optimizers on the lecture's problems (the zig-zag valley, sparse features, the
Rosenbrock valley): the student's optimizer trains in the worker, the grader computes the losses of the
parameters that come back and compares the curve with torch.optim's on the same problem and start.
The problems live in the worker's ``problems`` handler module; the rows in ``optimizer_table``."""

from __future__ import annotations

import functools

import torch

from ..records import CheckResult
from ..sandbox.worker import operations as ops
from ..sandbox.worker.handlers import problems
from .base import CheckContext, Fail, register
from .compare import kwargs_literal
from .optimizer_table import SPECS, Convergence, OptimizerSpec


def _problem_loss(problem: str, data: dict[str, torch.Tensor], w: torch.Tensor) -> float:
    """Full (deterministic) loss, computed by the grader from the returned parameters."""
    with torch.no_grad():
        return float(problems.build(problem, data).full(w))


@functools.cache
def _reference_curve(name: str, run: int, every: int) -> tuple[float, ...]:
    """The reference's loss curve for the ``run``-th run of ``name``'s convergence problem, computed once
    per grader process (the problem, its data and the hyper-parameters are fixed by the table)."""
    conv = SPECS[name].convergence
    return tuple(_reference_problem(SPECS[name], conv, conv.data(), conv.runs[run][1], every))


def _reference_problem(spec: OptimizerSpec, conv: Convergence, data: dict, kwargs: dict,
                       every: int | None = None) -> list[float]:
    """The reference's loss after every ``every`` steps (default: the last step only)."""
    problem = problems.build(conv.problem, data)
    w = problem.init.clone().requires_grad_(True)
    opt = spec.reference([w], foreach=False, **kwargs)
    every = every or conv.steps
    losses = []
    for t in range(conv.steps):
        opt.zero_grad()
        problem.loss(w, t).backward()
        opt.step()
        if (t + 1) % every == 0:
            losses.append(_problem_loss(conv.problem, data, w.detach()))
    return losses


CURVE_POINTS = 60  # snapshots of the parameters per convergence run (the grader computes the losses)


def _run_curves(ctx: CheckContext, spec: OptimizerSpec, conv: Convergence, data: dict,
                run: int) -> tuple[list[int], list[float], list[float]]:
    """The student's and the reference's loss curves on the problem (``conv.runs[run]``), at the same
    steps. Raises Fail when the student's run gives no parameters back."""
    kwargs = conv.runs[run][1]
    every = max(1, conv.steps // CURVE_POINTS)
    request = ops.OptimizerProblem(spec.name, conv.problem, spec.spelled_out(kwargs), conv.steps, every=every,
                                   tensors=data)
    resp = ctx.call(request, timeout=ctx.long_call_timeout())
    steps = list(range(every, conv.steps + 1, every))
    got = []
    for t in steps:
        w = resp.tensors.get(f"w@{t}")
        if w is None or w.shape != data["init"].shape:
            raise Fail(f"{conv.story}: no parameters came back after step {t}")
        got.append(_problem_loss(conv.problem, data, w))
    return steps, got, list(_reference_curve(spec.name, run, every))


def _plot(spec: OptimizerSpec, conv: Convergence, runs: list[tuple[str, dict, list, list, list]]) -> dict:
    series = []
    for _, kwargs, steps, got, want in runs:
        call = f"{spec.name}({kwargs_literal(kwargs)})"
        series += [{"label": f"your {call}", "x": steps, "y": got, "dashed": False},
                   {"label": f"torch.optim.{call}", "x": steps, "y": want, "dashed": True}]
    # the student's curves first (solid), then the references (dashed)
    series = series[0::2] + series[1::2]
    return {"title": conv.story, "xlabel": "step", "ylabel": "loss (log scale)", "log": True,
            "caption": f"the loss of your {spec.name} against torch.optim.{spec.name}'s on the same "
                       f"problem, same start and hyper-parameters ({conv.steps} steps)",
            "series": series}


@register("optimizer_convergence")
def convergence(ctx: CheckContext) -> CheckResult:
    spec = SPECS[ctx.name]
    conv = spec.convergence
    data = conv.data()
    runs, problems_found = [], []
    for run, (label, kwargs) in enumerate(conv.runs):
        steps, got, want = _run_curves(ctx, spec, conv, data, run)
        runs.append((label, kwargs, steps, got, want))
        if not got[-1] <= conv.factor * want[-1] + conv.slack:
            call = f"{spec.name}({kwargs_literal(kwargs)})"
            problems_found.append(f"after {conv.steps} steps of {call} the loss is {got[-1]:.4g}; a correct "
                                  f"implementation reaches {want[-1]:.4g}")
    finals = {label: got[-1] for label, _, _, got, _ in runs}
    if not problems_found and conv.problem == "quadratic" and not finals["momentum"] < finals["plain"]:
        problems_found.append(f"momentum should beat plain SGD on the zig-zag valley (loss "
                              f"{finals['momentum']:.3g} with momentum vs {finals['plain']:.3g} without)")
    plot = _plot(spec, conv, runs)
    if problems_found:
        raise Fail(f"{conv.story}: {problems_found[0]} (the plot shows both loss curves)", plot=plot)
    return CheckResult(ctx.line.id, "passed", "", 1.0, plot)
