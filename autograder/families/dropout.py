"""Checks of ``Dropout`` (03_regularization), driven by the ``DROPOUT`` row.

Dropout is random: its checks judge properties every correct output has (each element 0 or
``x / (1 - p)``), and statistics with bounds of ``sigmas`` binomial standard deviations, with torch's RNG
seeded by the grader so a regrade is identical. The convergence check trains the lecture's MLP with
the student's layer and torch's own pieces for everything else (``layer_training``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

import reference

from ..records import CheckResult
from ..sandbox.worker import operations as ops
from . import interface
from . import layer_training as L
from . import strategies as S
from .base import CheckContext, Fail, register
from .compare import explain_difference, fmt_number, kwargs_literal
from .hypo import Mismatch, search
from .interface import InterfaceSpec
from .reproduce import block, show, student_import


@dataclass(frozen=True)
class DropoutSpec:
    """A graded dropout layer: its contract, valid and invalid ``p``, the cases every check runs
    (smallest first, so the first failing case is the one reported), tolerances and convergence."""

    name: str
    module: str
    reference: type
    interface: InterfaceSpec
    valid_p: tuple[float | None, ...]  # None: constructed without arguments
    invalid_p: tuple[float, ...]
    train_cases: tuple[tuple[tuple[int, ...], torch.dtype], ...]
    train_ps: tuple[float, ...]
    rtol: dict  # a kept value is x / (1 - p) up to the rounding of x * (1 / (1 - p))
    stat_shape: tuple[int, int]
    stat_ps: tuple[float, ...]
    sigmas: float
    drawn_examples: int  # training calls with a drawn p, shape and dtype (hypothesis)
    eval_cases: tuple[tuple[float, torch.dtype], ...]
    convergence: L.MlpProblem
    p_convergence: float


DROPOUT = DropoutSpec(
    name="Dropout",
    module="regularization",
    reference=reference.Dropout,
    interface=InterfaceSpec(
        "Dropout", "class", "`class Dropout(torch.nn.Module)` with `__init__(self, p=0.5)`",
        base="torch.nn.modules.module.Module", base_label="torch.nn.Module", params=(("p", 0.5),),
        ordered=True,
    ),
    valid_p=(None, 0.0, 1.0, 0.5),
    invalid_p=(-0.1, 1.5, -1.0, 2.0),
    train_cases=(
        ((2, 3), torch.float32),
        ((2, 3), torch.float64),
        ((4, 5, 6), torch.float32),
        ((30, 40), torch.float64),
        ((500,), torch.float32),
    ),
    train_ps=(0.0, 0.2, 0.5, 0.9, 1.0),
    # half precision: x * (1 / (1 - p)) may round twice (the mask product, then the scale)
    rtol={torch.float64: 1e-12, torch.float32: 1e-6, torch.bfloat16: 2e-2, torch.float16: 2.5e-3},
    stat_shape=(1000, 200),
    stat_ps=(0.1, 0.5, 0.8),
    sigmas=6.0,
    drawn_examples=20,
    eval_cases=((0.5, torch.float32), (0.2, torch.float64), (1.0, torch.float32), (0.9, torch.float64)),
    convergence=L.MlpProblem(n=256, n_val=512, d=8, hidden=64, steps=250, lr=0.05, momentum=0.9, seed=5),
    p_convergence=0.5,
)
def _input(shape: tuple, seed: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _input_code(shape: tuple, seed: int, dtype: torch.dtype) -> str:
    return f"torch.randn({shape}, generator=torch.Generator().manual_seed({seed}), dtype={dtype})"


def _run(ctx: CheckContext, p: float, seed: int, steps: list[dict], tensors: dict) -> ops.DropoutOutputs:
    return ctx.call(ops.DropoutRun(p, seed, steps, name=ctx.name, tensors=tensors))


# --- interface -----------------------------------------------------------------------------------------


@register("dropout_interface")
def dropout_interface(ctx: CheckContext) -> None:
    spec = DROPOUT.interface
    problems = interface.problems(ctx.describe(ctx.name), spec)
    for p in DROPOUT.valid_p:
        kwargs = {} if p is None else {"p": p}
        out = ctx.call(ops.Construct(ctx.name, kwargs))
        if out.raised:
            problems.append(
                f"{ctx.name}({kwargs_literal(kwargs)}) raised {out.raised}: {out.message} "
                "(p may be anything in [0, 1])"
            )
    for p in (0.2, 0.0, 1.0):  # p is stored as given (the probability of dropping, not of keeping)
        seen = _run(ctx, p, 0, [], {}).p
        if not problems and seen != p:
            got = "no number" if seen is None else repr(seen)
            problems.append(f"Dropout(p={p!r}).p is {got}; expected {p!r}: store the probability of dropping "
                            "as self.p, as nn.Dropout does (the lecture's keep probability is 1 - p)")
    for p in DROPOUT.invalid_p:
        out = ctx.call(ops.Construct(ctx.name, {"p": p}))
        if "ValueError" not in out.mro:
            got = f"raised {out.raised}" if out.raised else "raised nothing"
            problems.append(f"{ctx.name}(p={p!r}) should raise ValueError (p is a probability); it {got}")
    interface.fail_with(spec, problems)


# --- training-mode values and gradients ----------------------------------------------------------------


def _expected_code(p: float, grad: bool) -> str:
    """What a correct Dropout gives, from the student's own mask (the elements of y that are 0)."""
    if p >= 1:
        return "torch.zeros_like(x)"
    if p == 0:
        return "torch.ones_like(x)" if grad else "x.detach()"
    kept = f"1 / (1 - {p!r})" if grad else f"x.detach() / (1 - {p!r})"
    return f"torch.where(y != 0, {kept}, 0.0)  # your mask, scaled by 1 / (1 - p)"


