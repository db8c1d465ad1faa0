"""Checks of 02_optimizers, driven by one spec table (torch's OptimizerInfo idea).

Adding an optimizer means adding a row to ``SPECS``: its reference class, signature, hyper-parameter
strategy, error inputs and convergence problem. Every check below is written once for all rows.

Equivalence checks compare the student's trajectory with the reference's. The state_dict, closure and
param-group checks compare the student's optimizer with *itself* (resumed vs uninterrupted, closure vs
manual backward, several groups vs one optimizer per group), guarded by a sanity check that it moves
the parameters like the reference does: so a formula bug costs the equivalence lines, not these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from hypothesis import strategies as st

import reference

from ..sandbox.worker.handlers import problems
from . import strategies as S
from .base import CheckContext, Fail, StudentError, register
from .compare import explain_difference, kwargs_literal, tensor_literal, tolerance
from .hypo import Mismatch, search
from .interface import same_default


@dataclass(frozen=True)
class Convergence:
    """One of the lecture's problems; ``runs`` are (label, kwargs); the student's final loss must be
    within ``factor`` of the reference's (plus ``slack``) for every run."""

    problem: str
    data: Callable[[], dict[str, torch.Tensor]]
    runs: tuple[tuple[str, dict], ...]
    steps: int
    factor: float = 10.0
    slack: float = 1e-6
    story: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    reference: type
    signature: tuple[tuple[str, object], ...]  # (name, default) after ``params``
    kwargs: Callable[[], st.SearchStrategy[dict]]
    errors: tuple[dict, ...]
    convergence: Convergence
    notes: str = ""
    explicit: tuple[dict, ...] = field(default=())


# --- the lecture's problems (data built here, in the trusted process) -------------------------------


def _zigzag() -> dict[str, torch.Tensor]:
    # Curvatures 1 and 50: plain gradient descent zig-zags across the narrow valley.
    return {
        "h": torch.tensor([1.0, 50.0], dtype=torch.float64),
        "c": torch.tensor([1.0, -1.0], dtype=torch.float64),
        "init": torch.tensor([-4.0, 1.5], dtype=torch.float64),
    }


def _rosenbrock() -> dict[str, torch.Tensor]:
    return {
        "ab": torch.tensor([1.0, 100.0], dtype=torch.float64),
        "init": torch.tensor([-1.5, 2.0], dtype=torch.float64),
    }


def _sparse() -> dict[str, torch.Tensor]:
    # Feature 0 is popular (every other sample), feature 1 rare (one sample in ten): the lecture's table.
    n = 40
    X = torch.zeros(n, 2, dtype=torch.float64)
    X[::2, 0] = 1.0
    X[::10, 1] = 1.0
    w_true = torch.tensor([1.0, 2.0], dtype=torch.float64)
    return {"X": X, "y": X @ w_true, "init": torch.zeros(2, dtype=torch.float64)}


def _problem_loss(problem: str, data: dict[str, torch.Tensor], w: torch.Tensor) -> float:
    """Full (deterministic) loss, computed by the grader from the returned parameters."""
    with torch.no_grad():
        return float(problems.build(problem, data).full(w))


