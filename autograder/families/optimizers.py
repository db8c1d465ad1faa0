"""Checks of the optimizers (02_optimizers), written once for every row of ``optimizer_table.SPECS``.

Equivalence checks compare the student's trajectory with the reference's. The state_dict, closure and
param-group checks compare the student's optimizer with *itself* (resumed vs uninterrupted, closure vs
manual backward, several groups vs one optimizer per group), guarded by a sanity check that it moves
the parameters like the reference does: so a formula bug costs the equivalence lines, not these.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from ..sandbox.worker import operations as ops
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, StudentError, register
from .compare import all_close, explain_difference, kwargs_literal, tensor_literal, tolerance
from .hypo import Mismatch, search
from .optimizer_table import SPECS, OptimizerSpec
from .reproduce import block, show, student_import

DTYPES = {"float64": torch.float64, "float32": torch.float32}


# --- building examples and running the reference ----------------------------------------------------


def make_tensors(ex: dict) -> tuple[list[torch.Tensor], list[list[torch.Tensor | None]]]:
    """Initial params and per-step grads (None where dropped) of an example, from its seed."""
    gen = torch.Generator().manual_seed(ex["seed"])
    dtype = DTYPES[ex["dtype"]]

    # Values on a grid of 1/8: exactly representable in float32 and readable in a failing case.
    def draw(shape):
        return torch.round(torch.randn(shape, generator=gen, dtype=torch.float64) * 8) / 8

    params = [draw(s).to(dtype) for s in ex["shapes"]]
    grads: list[list[torch.Tensor | None]] = []
    for _ in range(ex["steps"]):
        row = []
        for s in ex["shapes"]:
            g = (draw(s) * ex.get("scale", 1.0)).to(dtype)
            drop = torch.rand((), generator=gen).item() < ex.get("none_rate", 0.0)
            row.append(None if drop else g)
        grads.append(row)
    return params, grads


def run_request(spec: OptimizerSpec, params, grads, kwargs: dict, **options) -> ops.OptimizerRun:
    """The ``optimizer_run`` request of a trajectory, every hyper-parameter spelled out."""
    return ops.OptimizerRun(
        name=spec.name, n_params=len(params), steps=len(grads), kwargs=spec.spelled_out(kwargs),
        tensors=ops.trajectory_tensors(params, grads), **options,
    )


def reference_run(
    spec: OptimizerSpec,
    params,
    grads,
    kwargs: dict,
    groups: list[dict] | None = None,
    lr_changes: dict[int, list[float]] | None = None,
) -> list[list[torch.Tensor]]:
    """Params after every step of the reference (loop path: the specification)."""
    ps = [p.clone().requires_grad_(True) for p in params]
    if groups is None:
        opt = spec.reference(ps, foreach=False, **kwargs)
    else:
        opt = spec.reference(
            [{"params": [ps[i] for i in g["params"]], **g["kwargs"]} for g in groups], foreach=False, **kwargs
        )
    traj = []
    for t, row in enumerate(grads):
        for group, lr in zip(opt.param_groups, (lr_changes or {}).get(t, []), strict=False):
            group["lr"] = lr
        for p, g in zip(ps, row, strict=True):
            p.grad = None if g is None else g.clone()
        opt.step()
        traj.append([p.detach().clone() for p in ps])
    return traj


def student_trajectory(resp: ops.Reply, n_params: int, steps: int) -> list[list[torch.Tensor]]:
    try:
        return [[resp.tensors[f"p{i}@{t}"] for i in range(n_params)] for t in range(steps)]
    except KeyError as exc:
        raise Mismatch(f"the worker returned no value for {exc}") from None


def student_run(ctx: CheckContext, request: ops.OptimizerRun) -> list[list[torch.Tensor]]:
    """The student's trajectory for one ``optimizer_run`` request."""
    return student_trajectory(ctx.call(request), request.n_params, request.steps)


