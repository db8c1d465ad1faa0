"""Handlers for 01_gradient_descent: run the student's PowerDecayLR, minibatches and fit on inputs the
grader sent and return what came out (lrs, index batches, event logs and snapshots). No expected
values live here: the grader compares.
"""

from __future__ import annotations

import copy

import torch

from . import protocol, tripwires
from .common import graded_op
from .serve import Context
from .standins_gradient_descent import FitHarness


def _warm_up() -> None:
    """The first optimizer built in a process imports torch._dynamo and friends (~1.5 s, hundreds of
    modules). The zygote imports this module before forking, so pay that once here instead of in every
    worker. Before the tripwires are installed; touches no RNG and starts no thread."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0)
    p.grad = torch.ones(1)
    opt.step()
    sched.step()
    opt.zero_grad()


_warm_up()


# --- PowerDecayLR ----------------------------------------------------------------------------------


def _sgd(base_lrs: list[float]) -> torch.optim.SGD:
    """A trusted torch SGD with one dummy parameter per group, group i at ``base_lrs[i]``."""
    groups = [
        {"params": [torch.zeros(1, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in base_lrs
    ]
    with tripwires.disarmed():
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
    with tripwires.disarmed():  # SGD.step reaches torch.optim.sgd.sgd, a tripwire for student code
        opt.step()


@graded_op("scheduler_run", watch_ops=False)  # no aten kernel is a schedule
def scheduler_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """``cls(opt, power=...)`` on an SGD with ``base_lrs``; record every group's lr right after
    construction and after each of ``steps`` rounds of ``opt.step(); sched.step()``.

    ``resume_at`` k: after k rounds, save ``opt.state_dict()`` and ``sched.state_dict()``, build a new
    optimizer and a new scheduler, load both states (torch's checkpoint recipe: the scheduler is
    constructed before the optimizer's state is loaded) and continue with those."""
    cls = ctx.graded("PowerDecayLR")
    kwargs = {} if args.get("power") is None else {"power": args["power"]}
    opt = _sgd(args["base_lrs"])
    sched = cls(opt, **kwargs)
    lrs = [_lrs(opt)]
    for k in range(args["steps"]):
        if args.get("resume_at") == k and k > 0:
            opt_state = copy.deepcopy(opt.state_dict())
            sched_state = copy.deepcopy(sched.state_dict())
            opt = _sgd(args["base_lrs"])
            sched = cls(opt, **kwargs)
            opt.load_state_dict(opt_state)
            sched.load_state_dict(sched_state)
        _opt_step(opt)
        sched.step()
        lrs.append(_lrs(opt))
    return protocol.Response(ok=True, value={"lrs": lrs})


# --- minibatches ----------------------------------------------------------------------------------


def _exception_info(exc: BaseException) -> dict:
    return {
        "raised": type(exc).__name__,
        "message": str(exc)[:300],
        "mro": [c.__name__ for c in type(exc).__mro__],
    }


def _collect(result, n: int, key: str, out: dict[str, torch.Tensor]) -> dict:
    """Iterate what minibatches returned: batch descriptions (JSON) and all indices concatenated."""
    try:
        iterator = iter(result)
    except TypeError:
        return {"iterable": False, "type": type(result).__name__}
    batches, values, total, truncated = [], [], 0, False
    for batch in iterator:
        if len(batches) >= n + 3 or total > 2 * n + 10:
            truncated = True
            break
        info = {"type": type(batch).__name__}
        if isinstance(batch, torch.Tensor):
            info.update(dtype=str(batch.dtype).replace("torch.", ""), dim=batch.dim(), len=int(batch.numel()))
            flat = batch.detach().reshape(-1)
        else:
            try:
                flat = torch.as_tensor(batch).reshape(-1)
                info["len"] = int(flat.numel())
            except Exception:  # noqa: BLE001 - not index-like at all
                flat = None
                info["len"] = None
        if flat is not None:
            try:
                values.append(flat.to(torch.long).cpu())
                total += flat.numel()
            except Exception:  # noqa: BLE001
                info["len"] = None
        batches.append(info)
    out[key] = torch.cat(values) if values else torch.zeros(0, dtype=torch.long)
    return {"iterable": True, "batches": batches, "truncated": truncated}


@graded_op("minibatches_run", watch_ops=False)  # nor a batch order
def minibatches_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Call the student's minibatches once per entry of ``calls`` (``n``, ``batch_size``, ``kwargs``,
    ``generator``: ``"shared"`` = one ``torch.Generator().manual_seed(seed)`` for all calls, ``None`` =
    not passed; torch's global RNG is seeded with ``global_seed`` first). Reply: per call its batches
    (``c{i}``: all indices in order) or, with ``catch``, the exception it raised (calling or iterating)."""
    fn = ctx.graded("minibatches")
    shared = torch.Generator().manual_seed(int(args.get("seed", 0)))
    torch.manual_seed(int(args.get("global_seed", 0)))
    out: dict[str, torch.Tensor] = {}
    replies = []
    for i, call in enumerate(args["calls"]):
        kwargs = dict(call.get("kwargs", {}))
        if call.get("generator") == "shared":
            kwargs["generator"] = shared
        if args.get("catch"):
            try:
                reply = _collect(fn(call["n"], call["batch_size"], **kwargs), call["n"], f"c{i}", out)
                reply["raised"] = None
            except Exception as exc:  # noqa: BLE001 - the point is to see what it raises
                reply = _exception_info(exc)
        else:
            reply = _collect(fn(call["n"], call["batch_size"], **kwargs), call["n"], f"c{i}", out)
        replies.append(reply)
    return protocol.Response(ok=True, value={"calls": replies}, tensors=out)


# --- fit ------------------------------------------------------------------------------------------


@graded_op("fit_run", watch_ops=False)  # nor a training loop
def fit_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Run the student's ``fit`` with the trusted pieces of ``FitHarness``. With ``standin`` (default)
    the module-level ``minibatches`` is the trusted stand-in for the duration of the call, so a bug in
    the student's own minibatches does not cost fit points."""
    fit = ctx.graded("fit")
    harness = FitHarness(args, tensors)
    namespace = ctx.module.__dict__
    missing = object()
    saved = namespace.get("minibatches", missing)
    if args.get("standin", True):
        namespace["minibatches"] = harness.minibatches
    try:
        result = harness.run(fit)
    finally:
        if saved is missing:
            namespace.pop("minibatches", None)
        else:
            namespace["minibatches"] = saved
    value, out = harness.report(result)
    return protocol.Response(ok=True, value=value, tensors=out)