SPECS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in (
        OptimizerSpec(
            name="SGD",
            reference=reference.SGD,
            signature=(
                ("lr", 1e-3),
                ("momentum", 0.0),
                ("dampening", 0.0),
                ("weight_decay", 0.0),
                ("nesterov", False),
                ("maximize", False),
            ),
            kwargs=S.sgd_kwargs,
            errors=(
                {"lr": -0.1},
                {"momentum": -0.5},
                {"weight_decay": -1.0},
                {"nesterov": True},
                {"nesterov": True, "momentum": 0.9, "dampening": 0.5},
            ),
            convergence=Convergence(
                "quadratic",
                _zigzag,
                (("plain", {"lr": 0.035}), ("momentum", {"lr": 0.035, "momentum": 0.9})),
                steps=150,
                story="zig-zag valley: SGD with and without momentum",
            ),
            explicit=(
                {"momentum": 0.9},
                {"momentum": 0.9, "dampening": 0.5},
                {"momentum": 0.9, "nesterov": True},
                {"weight_decay": 0.1},
                {"maximize": True},
                {"maximize": True, "weight_decay": 0.1, "momentum": 0.5},
            ),
        ),
        OptimizerSpec(
            name="Adagrad",
            reference=reference.Adagrad,
            signature=(
                ("lr", 1e-2),
                ("lr_decay", 0.0),
                ("weight_decay", 0.0),
                ("initial_accumulator_value", 0.0),
                ("eps", 1e-10),
                ("maximize", False),
            ),
            kwargs=S.adagrad_kwargs,
            errors=(
                {"lr": -0.1},
                {"lr_decay": -0.1},
                {"weight_decay": -1.0},
                {"initial_accumulator_value": -1.0},
                {"eps": -1e-3},
            ),
            convergence=Convergence(
                "sparse_regression",
                _sparse,
                (("adagrad", {"lr": 0.5}),),
                steps=200,
                story="sparse one-hot features: the rare feature still gets learned",
            ),
            notes="torch.optim.Adagrad reads initial_accumulator_value from its constructor only; "
            "the reference "
            "(and a correct submission) honours a per-group value.",
            explicit=(
                {"lr_decay": 0.1},
                {"initial_accumulator_value": 0.1},
                {"weight_decay": 0.1},
                {"eps": 0.1},
                {"maximize": True},
                {"maximize": True, "weight_decay": 0.1},
            ),
        ),
        OptimizerSpec(
            name="RMSprop",
            reference=reference.RMSprop,
            signature=(
                ("lr", 1e-2),
                ("alpha", 0.99),
                ("eps", 1e-8),
                ("weight_decay", 0.0),
                ("momentum", 0.0),
                ("centered", False),
                ("maximize", False),
            ),
            kwargs=S.rmsprop_kwargs,
            errors=(
                {"lr": -0.1},
                {"eps": -1e-3},
                {"momentum": -0.5},
                {"weight_decay": -1.0},
                {"alpha": -0.5},
            ),
            convergence=Convergence(
                "rosenbrock", _rosenbrock, (("rmsprop", {"lr": 1e-2}),), steps=600, story="Rosenbrock valley"
            ),
            explicit=(
                {"alpha": 0.5},
                {"eps": 0.1},
                {"momentum": 0.9},
                {"centered": True},
                {"centered": True, "momentum": 0.5},
                {"weight_decay": 0.1},
                {"maximize": True},
            ),
        ),
        OptimizerSpec(
            name="Adam",
            reference=reference.Adam,
            signature=(
                ("lr", 1e-3),
                ("betas", (0.9, 0.999)),
                ("eps", 1e-8),
                ("weight_decay", 0.0),
                ("amsgrad", False),
                ("maximize", False),
            ),
            kwargs=S.adam_kwargs,
            errors=(
                {"lr": -0.1},
                {"eps": -1e-3},
                {"betas": (1.0, 0.999)},
                {"betas": (0.9, 1.0)},
                {"betas": (-0.1, 0.999)},
                {"weight_decay": -1.0},
            ),
            convergence=Convergence(
                "rosenbrock", _rosenbrock, (("adam", {"lr": 0.1}),), steps=600, story="Rosenbrock valley"
            ),
            explicit=(
                {"betas": (0.5, 0.9)},
                {"eps": 0.1},
                {"weight_decay": 0.1},
                {"amsgrad": True},
                {"maximize": True},
                {"amsgrad": True, "betas": (0.95, 0.5)},
            ),
        ),
    )
}


def spelled_out(spec: OptimizerSpec, kwargs: dict) -> dict:
    """Every hyper-parameter spelled out, as DESIGN.md promises students: a wrong default (even a
    required ``lr``) then costs the interface line only."""
    return {**dict(spec.signature), **kwargs}


# --- building examples and running the reference ----------------------------------------------------

DTYPES = {"float64": torch.float64, "float32": torch.float32}


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