def case_snippet(
    p: float, seed: int, shape: tuple, dtype: torch.dtype, x_seed: int, calls: int, grad: bool = False
) -> str:
    """The case as a reproducer: the same seed and earlier calls (the RNG's state), then the values
    (or x.grad) and what a correct Dropout gives with the same mask, where they differ."""
    lines = ["import torch", student_import(DROPOUT.module, "Dropout"), f"torch.manual_seed({seed})",
             f"drop = Dropout(p={p!r})"]
    base = x_seed - (calls - 1)
    for j in range(calls - 1):  # the earlier cases of the run draw from the RNG first
        earlier_shape, earlier_dtype = DROPOUT.train_cases[j]
        lines.append(f"drop({_input_code(earlier_shape, base + j, earlier_dtype)})  # earlier case {j + 1}")
    rg = ".requires_grad_()" if grad else ""
    lines += [f"x = {_input_code(shape, x_seed, dtype)}{rg}", "y = drop(x)"]
    if grad:
        lines += ["y.backward(torch.ones_like(y))", "got = x.grad"]
    else:
        lines.append("got = y.detach()")
    lines += [
        f"expected = {_expected_code(p, grad)}",
        f"differ = ~torch.isclose(got, expected.to(got.dtype), rtol={DROPOUT.rtol[dtype]!r}, atol=0.0)",
        "print('dtype:')",
        show("got.dtype", "x.dtype"),
        "print('elements that differ:', int(differ.sum()), 'of', differ.numel())",
        show("got[differ][:8].tolist()", "expected[differ][:8].tolist()"),
    ]
    return block(*lines)


def kept_values_problem(x: torch.Tensor, y: torch.Tensor, p: float, label: str = "y") -> str | None:
    """None if every element of y is 0 or x / (1 - p) (p = 0: all kept; p = 1: all dropped)."""
    if not isinstance(y, torch.Tensor):
        return f"{label}: expected a tensor, got {type(y).__name__}"
    if tuple(y.shape) != tuple(x.shape) or y.dtype != x.dtype:
        return (
            f"{label} should have the input's shape {tuple(x.shape)} and dtype {x.dtype}; "
            f"got {tuple(y.shape)}, {y.dtype}"
        )
    if bool(torch.isnan(y).any()):
        idx = tuple(int(i) for i in torch.isnan(y).nonzero()[0])
        return f"{label}[{', '.join(map(str, idx))}] is nan (expected 0 or x / (1 - p) for finite x)"
    if p >= 1.0:
        bad = y != 0
        want = "0 (p=1 drops every element)"
    else:
        scaled = x.double() / (1.0 - p)
        close = (y.double() - scaled).abs() <= DROPOUT.rtol[x.dtype] * scaled.abs()
        bad = ~((y == 0) | close) if p > 0 else ~close
        want = "x = {x} (p=0 keeps every element)" if p == 0 else "0 or x / (1 - p) = {s}"
    if not bool(bad.any()):
        return None
    idx = tuple(int(i) for i in bad.nonzero()[0])
    where = f"{label}[{', '.join(map(str, idx))}]"
    xv = x[idx].item()
    expected = want.format(x=fmt_number(xv), s=fmt_number(xv / (1.0 - p)) if p < 1 else "")
    return f"{where} is {fmt_number(y[idx].item())}; expected {expected} (there x is {fmt_number(xv)})"