def first_difference(expected, got, dtype: torch.dtype, label="params") -> str | None:
    """None when the two trajectories agree step for step, else the first difference, explained."""
    rtol, atol = tolerance(dtype)
    try:
        pairs = [pair for rows in zip(expected, got, strict=True) for pair in zip(*rows, strict=True)]
    except ValueError:  # not the same number of steps or params: the loop below says where
        pairs = None
    if pairs is not None and all_close(pairs, rtol, atol):
        return None
    for t, (e_row, g_row) in enumerate(zip(expected, got, strict=True)):
        for i, (e, g) in enumerate(zip(e_row, g_row, strict=True)):
            why = explain_difference(e, g, rtol, atol, f"{label}[{i}]")
            if why:
                return f"after step {t + 1}: {why}"
    return None


# --- feedback: the failing case as code ----------------------------------------------------------------


MODULE = "optimizers"


def _make(name: str, kwargs: dict, groups) -> str:
    """The constructor call of ``name`` on ``params`` (a list of param dicts when there are groups)."""
    if not groups:
        return f"{name}(params{', ' if kwargs else ''}{kwargs_literal(kwargs)})"
    spec = ", ".join(
        "{'params': [" + ", ".join(f"params[{i}]" for i in g["params"]) + "]"
        + "".join(f", {k!r}: {v!r}" for k, v in g["kwargs"].items()) + "}"
        for g in groups
    )
    return f"{name}([{spec}])"


def snippet(name: str, params, grads, kwargs: dict, groups=None, *, new_lr: float | None = None,
            resume_at: int | None = None, lr_changes: dict[int, float] | None = None,
            refill: bool = False, grads_too: bool = False) -> str:
    """The failing case as a short reproducer: the same steps with the student's class and with
    torch.optim's, printing both parameter values after every step. ``new_lr``: every group's lr is
    set to it before step 2 (what a scheduler does); ``lr_changes``: {t: lr}, every group's lr set
    before step t + 1; ``refill``: each step's grads copied into the same ``p.grad`` tensors (as after
    ``zero_grad(set_to_none=False)``); ``grads_too``: ``p.grad`` is printed after every step as well;
    ``resume_at``: after that step the optimizer is rebuilt and resumed from a deep copy of its
    state_dict()."""
    changes = {1: new_lr} if new_lr is not None else {}
    changes.update(lr_changes or {})
    head = ["import copy"] if resume_at else []
    head += ["import torch", student_import(MODULE, name), ""]
    rows = ["[" + ", ".join("None" if g is None else tensor_literal(g) for g in row) + "]" for row in grads]
    head += ["grads = [  # one row per step: each parameter's gradient (None: no gradient)",
             *(f"    {row}," for row in rows), "]", ""]
    body = ["def steps(make, resume_at=None):" if resume_at else "def steps(make):",
            f"    params = [{', '.join(tensor_literal(p, requires_grad=True) for p in params)}]",
            "    opt, out = make(params), []", "    for step, row in enumerate(grads, start=1):"]
    for t, lr in sorted(changes.items()):
        body += [f"        if step == {t + 1}:  # a scheduler's change of every group's lr",
                 "            for group in opt.param_groups:", f"                group['lr'] = {lr!r}"]
    if refill:
        body += ["        for p, g in zip(params, row):  # the same p.grad tensors, refilled in place",
                 "            if p.grad is not None and g is not None:", "                p.grad.copy_(g)",
                 "            else:", "                p.grad = None if g is None else g.clone()"]
    else:
        body += ["        for p, g in zip(params, row):",
                 "            p.grad = None if g is None else g.clone()"]
    body += ["        opt.step()"]
    if resume_at:
        body += ["        if step == resume_at:  # interrupt, then resume from a copy of the state",
                 "            state = copy.deepcopy(opt.state_dict())", "            opt = make(params)",
                 "            opt.load_state_dict(state)"]
    record = "[p.tolist() for p in params]"
    if grads_too:  # step() must leave p.grad as it was set
        grads_now = "[None if p.grad is None else p.grad.tolist() for p in params]"
        record = f"{{'params': {record}, 'grads': {grads_now}}}"
    body += [f"        out.append({record})", "    return out", ""]
    make = _make(name, kwargs, groups)
    expected = [f"expected = steps(lambda params: torch.optim.{make})"]
    if groups:  # each parameter as stepped by torch.optim's optimizer built with its group's settings alone
        settings = ", ".join(repr(g["kwargs"]) for g in groups)
        expected = [f"alone = [steps(lambda params, i=i, kw=kw: torch.optim.{name}([params[i]], **kw))",
                    f"         for i, kw in enumerate([{settings}])]  # each group's settings",
                    "expected = [[run[t][i] for i, run in enumerate(alone)] for t in range(len(grads))]"]
    if resume_at:  # against the student's own uninterrupted run (what the check compares)
        expected = [f"expected = steps(lambda params: {make})  # your optimizer, not interrupted"]
    got = f"got = steps(lambda params: {make}" + (f", resume_at={resume_at})" if resume_at else ")")
    tail = ["", got, *expected,
            "for step, (g, e) in enumerate(zip(got, expected), start=1):",
            "    print(f'after step {step}:')", show("g", "e", "    ")]
    return block(*head, *body, *tail)


