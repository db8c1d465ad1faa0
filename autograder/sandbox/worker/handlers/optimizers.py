"""Run the student's optimizer on parameters and gradients the grader sent; return raw tensors.

Tensor names (``operations.trajectory_tensors``): ``p{i}`` initial parameters, ``g{t}_{i}`` the
gradient of parameter i at step t (absent means ``.grad is None`` at that step). Replies carry
``p{i}@{t}``: parameter i after step t.
"""

from __future__ import annotations

import copy

import torch

from .. import operations as ops
from ..registry import Context
from . import problems
from .common import graded_op, plain, tupled


def _params(tensors: dict, n: int) -> list[torch.Tensor]:
    return [tensors[f"p{i}"].clone().requires_grad_(True) for i in range(n)]


def _build(cls, params: list[torch.Tensor], groups: list[dict] | None, kwargs: dict):
    if groups is None:
        return cls(params, **tupled(kwargs))
    spec = [{"params": [params[i] for i in g["params"]], **tupled(g.get("kwargs", {}))} for g in groups]
    return cls(spec, **tupled(kwargs))


def _set_grads(params, tensors, t, refill: bool = False):
    for i, p in enumerate(params):
        g = tensors.get(f"g{t}_{i}")
        if refill and g is not None and p.grad is not None:
            p.grad.copy_(g)  # the same grad tensor as the last step, as zero_grad(set_to_none=False) keeps it
        else:
            p.grad = None if g is None else g.clone()


@graded_op(ops.OptimizerRun)
def optimizer_run(ctx: Context, req: ops.OptimizerRun) -> ops.TensorsOnly:
    """Plain run: set the grads, ``step()``, record the params after every step (options: see
    ``operations.OptimizerRun``)."""
    cls = ctx.graded(req.name)
    params = _params(req.tensors, req.n_params)
    opt = _build(cls, params, req.groups, req.kwargs)
    out: dict[str, torch.Tensor] = {}
    lr_changes = {int(k): v for k, v in (req.lr_changes or {}).items()}
    for t in range(req.steps):
        if req.resume_at == t and t > 0:
            state = copy.deepcopy(opt.state_dict())  # as if saved to disk and loaded back
            params = [p.detach().clone().requires_grad_(True) for p in params]
            opt = _build(cls, params, req.groups, req.kwargs)
            opt.load_state_dict(state)
        if t in lr_changes:
            for group, lr in zip(opt.param_groups, lr_changes[t], strict=False):
                group["lr"] = lr
        _set_grads(params, req.tensors, t, req.refill)
        opt.step()
        for i, p in enumerate(params):
            out[f"p{i}@{t}"] = plain(p)
            if req.report_grads and p.grad is not None:
                out[f"grad{i}@{t}"] = plain(p.grad)
    return ops.TensorsOnly(out)


@graded_op(ops.OptimizerClosure)
def optimizer_closure(ctx: Context, req: ops.OptimizerClosure) -> ops.ClosureRun:
    """Run ``steps`` steps on the quadratic sum_i (0.5*a_i*p_i**2 + b_i*p_i).

    ``use_closure`` true: ``loss = opt.step(closure)``, recording what step returned and whether
    grad was enabled inside the closure. False: zero_grad, loss, backward, ``step()`` by hand."""
    cls = ctx.graded(req.name)
    tensors = req.tensors
    params = _params(tensors, req.n_params)
    opt = cls(params, **tupled(req.kwargs))
    out: dict[str, torch.Tensor] = {}
    grad_enabled, calls, returned = [], [0], []

    def loss_fn():
        return sum(
            (0.5 * tensors[f"a{i}"] * p * p + tensors[f"b{i}"] * p).sum() for i, p in enumerate(params)
        )

    def closure():
        calls[0] += 1
        grad_enabled.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for t in range(req.steps):
        if req.use_closure:
            value = opt.step(closure)
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                out[f"loss@{t}"] = plain(value).reshape(())
                returned.append("tensor")
            else:
                returned.append(type(value).__name__)
        else:
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
        for i, p in enumerate(params):
            out[f"p{i}@{t}"] = plain(p)
    return ops.ClosureRun(grad_enabled, calls[0], returned, out)


@graded_op(ops.OptimizerProblem)
def optimizer_problem(ctx: Context, req: ops.OptimizerProblem) -> ops.TensorsOnly:
    """Minimise one of the lecture's problems (``problems.py``) with the student's optimizer and
    return the parameters every ``every`` steps; the grader evaluates the losses itself."""
    cls = ctx.graded(req.name)
    problem = problems.build(req.problem, req.tensors)
    params = [problem.init.clone().requires_grad_(True)]
    opt = cls(params, **tupled(req.kwargs))
    out: dict[str, torch.Tensor] = {}
    every = req.every or req.steps
    for t in range(req.steps):
        opt.zero_grad()
        problem.loss(params[0], t).backward()
        opt.step()
        if (t + 1) % every == 0:
            out[f"w@{t + 1}"] = plain(params[0])
    return ops.TensorsOnly(out)