def _train_case_problem(k: int, i: int, p: float, seed: int, tensors: dict, resp) -> str | None:
    """Case ``i`` of the run with ``train_ps[k]``: values, then the gradient (1 / (1 - p) where kept)."""
    shape, dtype = DROPOUT.train_cases[i]
    x, y = tensors[f"x{i}"], resp.tensors.get(f"y{i}")
    why = kept_values_problem(x, y, p)
    if why:
        return (f"in training mode, Dropout(p={p}) must zero each element or scale it by 1 / (1 - p): {why}\n"
                f"{case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1)}")
    if resp.intact and not resp.intact[i]:
        return (f"Dropout(p={p}) changed its input x in place; the caller's tensor must keep its values "
                "(compute a new tensor, e.g. x * mask / (1 - p))\n"
                f"{case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1)}")
    # The gradient: 1 / (1 - p) where kept, 0 where dropped; p=1 too (zero gradients, as torch).
    g = resp.tensors.get(f"gx{i}")
    with_grad = case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1, grad=True)
    if not resp.requires_grad[i]:
        if p < 1:
            return (f"the output of Dropout(p={p}) in training is not connected to x by autograd "
                    "(detached, or built without x?): no gradient reaches the layers before it "
                    "(x.grad is None)")
        return (f"the output of Dropout(p={p}) in training is not connected to x by autograd, so "
                "backward through the network raises; torch gives zero gradients there (x * 0 keeps "
                "the graph, torch.zeros_like(x) does not)")
    expected = torch.where(y != 0, torch.full_like(x, 1.0 / (1.0 - p) if p < 1 else 0.0), torch.zeros_like(x))
    why = explain_difference(expected, g, DROPOUT.rtol[dtype], 0.0, "x.grad") if g is not None \
        else "x.grad is None"
    if why:
        return (f"the gradient of Dropout(p={p}) must be 1 / (1 - p) where an element is kept and 0 "
                f"where it is dropped: {why}\n{with_grad}")
    return None


@register("dropout_train_values")
def dropout_train_values(ctx: CheckContext) -> None:
    cases = DROPOUT.train_cases
    for k, p in enumerate(DROPOUT.train_ps):
        seed = 100 + k
        tensors = {f"x{i}": _input(shape, 10 * k + i, dtype) for i, (shape, dtype) in enumerate(cases)}
        steps = [{"x": f"x{i}", "train": True, "grad": True} for i in range(len(cases))]
        resp = _run(ctx, p, seed, steps, tensors)
        for i in range(len(cases)):
            why = _train_case_problem(k, i, p, seed, tensors, resp)
            if why:
                raise Fail(why)
    _drawn_train_values(ctx)


DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16,
          "float16": torch.float16}