def case_settings(name: str, ex: dict, params, grads) -> str:
    """The failing settings in one sentence: constructor, dtype, sizes, steps and what happens on the way."""
    plural = {1: ""}
    bits = [f"{name}({kwargs_literal(ex['kwargs']) or 'default hyper-parameters'})",
            str(ex["dtype"]).replace("torch.", ""),
            f"{len(params)} parameter{plural.get(len(params), 's')}",
            f"{len(grads)} step{plural.get(len(grads), 's')}"]
    missing = [f"params[{i}] at step {t + 1}"
               for t, row in enumerate(grads) for i, g in enumerate(row) if g is None]
    if missing:
        bits.append("no gradient for " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else ""))
    for t, lr in sorted(_lr_changes(ex).items()):
        bits.append(f"lr set to {lr!r} before step {t + 1}")
    if ex.get("refill"):
        bits.append("gradients refilled in place")
    return "The case: " + ", ".join(bits) + "."


def _call(spec: OptimizerSpec, kwargs: dict) -> str:
    return f"{spec.name}(params{', ' if kwargs else ''}{kwargs_literal(kwargs)})"


def _lr_changes(ex: dict) -> dict[int, float]:
    """The example's lr change (before step ``lr_at``), none when it falls after the last step."""
    at = ex.get("lr_at")
    return {at: ex["new_lr"]} if at is not None and at < ex["steps"] else {}


def _describe(name: str, what: str):
    def describe(ex: dict, detail: str) -> str:
        params, grads = make_tensors(ex)
        code = snippet(name, params, grads, ex["kwargs"], lr_changes=_lr_changes(ex),
                       refill=ex.get("refill", False), grads_too="refill" in ex)
        return (f"{what} differs from torch.optim.{name}'s. {case_settings(name, ex, params, grads)}\n"
                f"{detail}\n{code}")

    return describe


def _resume_at(ex: dict) -> int:
    return max(1, min(ex["steps"] - 1, round(ex["resume_frac"] * ex["steps"])))


def _describe_resume(spec: OptimizerSpec):
    def describe(ex: dict, detail: str) -> str:
        params, grads = make_tensors(ex)
        return (
            f"state_dict() / load_state_dict() does not resume training exactly. "
            f"{case_settings(spec.name, ex, params, grads)[:-1]}, interrupted and resumed after step "
            f"{_resume_at(ex)}.\n{detail}\n"
            + snippet(spec.name, params, grads, ex["kwargs"], resume_at=_resume_at(ex))
        )

    return describe


# --- step-for-step equivalence ------------------------------------------------------------------------


def _grads_untouched(grads, tensors: dict) -> None:
    """``p.grad`` after each step must be exactly the gradient that was set (step reads it only)."""
    for t, row in enumerate(grads):
        for i, g in enumerate(row):
            after = tensors.get(f"grad{i}@{t}")
            if g is not None and (after is None or after.shape != g.shape or not torch.equal(after, g)):
                now = "None" if after is None else tensor_literal(after)
                raise Mismatch(
                    f"step {t + 1} changed params[{i}].grad: it was set to {tensor_literal(g)}, after "
                    f"opt.step() it is {now}. step() must not modify p.grad (write grad = grad.add(...), "
                    "not p.grad.add_(...)): the training loop, gradient clipping or logging read it after"
                )