def wire(params: list[torch.Tensor], grads: list[list[torch.Tensor | None]]) -> dict[str, torch.Tensor]:
    out = {f"p{i}": p for i, p in enumerate(params)}
    for t, row in enumerate(grads):
        out.update({f"g{t}_{i}": g for i, g in enumerate(row) if g is not None})
    return out


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


def student_trajectory(resp, n_params: int, steps: int) -> list[list[torch.Tensor]]:
    try:
        return [[resp.tensors[f"p{i}@{t}"] for i in range(n_params)] for t in range(steps)]
    except KeyError as exc:
        raise Mismatch(f"the worker returned no value for {exc}") from None


def first_difference(expected, got, dtype: torch.dtype, label="params") -> str | None:
    rtol, atol = tolerance(dtype)
    for t, (e_row, g_row) in enumerate(zip(expected, got, strict=True)):
        for i, (e, g) in enumerate(zip(e_row, g_row, strict=True)):
            why = explain_difference(e, g, rtol, atol, f"{label}[{i}]")
            if why:
                return f"after step {t + 1}: {why}"
    return None


def snippet(name: str, params, grads, kwargs: dict, groups=None, extra: str = "") -> str:
    """The failing case as code the student can paste under their notebook."""
    lines = ["import torch", f"params = [{', '.join(tensor_literal(p, requires_grad=True) for p in params)}]"]
    lines.append("grads = [  # one row per step, one entry per parameter (None: no gradient)")
    for row in grads:
        lines.append("    [" + ", ".join("None" if g is None else tensor_literal(g) for g in row) + "],")
    lines.append("]")
    if groups:
        spec = ", ".join(
            "{'params': ["
            + ", ".join(f"params[{i}]" for i in g["params"])
            + "]"
            + "".join(f", {k!r}: {v!r}" for k, v in g["kwargs"].items())
            + "}"
            for g in groups
        )
        lines.append(f"opt = {name}([{spec}])")
    else:
        lines.append(f"opt = {name}(params{', ' if kwargs else ''}{kwargs_literal(kwargs)})")
    lines += [
        "for row in grads:",
        "    for p, g in zip(params, row):",
        "        p.grad = g",
        "    opt.step()",
    ]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _describe(name: str, what: str):
    def describe(ex: dict, detail: str) -> str:
        params, grads = make_tensors(ex)
        return (
            f"{what} differs from torch.optim.{name}'s convention on this case ({ex['dtype']}):\n"
            f"{snippet(name, params, grads, ex['kwargs'])}\n# {detail}"
        )

    return describe


def _equivalence(
    ctx: CheckContext, strategy, explicit: tuple[dict, ...], max_examples: int, what: str
) -> None:
    spec = SPECS[ctx.name]

    def body(ex: dict) -> None:
        params, grads = make_tensors(ex)
        resp = ctx.call(
            "optimizer_run",
            {
                "name": spec.name,
                "n_params": len(params),
                "steps": len(grads),
                "kwargs": spelled_out(spec, ex["kwargs"]),
            },
            wire(params, grads),
        )
        got = student_trajectory(resp, len(params), len(grads))
        why = first_difference(reference_run(spec, params, grads, ex["kwargs"]), got, DTYPES[ex["dtype"]])
        if why:
            raise Mismatch(why)

    base = {"shapes": [(3,)], "steps": 3, "seed": 1, "scale": 1.0, "none_rate": 0.0}
    examples = [dict(base, dtype=d, kwargs=kw) for kw in explicit for d in ("float64", "float32")]
    search(
        ctx, strategy, body, max_examples=max_examples, describe=_describe(spec.name, what), explicit=examples
    )


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
    _equivalence(ctx, S.optimizer_run(spec.kwargs()), spec.explicit, 40, "the update")


# --- interface and errors ---------------------------------------------------------------------------