def _drawn_train_values(ctx: CheckContext) -> None:
    """Drawn p, shapes and dtypes: kept values are x / (1 - p) in x's dtype (a float64 input keeps float64
    precision, so a mask or scale made in float32 shows), the input is left unchanged, and gradients."""

    def body(ex: dict) -> None:
        shape, dtype = tuple(ex["shape"]), DTYPES[ex["dtype"]]
        x = _input(shape, ex["x_seed"], dtype)
        resp = _run(ctx, ex["p"], ex["seed"], [{"x": "x", "train": True, "grad": ex["grad"]}], {"x": x})
        y = resp.tensors.get("y0")
        why = kept_values_problem(x, y, ex["p"])
        if not why and resp.intact and not resp.intact[0]:
            why = "the input x was changed in place (the caller's tensor must keep its values)"
        if not why and ex["grad"]:
            if not resp.requires_grad[0]:
                why = "the output is not connected to x by autograd (x.grad is None)"
            else:
                want = torch.where(y != 0, torch.full_like(x, 1.0 / (1.0 - ex["p"])), torch.zeros_like(x))
                g = resp.tensors.get("gx0")
                why = explain_difference(want, g, DROPOUT.rtol[dtype], 0.0, "x.grad") if g is not None \
                    else "x.grad is None"
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        snippet = case_snippet(ex["p"], ex["seed"], tuple(ex["shape"]), DTYPES[ex["dtype"]], ex["x_seed"], 1,
                               ex["grad"])
        return (f"in training mode, Dropout(p={ex['p']}) must zero each element or scale it by 1 / (1 - p), "
                f"computed in the input's dtype ({ex['dtype']}), with gradient 1 / (1 - p) where kept: "
                f"{detail}\n{snippet}")

    explicit = [{"p": p, "shape": (30, 40), "dtype": "float64", "grad": g, "x_seed": 7, "seed": 8}
                for p, g in ((0.3, False), (0.7, True), (0.15, True))]
    # half precision: the output keeps the input's dtype (a float32 mask or scale would promote it)
    explicit += [{"p": 0.3, "shape": (30, 40), "dtype": d, "grad": False, "x_seed": 7, "seed": 8}
                 for d in ("bfloat16", "float16")]
    search(ctx, S.dropout_cases(), body, max_examples=DROPOUT.drawn_examples, describe=describe,
           explicit=explicit)


# --- statistics of the mask ----------------------------------------------------------------------------


def _rate_problem(observed: float, expected: float, n: int, what: str) -> str | None:
    bound = DROPOUT.sigmas * math.sqrt(expected * (1 - expected) / n)
    if abs(observed - expected) <= bound:
        return None
    return (
        f"{what} is {observed:.4f}; expected {expected:.4f} +- {bound:.4f} "
        f"({DROPOUT.sigmas:g} standard deviations)"
    )


def _mask_statistics(d1: torch.Tensor, d2: torch.Tensor, p: float) -> tuple:
    """(code a student can print, observed value, expected rate, sample size, what it measures) for
    two dropped-element masks of two calls."""
    n = d1.numel()
    q = p * p + (1 - p) * (1 - p)  # two independent elements agree (both kept or both dropped)
    half = n // 2
    rows = "how often neighbouring rows agree (each element needs its own random draw)"
    cols = "how often neighbouring columns agree (each element needs its own random draw)"
    fresh = (
        "how often the two calls agree on an element (fresh masks agree with probability p**2 + (1-p)**2)"
    )
    second = "the fraction of dropped elements in the second call"
    return (
        ("(y1 == 0).float().mean()", d1.float().mean(), p, n, "the fraction of dropped elements"),
        ("(y2 == 0).float().mean()", d2.float().mean(), p, n, second),
        ("((y1 == 0) == (y2 == 0)).float().mean()", (d1 == d2).float().mean(), q, n, fresh),
        ("((y1[0::2] == 0) == (y1[1::2] == 0)).float().mean()", (d1[0::2] == d1[1::2]).float().mean(),
         q, half, rows),
        ("((y1[:, 0::2] == 0) == (y1[:, 1::2] == 0)).float().mean()",
         (d1[:, 0::2] == d1[:, 1::2]).float().mean(), q, half, cols),
    )


def _statistics_problem(ctx: CheckContext, k: int, p: float, x: torch.Tensor) -> str | None:
    seed, shape = 200 + k, DROPOUT.stat_shape
    resp = _run(ctx, p, seed, [{"x": "x", "train": True}, {"x": "x", "train": True}], {"x": x})
    head = ["import torch", student_import(DROPOUT.module, "Dropout"), f"torch.manual_seed({seed})",
            f"drop = Dropout(p={p!r})", f"x = torch.full({shape}, 1.5)", "y1, y2 = drop(x), drop(x)"]
    dropped = []
    for i in range(2):
        y = resp.tensors.get(f"y{i}")
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != shape:
            return (f"Dropout(p={p!r}) on a tensor of shape {shape}: y{i + 1} should be a tensor of that "
                    "shape\n" + block(*head, show(f"getattr(y{i + 1}, 'shape', type(y{i + 1}))",
                                                  repr(shape))))
        dropped.append(~(y != 0))
    for code, stat, expected, count, what in _mask_statistics(*dropped, p):
        why = _rate_problem(float(stat), expected, count, what)
        if why:
            return ("the dropout mask must drop each element independently with probability p, afresh "
                    f"in every call: {why}\n" + block(*head, show(f"{code}.item()", f"'{expected:.4f}'")))
    return None