_CASES: dict[tuple[str, str], tuple] = {}
MAX_CASES = 4096  # a class draws the same few hundred examples; shrinking a failure adds new ones


def _equivalence_case(spec: OptimizerSpec, ex: dict) -> tuple[list, ops.OptimizerRun, list]:
    """An example's grads, request and reference trajectory: the same for every student, so computed once
    per grader process (read only: the worker gets a copy, and the checks only compare)."""
    key = (spec.name, repr(ex))
    case = _CASES.get(key)
    if case is None:
        params, grads = make_tensors(ex)
        changes = {t: [lr] for t, lr in _lr_changes(ex).items()}
        request = run_request(spec, params, grads, ex["kwargs"], lr_changes=changes,
                              refill=ex.get("refill", False), report_grads="refill" in ex)
        if len(_CASES) >= MAX_CASES:
            _CASES.clear()
        case = _CASES[key] = (grads, request, reference_run(spec, params, grads, ex["kwargs"],
                                                            lr_changes=changes))
    return case


def _equivalence(
    ctx: CheckContext, strategy, explicit: tuple[dict, ...], max_examples: int, what: str,
    explore: bool = False,
) -> None:
    spec = SPECS[ctx.name]

    def body(ex: dict) -> None:
        grads, request, expected = _equivalence_case(spec, ex)
        reply = ctx.call(request)
        got = student_trajectory(reply, request.n_params, request.steps)
        why = first_difference(expected, got, DTYPES[ex["dtype"]])
        if why:
            raise Mismatch(why)
        if "refill" in ex:
            _grads_untouched(grads, reply.tensors)

    base = {"shapes": [(3,)], "steps": 3, "seed": 1, "scale": 1.0, "none_rate": 0.0}
    examples = [dict(base, dtype=d, kwargs=kw) for kw in explicit for d in ("float64", "float32")]
    if explore:  # each hand-picked case once more, driven like a training loop with a scheduler
        examples += [dict(base, dtype="float64", kwargs=kw, lr_at=1, new_lr=0.3, refill=True)
                     for kw in explicit]
    search(ctx, strategy, body, max_examples=max_examples, describe=_describe(spec.name, what),
           explicit=examples, typical=_typical)


def _typical(ex: dict) -> bool:
    """A training run moves: a positive lr (an lr of 0 is an edge the contract allows, rarely the fix)."""
    return ex["kwargs"].get("lr", 1.0) > 0


@register("optimizer_step_defaults")
def step_defaults(ctx: CheckContext) -> None:
    _equivalence(
        ctx,
        S.optimizer_run(st.just({}), none_rate=(0.0,)),
        ({},),
        12,
        "the update with default hyper-parameters",
    )