@register("optimizer_interface")
def interface(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    info = ctx.describe(spec.name)
    problems = []
    if not info["is_class"] or "torch.optim.optimizer.Optimizer" not in info.get("mro", []):
        problems.append(f"`{spec.name}` must be a class that subclasses torch.optim.Optimizer")
    sig = {p["name"]: p for p in info.get("signature") or []}
    names = [p["name"] for p in info.get("signature") or []]
    if not names or names[0] != "params":
        problems.append("the first parameter must be `params`")
    for pname, default in spec.signature:
        p = sig.get(pname)
        if p is None:
            problems.append(f"missing parameter `{pname}` (default {default!r})")
        elif not p["has_default"] or not same_default(p["default"], default):
            got = p["default"] if p["has_default"] else "no default"
            problems.append(f"parameter `{pname}` should default to {default!r}, not {got!r}")
    extra = [
        n
        for n, p in sig.items()
        if n != "params"
        and not p["has_default"]
        and p["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD")
        and n not in dict(spec.signature)
    ]
    if extra:
        problems.append(f"extra parameters must be optional: {', '.join(extra)}")
    if problems:
        expected = ", ".join(["params"] + [f"{n}={d!r}" for n, d in spec.signature])
        raise Fail(f"expected `{spec.name}({expected})` as in torch.optim:\n- " + "\n- ".join(problems))
    # A signature alone is not an interface: the class must construct with its defaults.
    out = ctx.call(
        "construct",
        {"name": spec.name, "kwargs": spelled_out(spec, {}), "with_params": True},
        {"p0": torch.zeros(2, dtype=torch.float64)},
    ).value
    if out["raised"]:
        raise StudentError.from_construct(out, f"{spec.name}([torch.zeros(2, requires_grad=True)])")


@register("optimizer_errors")
def errors(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    p = {"p0": torch.zeros(2, dtype=torch.float64)}
    ok = ctx.call(
        "construct",
        {"name": spec.name, "kwargs": spelled_out(spec, {}), "with_params": True, "step": True},
        p,
    ).value
    if ok["raised"]:
        raise StudentError.from_construct(
            ok, f"opt = {spec.name}([torch.zeros(2, requires_grad=True)]); p.grad = torch.ones(2); opt.step()"
        )
    missed = []
    for kwargs in spec.errors:
        out = ctx.call(
            "construct", {"name": spec.name, "kwargs": spelled_out(spec, kwargs), "with_params": True}, p
        ).value
        if "ValueError" not in (out.get("mro") or []):
            got = f"raised {out['raised']}" if out["raised"] else "raised nothing"
            missed.append(f"{spec.name}(params, {kwargs_literal(kwargs)}) should raise ValueError; it {got}")
    if missed:
        fraction = 1 - len(missed) / len(spec.errors)
        raise Fail(
            "invalid hyper-parameters must raise ValueError (like torch.optim):\n- " + "\n- ".join(missed),
            fraction=round(fraction, 3),
        )


# --- self-consistency checks ------------------------------------------------------------------------


def _moves_like_reference(spec: OptimizerSpec, ctx: CheckContext, kwargs: dict) -> None:
    """Sanity guard: one default step from a fixed point must move like the reference (same direction)."""
    params = [torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)]
    grads = [[torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)]]
    resp = ctx.call(
        "optimizer_run",
        {"name": spec.name, "n_params": 1, "steps": 1, "kwargs": spelled_out(spec, kwargs)},
        wire(params, grads),
    )
    got = student_trajectory(resp, 1, 1)[0][0] - params[0]
    ref = reference_run(spec, params, grads, kwargs)[0][0] - params[0]
    if not bool(torch.isfinite(got).all()) or float((got * ref).sum()) <= 0:
        raise Fail(
            f"one step of {spec.name}(params{', ' if kwargs else ''}{kwargs_literal(kwargs)}) "
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
        k = max(1, min(len(grads) - 1, round(ex["resume_frac"] * len(grads))))
        args = {
            "name": spec.name,
            "n_params": len(params),
            "steps": len(grads),
            "kwargs": spelled_out(spec, ex["kwargs"]),
        }
        plain = student_trajectory(
            ctx.call("optimizer_run", args, wire(params, grads)), len(params), len(grads)
        )
        resumed = student_trajectory(
            ctx.call("optimizer_run", {**args, "resume_at": k}, wire(params, grads)), len(params), len(grads)
        )
        why = first_difference(plain, resumed, DTYPES[ex["dtype"]])
        if why:
            raise Mismatch(
                f"resuming from state_dict() after step {k} changed the run: {why} "
                "(expected: your uninterrupted run; keep all per-parameter state in self.state[p])"
            )

    def describe(ex: dict, detail: str) -> str:
        params, grads = make_tensors(ex)
        k = max(1, min(len(grads) - 1, round(ex["resume_frac"] * len(grads))))
        return (
            "state_dict() / load_state_dict() does not resume training exactly:\n"
            + snippet(spec.name, params, grads[:k], ex["kwargs"])
            + "\nstate = copy.deepcopy(opt.state_dict())"
            + f"\nopt2 = {spec.name}([p.detach().clone().requires_grad_() "
            f"for p in params]{', ' if ex['kwargs'] else ''}{kwargs_literal(ex['kwargs'])})\n"
            "opt2.load_state_dict(state)  # then continue with opt2 on the remaining gradients\n# " + detail
        )

    search(ctx, S.resume(spec.kwargs()), body, max_examples=15, describe=describe)


@register("optimizer_param_groups")
def param_groups(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    _moves_like_reference(spec, ctx, {})

    def setup(ex: dict):
        shapes = [(3,), (2,), (2, 2)][: len(ex["groups"])]
        params, grads = make_tensors(
            {
                "shapes": shapes,
                "steps": ex["steps"],
                "dtype": ex["dtype"],
                "seed": ex["seed"],
                "scale": 1.0,
                "none_rate": 0.0,
            }
        )
        groups = [{"params": [i], "kwargs": kw} for i, kw in enumerate(ex["groups"])]
        lr_changes = {1: [ex["new_lr"]] * len(groups)}
        return params, grads, groups, lr_changes

    def body(ex: dict) -> None:
        params, grads, groups, lr_changes = setup(ex)
        combined = student_trajectory(
            ctx.call(
                "optimizer_run",
                {
                    "name": spec.name,
                    "n_params": len(params),
                    "steps": len(grads),
                    "groups": groups,
                    "kwargs": spelled_out(spec, {}),
                    "lr_changes": lr_changes,
                },
                wire(params, grads),
            ),
            len(params),
            len(grads),
        )
        for i, g in enumerate(groups):
            alone = ctx.call(
                "optimizer_run",
                {
                    "name": spec.name,
                    "n_params": 1,
                    "steps": len(grads),
                    "kwargs": spelled_out(spec, g["kwargs"]),
                    "lr_changes": {1: [ex["new_lr"]]},
                },
                wire([params[i]], [[row[i]] for row in grads]),
            )
            alone_traj = student_trajectory(alone, 1, len(grads))
            why = first_difference(
                [[row[0]] for row in alone_traj],
                [[row[i]] for row in combined],
                DTYPES[ex["dtype"]],
                label=f"group {i}: param",
            )
            if why:
                raise Mismatch(
                    f"{why}; expected: the same as an optimizer built with this group's "
                    "hyper-parameters alone. Read every hyper-parameter from the group at each step"
                )
        # A scheduler changes group['lr'] between steps: the change must take effect.
        unchanged = student_trajectory(
            ctx.call(
                "optimizer_run",
                {
                    "name": spec.name,
                    "n_params": len(params),
                    "steps": len(grads),
                    "groups": groups,
                    "kwargs": spelled_out(spec, {}),
                },
                wire(params, grads),
            ),
            len(params),
            len(grads),
        )
        if first_difference(unchanged[1:], combined[1:], DTYPES[ex["dtype"]]) is None:
            raise Mismatch(
                f"setting param_groups[i]['lr'] = {ex['new_lr']} before step 2 changed nothing: "
                "read the learning rate from the group at every step"
            )

    def describe(ex: dict, detail: str) -> str:
        params, grads, groups, _ = setup(ex)
        return (
            "param groups are not handled independently:\n"
            + snippet(spec.name, params, grads, {}, groups)
            + f"\n# (from step 2 on, every group's lr is set to {ex['new_lr']})\n# "
            + detail
        )

    search(ctx, S.param_groups(spec.kwargs()), body, max_examples=12, describe=describe)


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
        args = {"name": spec.name, "n_params": 2, "steps": 3, "kwargs": spelled_out(spec, kwargs)}
        with_closure = ctx.call("optimizer_closure", {**args, "use_closure": True}, tensors)
        by_hand = ctx.call("optimizer_closure", {**args, "use_closure": False}, tensors)
        call = f"{spec.name}(params{', ' if kwargs else ''}{kwargs_literal(kwargs)})"
        info = with_closure.value
        if info["calls"] != 3:
            raise Fail(
                f"with opt = {call}, 3 calls of opt.step(closure) evaluated the closure "
                f"{info['calls']} times "
                "(expected exactly once per step)"
            )
        if not all(info["grad_enabled"]):
            raise Fail(
                "step(closure) ran the closure with grad disabled: wrap the call in torch.enable_grad() "
                "(step itself runs under torch.no_grad())"
            )
        if any(r != "tensor" for r in info["returned"]):
            raise Fail(f"opt.step(closure) must return the closure's loss; it returned {info['returned'][0]}")
        for t in range(3):
            prev = params if t == 0 else [with_closure.tensors[f"p{i}@{t - 1}"] for i in range(2)]
            expected = sum(
                float((0.5 * tensors[f"a{i}"] * p * p + tensors[f"b{i}"] * p).sum())
                for i, p in enumerate(prev)
            )
            got = float(with_closure.tensors[f"loss@{t}"])
            if abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
                raise Fail(
                    f"opt.step(closure) returned {got!r} at step {t + 1}; "
                    f"the closure's loss there was {expected!r}"
                )
        why = first_difference(
            student_trajectory(by_hand, 2, 3), student_trajectory(with_closure, 2, 3), torch.float64
        )
        if why:
            raise Fail(
                f"with opt = {call}, opt.step(closure) updates differently from loss.backward(); opt.step(): "
                f"{why}"
            )


@register("optimizer_convergence")
def convergence(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    conv = spec.convergence
    data = conv.data()
    finals = {}
    for label, kwargs in conv.runs:
        resp = ctx.call(
            "optimizer_problem",
            {
                "name": spec.name,
                "problem": conv.problem,
                "kwargs": spelled_out(spec, kwargs),
                "steps": conv.steps,
            },
            data,
            timeout=max(ctx.call_timeout_s, 20),
        )
        w = resp.tensors.get(f"w@{conv.steps}")
        if w is None or w.shape != data["init"].shape:
            raise Fail(f"{conv.story}: no final parameters came back")
        ref = _reference_problem(spec, conv, data, kwargs)
        got = _problem_loss(conv.problem, data, w)
        want = _problem_loss(conv.problem, data, ref)
        finals[label] = (got, want)
        if not got <= conv.factor * want + conv.slack:
            raise Fail(
                f"{conv.story}: after {conv.steps} steps of {spec.name}({kwargs_literal(kwargs)}) "
                f"the loss is "
                f"{got:.4g}; a correct implementation reaches {want:.4g}"
            )
    if conv.problem == "quadratic" and not finals["momentum"][0] < finals["plain"][0]:
        raise Fail(
            f"{conv.story}: momentum should beat plain SGD on the zig-zag valley "
            f"(loss {finals['momentum'][0]:.3g} with momentum vs {finals['plain'][0]:.3g} without)"
        )


def _reference_problem(spec: OptimizerSpec, conv: Convergence, data: dict, kwargs: dict) -> torch.Tensor:
    problem = problems.build(conv.problem, data)
    w = problem.init.clone().requires_grad_(True)
    opt = spec.reference([w], foreach=False, **kwargs)
    for t in range(conv.steps):
        opt.zero_grad()
        problem.loss(w, t).backward()
        opt.step()
    return w.detach()