@register("dropout_statistics")
def dropout_statistics(ctx: CheckContext) -> None:
    x = torch.full(DROPOUT.stat_shape, 1.5)
    for k, p in enumerate(DROPOUT.stat_ps):
        why = _statistics_problem(ctx, k, p, x)
        if why:
            raise Fail(why)
    # Reproducible under torch.manual_seed: the mask comes from torch's global RNG. The same layer
    # reseeded repeats its mask; another seed gives another mask (a private generator does neither).
    p, seed = 0.5, 299
    small = x[:100]
    steps = [{"x": "x", "train": True}, {"x": "x", "train": True, "reseed": seed}]
    resp = _run(ctx, p, seed, steps, {"x": small})
    ya, yb = resp.tensors.get("y0"), resp.tensors.get("y1")
    other = _run(ctx, p, seed + 1, steps[:1], {"x": small}).tensors.get("y0")
    head = ("import torch", student_import(DROPOUT.module, "Dropout"), "x = torch.full((100, 200), 1.5)",
            f"torch.manual_seed({seed})", "drop = Dropout(p=0.5)", "y1 = drop(x)")
    if not (isinstance(ya, torch.Tensor) and isinstance(yb, torch.Tensor) and torch.equal(ya, yb)):
        raise Fail(
            "draw the mask from torch's global random number generator (torch.rand_like, torch.bernoulli, "
            "...), so that torch.manual_seed makes a run reproducible: after torch.manual_seed with the same "
            "seed, the same layer gave another mask\n"
            + block(*head, f"torch.manual_seed({seed})", "y2 = drop(x)", show("torch.equal(y1, y2)", "True"))
        )
    if isinstance(other, torch.Tensor) and torch.equal(ya, other):
        raise Fail(
            "draw the mask from torch's global random number generator (torch.rand_like, torch.bernoulli, "
            "...): two different seeds of torch.manual_seed gave the same mask\n"
            + block(*head, f"torch.manual_seed({seed + 1})", "y2 = Dropout(p=0.5)(x)",
                    show("torch.equal(y1, y2)", "False"))
        )


# --- eval mode -----------------------------------------------------------------------------------------


def _eval_problem(ctx: CheckContext, k: int, p: float, dtype: torch.dtype) -> str | None:
    shape, seed = (20, 10), 300 + k
    x = _input(shape, seed, dtype)
    steps = [{"x": "x", "train": True}, {"x": "x", "train": False}, {"x": "x", "train": True}]
    resp = _run(ctx, p, seed, steps, {"x": x})
    head = ("import torch", student_import(DROPOUT.module, "Dropout"), f"torch.manual_seed({seed})",
            f"drop = Dropout(p={p!r})", f"x = {_input_code(shape, seed, dtype)}", "drop(x)  # training")
    y_eval = resp.tensors.get("y1")
    if not (isinstance(y_eval, torch.Tensor) and y_eval.dtype == x.dtype and tuple(y_eval.shape) == shape
            and torch.equal(y_eval, x)):
        tensor = isinstance(y_eval, torch.Tensor)
        why = explain_difference(x, y_eval, 0.0, 0.0, "y") if tensor else "not a tensor"
        return (f"in eval mode Dropout must return its input unchanged: {why}\n"
                + block(*head, "drop.eval()", "y = drop(x)", "differ = y != x  # where y is not x",
                        "print('elements that differ:', int(differ.sum()), 'of', differ.numel())",
                        show("y[differ][:8].tolist()", "x[differ][:8].tolist()")))
    y_train = resp.tensors.get("y2")
    if isinstance(y_train, torch.Tensor) and torch.equal(y_train, x):
        return (f"after .train() Dropout must drop elements again: y equals x; with p={p} about {p:.0%} "
                "of its elements should be 0\n"
                + block(*head, "drop.eval()", "drop(x)", "drop.train()", "y = drop(x)",
                        show("(y == 0).float().mean().item()", repr(p))))
    return None