@register("optimizer_step_hyperparams")
def step_hyperparams(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    _equivalence(ctx, S.optimizer_run(spec.kwargs(), explore=True), spec.explicit, 40, "the update",
                 explore=True)


# --- interface and errors ---------------------------------------------------------------------------


def _construct(spec: OptimizerSpec, kwargs: dict, *, step: bool = False) -> ops.Construct:
    return ops.Construct(spec.name, spec.spelled_out(kwargs), with_params=True, step=step,
                         tensors={"p0": torch.zeros(2, dtype=torch.float64)})


@register("optimizer_interface")
def optimizer_interface(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    interface.require(ctx.describe, spec.interface)
    # A signature alone is not an interface: the class must construct with its defaults.
    out = ctx.call(_construct(spec, {}))
    if out.raised:
        raise StudentError.from_construct(out, f"{spec.name}([torch.zeros(2, requires_grad=True)])")


@register("optimizer_errors")
def optimizer_errors(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    ok = ctx.call(_construct(spec, {}, step=True))
    if ok.raised:
        raise StudentError.from_construct(
            ok, f"p = torch.zeros(2, requires_grad=True); opt = {spec.name}([p]); p.grad = torch.ones(2); "
                "opt.step()"
        )
    missed = []
    for err in spec.errors:
        out = ctx.call(_construct(spec, err.kwargs))
        if err.error.__name__ not in out.mro:
            got = f"raised {out.raised}" if out.raised else "raised nothing"
            missed.append(f"{_call(spec, err.kwargs)} should raise ValueError; it {got}")
    for kwargs in spec.accepted:
        out = ctx.call(_construct(spec, kwargs))
        if out.raised:
            missed.append(f"{_call(spec, kwargs)} is valid (torch.optim accepts it); it raised {out.raised}")
    if missed:
        fraction = 1 - len(missed) / (len(spec.errors) + len(spec.accepted))
        raise Fail(
            "invalid hyper-parameters must raise ValueError and boundary values must be accepted "
            "(like torch.optim):\n- " + "\n- ".join(missed),
            fraction=round(fraction, 3),
        )


# --- self-consistency checks ------------------------------------------------------------------------


def _moves_like_reference(spec: OptimizerSpec, ctx: CheckContext, kwargs: dict) -> None:
    """Sanity guard: one default step from a fixed point must move like the reference (same direction)."""
    params = [torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)]
    grads = [[torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)]]
    got = student_run(ctx, run_request(spec, params, grads, kwargs))[0][0] - params[0]
    ref = reference_run(spec, params, grads, kwargs)[0][0] - params[0]
    if not bool(torch.isfinite(got).all()) or float((got * ref).sum()) <= 0:
        raise Fail(
            f"one step of {_call(spec, kwargs)} "
            "does not move the "
            f"parameters in the direction of -gradient (moved by {got.tolist()}); this check compares your "
            "optimizer with itself and needs a working basic update first"
        )


@register("optimizer_state_dict_resume")
def state_dict_resume(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    _moves_like_reference(spec, ctx, {})

    def body(ex: dict) -> None:
        params, grads = make_tensors(ex)
        k = _resume_at(ex)
        plain = student_run(ctx, run_request(spec, params, grads, ex["kwargs"]))
        resumed = student_run(ctx, run_request(spec, params, grads, ex["kwargs"], resume_at=k))
        why = first_difference(plain, resumed, DTYPES[ex["dtype"]])
        if why:
            raise Mismatch(
                f"resuming from state_dict() after step {k} changed the run: {why} "
                "(expected: your uninterrupted run; keep all per-parameter state in self.state[p])"
            )

    search(ctx, S.resume(spec.kwargs()), body, max_examples=15, describe=_describe_resume(spec))


def _groups_case(ex: dict):
    """Params, grads, groups (one param each, own hyper-parameters) and the lr change of an example."""
    shapes = [(3,), (2,), (2, 2)][: len(ex["groups"])]
    params, grads = make_tensors(
        {"shapes": shapes, "steps": ex["steps"], "dtype": ex["dtype"], "seed": ex["seed"], "scale": 1.0,
         "none_rate": 0.0}
    )
    groups = [{"params": [i], "kwargs": kw} for i, kw in enumerate(ex["groups"])]
    lr_changes = {1: [ex["new_lr"]] * len(groups)}
    return params, grads, groups, lr_changes


def _groups_match_alone(ctx: CheckContext, spec: OptimizerSpec, ex: dict, combined) -> None:
    """Each group of the combined run must equal an optimizer built with that group's hyper-parameters."""
    params, grads, groups, _ = _groups_case(ex)
    for i, g in enumerate(groups):
        alone = student_run(ctx, run_request(spec, [params[i]], [[row[i]] for row in grads], g["kwargs"],
                                             lr_changes={1: [ex["new_lr"]]}))
        why = first_difference(
            [[row[0]] for row in alone], [[row[i]] for row in combined], DTYPES[ex["dtype"]],
            label=f"group {i}: param",
        )
        if why:
            raise Mismatch(
                f"{why}; expected: the same as an optimizer built with this group's "
                "hyper-parameters alone. Read every hyper-parameter from the group at each step"
            )


@register("optimizer_param_groups")
def param_groups(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    _moves_like_reference(spec, ctx, {})

    def body(ex: dict) -> None:
        params, grads, groups, lr_changes = _groups_case(ex)
        request = run_request(spec, params, grads, {}, groups=groups, lr_changes=lr_changes)
        combined = student_run(ctx, request)
        _groups_match_alone(ctx, spec, ex, combined)
        # A scheduler changes group['lr'] between steps: the change must take effect.
        unchanged = student_run(ctx, run_request(spec, params, grads, {}, groups=groups))
        if first_difference(unchanged[1:], combined[1:], DTYPES[ex["dtype"]]) is None:
            raise Mismatch(
                f"setting param_groups[i]['lr'] = {ex['new_lr']} before step 2 changed nothing: "
                "read the learning rate from the group at every step"
            )

    def describe(ex: dict, detail: str) -> str:
        params, grads, groups, _ = _groups_case(ex)
        return (
            f"param groups are not handled independently ({ex['dtype']}; from step 2 on, every group's lr "
            f"is set to {ex['new_lr']}): {detail}\n"
            + snippet(spec.name, params, grads, {}, groups, new_lr=ex["new_lr"])
        )

    frozen = set(spec.frozen_group_keys)  # constructor-only in torch: never varied per group
    per_group = spec.kwargs().map(lambda kw: {k: v for k, v in kw.items() if k not in frozen})
    search(ctx, S.param_groups(per_group), body, max_examples=12, describe=describe)


# --- closure -----------------------------------------------------------------------------------------


def _closure_problem(spec: OptimizerSpec, kwargs: dict, tensors: dict, with_closure: ops.ClosureRun,
                     by_hand: ops.ClosureRun) -> str | None:
    """What is wrong with three ``opt.step(closure)`` calls (vs the same steps done by hand)."""
    call = _call(spec, kwargs)
    if with_closure.calls != 3:
        return (f"with opt = {call}, 3 calls of opt.step(closure) evaluated the closure "
                f"{with_closure.calls} times (expected exactly once per step)")
    if not all(with_closure.grad_enabled):
        return ("step(closure) ran the closure with grad disabled: wrap the call in torch.enable_grad() "
                "(step itself runs under torch.no_grad())")
    if any(r != "tensor" for r in with_closure.returned):
        return f"opt.step(closure) must return the closure's loss; it returned {with_closure.returned[0]}"
    for t in range(3):
        prev = [tensors["p0"], tensors["p1"]] if t == 0 else [with_closure.tensors[f"p{i}@{t - 1}"]
                                                              for i in range(2)]
        expected = sum(float((0.5 * tensors[f"a{i}"] * p * p + tensors[f"b{i}"] * p).sum())
                       for i, p in enumerate(prev))
        got = float(with_closure.tensors[f"loss@{t}"])
        if abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
            return (f"opt.step(closure) returned {got!r} at step {t + 1}; "
                    f"the closure's loss there was {expected!r}")
    why = first_difference(
        student_trajectory(by_hand, 2, 3), student_trajectory(with_closure, 2, 3), torch.float64
    )
    if why:
        return (f"with opt = {call}, opt.step(closure) updates differently from loss.backward(); "
                f"opt.step(): {why}")
    return None


@register("optimizer_closure")
def closure(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    _moves_like_reference(spec, ctx, {})
    gen = torch.Generator().manual_seed(7)
    for kwargs in ({}, *spec.explicit[:2]):
        params = [
            torch.randn(3, generator=gen, dtype=torch.float64),
            torch.randn(2, 2, generator=gen, dtype=torch.float64),
        ]
        tensors = {f"p{i}": p for i, p in enumerate(params)}
        for i, p in enumerate(params):
            tensors[f"a{i}"] = torch.rand(p.shape, generator=gen, dtype=torch.float64) + 0.5
            tensors[f"b{i}"] = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        runs = [ctx.call(ops.OptimizerClosure(spec.name, 2, 3, spec.spelled_out(kwargs), use, tensors))
                for use in (True, False)]
        why = _closure_problem(spec, kwargs, tensors, *runs)
        if why:
            raise Fail(why)