@register("dropout_eval")
def dropout_eval(ctx: CheckContext) -> None:
    for k, (p, dtype) in enumerate(DROPOUT.eval_cases):
        why = _eval_problem(ctx, k, p, dtype)
        if why:
            raise Fail(why)


# --- convergence ---------------------------------------------------------------------------------------


CURVE_EVERY = 5  # steps between two points of the convergence plot


def _plain_val_loss(w: dict[str, torch.Tensor], data: dict) -> float:
    """The validation loss of Linear -> ReLU -> Linear with weights ``w`` (dropout off), computed
    without building modules: nothing here may draw from torch's RNG during a seeded run."""
    with torch.no_grad():
        hidden = torch.relu(data["Xv"] @ w["W1"].T + w["b1"])
        return float(torch.nn.functional.mse_loss(hidden @ w["W2"].T + w["b2"], data["yv"]))


@functools.cache
def _problem() -> tuple[dict, dict, float, list[float]]:
    """Data, initial weights, the reference's validation loss and its curve (once per grader process)."""
    c = DROPOUT.convergence
    data = L.teacher_data(c.seed, c.n, c.n_val, c.d, offset=0.0, noise=0.3, shrink=1.0)
    init = L.init_weights(c.seed + 1, c.d, c.hidden)
    curve: list[float] = []

    def snapshot(t: int, model) -> None:
        if t % CURVE_EVERY == 0:
            w = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[3].weight, "b2": model[3].bias}
            curve.append(_plain_val_loss({k: v.detach() for k, v in w.items()}, data))

    middle = DROPOUT.reference(DROPOUT.p_convergence)
    ref = L.train_reference(middle, False, data, init, c, after_step=snapshot)
    return data, init, L.val_loss(ref, data), curve


@register("dropout_convergence")
def dropout_convergence(ctx: CheckContext) -> CheckResult:
    c, p = DROPOUT.convergence, DROPOUT.p_convergence
    data, init, want, ref_curve = _problem()
    request = ops.MlpTrain("dropout", ctx.name, {"p": p}, c.steps, c.lr, c.momentum, c.seed,
                           tensors={"X": data["X"], "y": data["y"], **init}, every=CURVE_EVERY)
    resp = ctx.call(request, timeout=ctx.long_call_timeout())
    student = L.train_reference(torch.nn.Identity(), False, data, L.final_weights(resp, init), None)
    got = L.val_loss(student, data)
    mine = L.snapshot_curve(resp, c.steps, CURVE_EVERY, {k: k for k in ("W1", "b1", "W2", "b2")},
                            lambda w: _plain_val_loss(w, data))
    steps = list(range(CURVE_EVERY, c.steps + 1, CURVE_EVERY))
    plot = {"title": f"a small MLP with Dropout(p={p}), trained with SGD", "xlabel": "step",
            "ylabel": "validation MSE, dropout off (log scale)", "log": True,
            "caption": "the validation loss while training with your Dropout against a correct one's: same "
                       "data, initial weights and optimizer, but each Dropout draws its own masks (a mask "
                       "is random), so two correct Dropouts give curves that differ in detail; what is "
                       "graded is the final loss",
            "series": [{"label": "your Dropout", "x": steps[: len(mine)], "y": mine},
                       {"label": "a correct Dropout", "x": steps[: len(ref_curve)], "y": ref_curve}]}
    if not got <= c.factor * want + c.slack:
        raise Fail(
            f"a small MLP (Linear -> ReLU -> Dropout(p={p}) -> Linear) trained with SGD and "
            f"your Dropout reaches a validation loss of {got:.4g} (evaluated without dropout); with a "
            f"correct Dropout it reaches {want:.4g}. Check the scaling of the kept values (1 / (1 - p)) "
            "and that gradients flow through the kept elements.",
            plot=plot,
        )
    return CheckResult(ctx.line.id, "passed", "", 1.0, plot)
