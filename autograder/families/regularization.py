"""Checks of 03_regularization: Dropout, BatchNormFunction, BatchNorm1d and BatchNorm2d.

The BatchNorm modules share one set of checks, driven by the spec table ``MODULES`` (ranks accepted,
torch's class, the reference class, the shapes to try). Every check sends inputs to the worker, gets
the student's raw outputs back and judges them here, against ``reference`` computed in this process.

Isolation: while a BatchNorm module is graded, the worker runs it with a trusted stand-in for the
student's ``BatchNormFunction``; the convergence checks use torch's own layers for everything else.
Dropout is random: its checks judge properties every correct output has (each element 0 or
``x / (1 - p)``), and statistics with bounds of six binomial standard deviations, with torch's RNG
seeded by the grader so a regrade is identical.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch import nn

import reference

from ..sandbox.worker.handlers import problems
from .base import CheckContext, Fail, StudentError, register
from .compare import explain_difference, fmt_number, kwargs_literal, tensor_literal
from .hypo import Mismatch, search
from .interface import same_default

DTYPES = {"float64": torch.float64, "float32": torch.float32}
MODULE_MRO = "torch.nn.modules.module.Module"
FUNCTION_MRO = "torch.autograd.function.Function"
LITERAL_MAX = 160  # tensors up to this many elements are written out in feedback

# Hypothesis examples per check (modest: each example is a round trip to the worker).
MAX_EXAMPLES = {
    "bn_function_forward": 25,
    "bn_function_backward": 25,
    "bn_module_train_forward": 15,
    "bn_module_running_stats": 10,
    "bn_module_eval": 12,
}

# BatchNorm tolerances per dtype, (rtol, atol relative to the largest expected magnitude). Calibrated
# on three independently written correct submissions (sum/n vs mean, rsqrt vs 1/sqrt, a (C, M) view,
# a chain-rule backward) with 500 examples per check: the worst used 4% of the float32 and 0.003% of
# the float64 tolerance (float32 x.grad of two-sample batches, where the gradient nearly cancels).
# The bugs these checks exist for (unbiased variance, eps outside the sqrt, a missing backward term,
# wrong momentum) change float64 results by far more than 1e-8 (eps outside the sqrt: ~eps/2 relative).
BN_TOL = {torch.float64: (1e-8, 1e-10), torch.float32: (1e-4, 5e-5)}
# Dropout: a kept value must be x / (1 - p) up to the rounding of x * (1 / (1 - p)).
DROP_RTOL = {torch.float64: 1e-12, torch.float32: 1e-6}


def _bn_diff(expected: torch.Tensor, got: torch.Tensor | None, label: str) -> str | None:
    if got is None:
        return f"{label}: no value (None)"
    if expected.dtype not in BN_TOL:
        return explain_difference(expected, got, 0.0, 0.0, label)
    rtol, atol = BN_TOL[expected.dtype]
    scale = max(1.0, float(expected.detach().abs().max())) if expected.numel() else 1.0
    return explain_difference(expected, got, rtol, atol * scale, label)


def _grid(gen: torch.Generator, shape) -> torch.Tensor:
    """Values on a grid of 1/8: exact in float32 and readable when they end up in feedback."""
    return torch.round(torch.randn(tuple(shape), generator=gen, dtype=torch.float64) * 8) / 8 + 0.0  # no -0.0


def _interface_problems(info: dict, name: str, base: str, base_label: str, signature: tuple) -> list[str]:
    """Class, base class and constructor parameters (name, default) of a graded class."""
    problems = []
    if not info.get("is_class") or base not in info.get("mro", []):
        problems.append(f"`{name}` must be a class that subclasses {base_label}")
    params = [p for p in info.get("signature") or [] if p["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD")]
    by_name = {p["name"]: p for p in params}
    for pname, default in signature:
        p = by_name.get(pname)
        if p is None:
            problems.append(
                f"missing parameter `{pname}`" + ("" if default is _REQUIRED else f" (default {default!r})")
            )
        elif default is _REQUIRED:
            if p["has_default"]:
                problems.append(f"parameter `{pname}` should have no default")
        elif not p["has_default"] or not same_default(p["default"], default):
            got = repr(p["default"]) if p["has_default"] else "no default"
            problems.append(f"parameter `{pname}` should default to {default!r}, not {got}")
    wanted = [n for n, _ in signature]
    if params and wanted and [p["name"] for p in params][: len(wanted)] != wanted and not problems:
        problems.append(f"the parameters should come in this order: {', '.join(wanted)}")
    extra = [p["name"] for p in params if p["name"] not in wanted and not p["has_default"]]
    if extra:
        problems.append(f"extra parameters must be optional: {', '.join(extra)}")
    return problems


_REQUIRED = object()


# ======================================================================================= Dropout

DROPOUT_SIG = (("p", 0.5),)
HEAD_DROPOUT = "import torch\nfrom regularization import Dropout"


def _drop_input(shape: tuple, seed: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _drop_input_code(shape: tuple, seed: int, dtype: torch.dtype) -> str:
    return f"torch.randn({shape}, generator=torch.Generator().manual_seed({seed}), dtype={dtype})"


@register("dropout_interface")
def dropout_interface(ctx: CheckContext) -> None:
    info = ctx.describe(ctx.name)
    problems = _interface_problems(info, ctx.name, MODULE_MRO, "torch.nn.Module", DROPOUT_SIG)
    for p in (None, 0.0, 1.0, 0.5):
        kwargs = {} if p is None else {"p": p}
        out = ctx.call("construct", {"name": ctx.name, "kwargs": kwargs}).value
        if out["raised"]:
            problems.append(
                f"{ctx.name}({kwargs_literal(kwargs)}) raised {out['raised']}: {out['message']} "
                "(p may be anything in [0, 1])"
            )
    for p in (-0.1, 1.5, -1.0, 2.0):
        out = ctx.call("construct", {"name": ctx.name, "kwargs": {"p": p}}).value
        if "ValueError" not in (out.get("mro") or []):
            got = f"raised {out['raised']}" if out["raised"] else "raised nothing"
            problems.append(f"{ctx.name}(p={p!r}) should raise ValueError (p is a probability); it {got}")
    if problems:
        raise Fail(
            f"expected `class {ctx.name}(torch.nn.Module)` with `__init__(self, p=0.5)`:\n- "
            + "\n- ".join(problems)
        )


# Smallest first, so the first failing case is the one reported.
TRAIN_CASES = (
    ((2, 3), torch.float32),
    ((2, 3), torch.float64),
    ((4, 5, 6), torch.float32),
    ((30, 40), torch.float64),
    ((500,), torch.float32),
)
TRAIN_PS = (0.0, 0.2, 0.5, 0.9, 1.0)


def _dropout_case_snippet(
    p: float, seed: int, shape: tuple, dtype: torch.dtype, x_seed: int, calls: int, grad: bool = False
) -> str:
    lines = [HEAD_DROPOUT, f"torch.manual_seed({seed})", f"drop = Dropout(p={p!r})"]
    if calls > 1:
        lines.append(
            f"# ... after {calls - 1} earlier call(s) of drop(...) in training mode (see the other cases)"
        )
    rg = ".requires_grad_()" if grad else ""
    lines += [f"x = {_drop_input_code(shape, x_seed, dtype)}{rg}", "y = drop(x)"]
    if grad:
        lines.append("y.backward(torch.ones_like(y))")
    return "\n".join(lines)


def _kept_values_problem(x: torch.Tensor, y: torch.Tensor, p: float, label: str = "y") -> str | None:
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
        close = (y.double() - scaled).abs() <= DROP_RTOL[x.dtype] * scaled.abs()
        bad = ~((y == 0) | close) if p > 0 else ~close
        want = "x = {x} (p=0 keeps every element)" if p == 0 else "0 or x / (1 - p) = {s}"
    if not bool(bad.any()):
        return None
    idx = tuple(int(i) for i in bad.nonzero()[0])
    where = f"{label}[{', '.join(map(str, idx))}]"
    xv = x[idx].item()
    expected = want.format(x=fmt_number(xv), s=fmt_number(xv / (1.0 - p)) if p < 1 else "")
    return f"{where} is {fmt_number(y[idx].item())}; expected {expected} (there x is {fmt_number(xv)})"


@register("dropout_train_values")
def dropout_train_values(ctx: CheckContext) -> None:
    for k, p in enumerate(TRAIN_PS):
        seed = 100 + k
        tensors = {
            f"x{i}": _drop_input(shape, 10 * k + i, dtype) for i, (shape, dtype) in enumerate(TRAIN_CASES)
        }
        steps = [{"x": f"x{i}", "train": True, "grad": True} for i in range(len(TRAIN_CASES))]
        resp = ctx.call("dropout_run", {"name": ctx.name, "p": p, "seed": seed, "steps": steps}, tensors)
        for i, (shape, dtype) in enumerate(TRAIN_CASES):
            x, y = tensors[f"x{i}"], resp.tensors.get(f"y{i}")
            case = _dropout_case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1)
            why = _kept_values_problem(x, y, p)
            if why:
                raise Fail(
                    f"in training mode, Dropout(p={p}) must zero each element or scale it by 1 / (1 - p):\n"
                    f"{case}\n# {why}"
                )
            # The gradient: 1 / (1 - p) where kept, 0 where dropped (p=1: zero or no graph at all).
            g = resp.tensors.get(f"gx{i}")
            if not resp.value["requires_grad"][i]:
                if p < 1:
                    raise Fail(
                        f"the output of Dropout(p={p}) in training is not connected to x by autograd "
                        "(detached, or built without x?): no gradient reaches the layers before it:\n"
                        f"{_dropout_case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1, grad=True)}\n"
                        "# x.grad is None"
                    )
                continue
            expected = torch.where(
                y != 0, torch.full_like(x, 1.0 / (1.0 - p) if p < 1 else 0.0), torch.zeros_like(x)
            )
            why = (
                explain_difference(expected, g, DROP_RTOL[dtype], 0.0, "x.grad")
                if g is not None
                else "x.grad is None"
            )
            if why:
                raise Fail(
                    f"the gradient of Dropout(p={p}) must be 1 / (1 - p) where an element is kept and 0 "
                    "where it is dropped:\n"
                    f"{_dropout_case_snippet(p, seed, shape, dtype, 10 * k + i, i + 1, grad=True)}\n# {why}"
                )


STAT_SHAPE = (1000, 200)
STAT_PS = (0.1, 0.5, 0.8)
SIGMAS = 6.0


def _rate_problem(observed: float, expected: float, n: int, what: str) -> str | None:
    bound = SIGMAS * math.sqrt(expected * (1 - expected) / n)
    if abs(observed - expected) <= bound:
        return None
    return (
        f"{what} is {observed:.4f}; expected {expected:.4f} +- {bound:.4f} ({SIGMAS:g} standard deviations)"
    )


@register("dropout_statistics")
def dropout_statistics(ctx: CheckContext) -> None:
    x = torch.full(STAT_SHAPE, 1.5)
    n = x.numel()
    for k, p in enumerate(STAT_PS):
        seed = 200 + k
        steps = [{"x": "x", "train": True}, {"x": "x", "train": True}]
        resp = ctx.call("dropout_run", {"name": ctx.name, "p": p, "seed": seed, "steps": steps}, {"x": x})
        head = (
            f"{HEAD_DROPOUT}\ntorch.manual_seed({seed})\ndrop = Dropout(p={p!r})\n"
            f"x = torch.full({STAT_SHAPE}, 1.5)\ny1, y2 = drop(x), drop(x)\n"
        )
        kept = []
        for i in range(2):
            y = resp.tensors.get(f"y{i}")
            if not isinstance(y, torch.Tensor) or tuple(y.shape) != STAT_SHAPE:
                raise Fail(head + f"# y{i + 1} should be a tensor of shape {STAT_SHAPE}")
            kept.append(y != 0)
        q = p * p + (1 - p) * (1 - p)  # two independent elements agree (both kept or both dropped)
        half = n // 2
        d1, d2 = ~kept[0], ~kept[1]
        rows = "how often neighbouring rows agree (each element needs its own random draw)"
        cols = "how often neighbouring columns agree (each element needs its own random draw)"
        fresh = (
            "how often the two calls agree on an element (fresh masks agree with probability p**2 + (1-p)**2)"
        )
        tests = (
            ("(y1 == 0).float().mean()", d1.float().mean(), p, n, "the fraction of dropped elements"),
            (
                "(y2 == 0).float().mean()",
                d2.float().mean(),
                p,
                n,
                "the fraction of dropped elements in the second call",
            ),
            ("((y1 == 0) == (y2 == 0)).float().mean()", (d1 == d2).float().mean(), q, n, fresh),
            (
                "((y1[0::2] == 0) == (y1[1::2] == 0)).float().mean()",
                (d1[0::2] == d1[1::2]).float().mean(),
                q,
                half,
                rows,
            ),
            (
                "((y1[:, 0::2] == 0) == (y1[:, 1::2] == 0)).float().mean()",
                (d1[:, 0::2] == d1[:, 1::2]).float().mean(),
                q,
                half,
                cols,
            ),
        )
        for code, stat, expected, count, what in tests:
            why = _rate_problem(float(stat), expected, count, what)
            if why:
                raise Fail(
                    "the dropout mask must drop each element independently with probability p, afresh "
                    f"in every call:\n{head}print({code})\n# {why}"
                )
    # Reproducible under torch.manual_seed: the mask comes from torch's RNG.
    p, seed = 0.5, 299
    steps = [{"x": "x", "train": True}]
    small = x[:100]
    a = ctx.call("dropout_run", {"name": ctx.name, "p": p, "seed": seed, "steps": steps}, {"x": small})
    b = ctx.call("dropout_run", {"name": ctx.name, "p": p, "seed": seed, "steps": steps}, {"x": small})
    ya, yb = a.tensors.get("y0"), b.tensors.get("y0")
    if not (isinstance(ya, torch.Tensor) and isinstance(yb, torch.Tensor) and torch.equal(ya, yb)):
        raise Fail(
            "draw the mask from torch's random number generator (torch.rand, torch.bernoulli, ...), so that "
            "torch.manual_seed makes a run reproducible:\n"
            f"{HEAD_DROPOUT}\nx = torch.full((100, 200), 1.5)\n"
            f"torch.manual_seed({seed}); y1 = Dropout(p=0.5)(x)\n"
            f"torch.manual_seed({seed}); y2 = Dropout(p=0.5)(x)\n"
            "print(torch.equal(y1, y2))\n# False; expected True"
        )


@register("dropout_eval")
def dropout_eval(ctx: CheckContext) -> None:
    shape = (20, 10)
    for k, (p, dtype) in enumerate(
        ((0.5, torch.float32), (0.2, torch.float64), (1.0, torch.float32), (0.9, torch.float64))
    ):
        seed = 300 + k
        x = _drop_input(shape, seed, dtype)
        steps = [{"x": "x", "train": True}, {"x": "x", "train": False}, {"x": "x", "train": True}]
        resp = ctx.call("dropout_run", {"name": ctx.name, "p": p, "seed": seed, "steps": steps}, {"x": x})
        snippet = (
            f"{HEAD_DROPOUT}\ntorch.manual_seed({seed})\ndrop = Dropout(p={p!r})\n"
            f"x = {_drop_input_code(shape, seed, dtype)}\n"
        )
        y_eval = resp.tensors.get("y1")
        if not (
            isinstance(y_eval, torch.Tensor)
            and y_eval.dtype == x.dtype
            and tuple(y_eval.shape) == shape
            and torch.equal(y_eval, x)
        ):
            why = (
                explain_difference(x, y_eval, 0.0, 0.0, "y")
                if isinstance(y_eval, torch.Tensor)
                else "not a tensor"
            )
            raise Fail(
                "in eval mode Dropout must return its input unchanged:\n"
                f"{snippet}drop(x)  # training\ndrop.eval()\ny = drop(x)\n# {why}"
            )
        y_train = resp.tensors.get("y2")
        if isinstance(y_train, torch.Tensor) and torch.equal(y_train, x):
            raise Fail(
                "after .train() Dropout must drop elements again:\n"
                f"{snippet}drop(x)\ndrop.eval(); drop(x)\ndrop.train()\ny = drop(x)\n"
                f"# y equals x; with p={p} about {p:.0%} of its elements should be 0"
            )


# --- convergence: a small MLP with the student's Dropout --------------------------------------------

CONV_DROP = {
    "n": 256,
    "n_val": 512,
    "d": 8,
    "hidden": 64,
    "p": 0.5,
    "steps": 250,
    "lr": 0.05,
    "momentum": 0.9,
    "seed": 5,
    "factor": 1.5,
    "slack": 0.01,
}


def _teacher_data(
    seed: int, n: int, n_val: int, d: int, offset: float, noise: float, shrink: float
) -> dict[str, torch.Tensor]:
    """A regression problem y = tanh(X W) v + noise from a random teacher network (float32)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, 16, generator=g) * shrink
    v = torch.randn(16, 1, generator=g) / 4

    def sample(m):
        X = torch.randn(m, d, generator=g) * (2.0 if offset else 1.0) + offset
        return X, torch.tanh(X @ W) @ v + noise * torch.randn(m, 1, generator=g)

    X, y = sample(n)
    Xv, yv = sample(n_val)
    return {"X": X, "y": y, "Xv": Xv, "yv": yv}


def _linear_init(g: torch.Generator, fan_out: int, fan_in: int) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1 / math.sqrt(fan_in)
    return (
        (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound,
        (torch.rand(fan_out, generator=g) * 2 - 1) * bound,
    )


def _init_weights(seed: int, d: int, hidden: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    W1, b1 = _linear_init(g, hidden, d)
    W2, b2 = _linear_init(g, 1, hidden)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny networks train fastest on one thread (and don't fight the workers for the cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_reference(
    middle: nn.Module,
    batchnorm: bool,
    data: dict,
    init: dict,
    steps: int,
    lr: float,
    momentum: float,
    seed: int,
    order: torch.Tensor | None,
) -> nn.Sequential:
    """The grader's own run, mirroring the worker's ``mlp_train``."""
    hidden, d = init["W1"].shape
    first, last = nn.Linear(d, hidden), nn.Linear(hidden, 1)
    with torch.no_grad():
        first.weight.copy_(init["W1"]), first.bias.copy_(init["b1"])
        last.weight.copy_(init["W2"]), last.bias.copy_(init["b2"])
    model = (
        nn.Sequential(first, middle, nn.ReLU(), last)
        if batchnorm
        else nn.Sequential(first, nn.ReLU(), middle, last)
    )
    params = list(model.parameters())
    buffers: list = [None] * len(params)
    with torch.random.fork_rng(), _one_thread():
        torch.manual_seed(seed)
        model.train()
        for t in range(steps):
            idx = slice(None) if order is None else order[t]
            for p in params:
                p.grad = None
            nn.functional.mse_loss(model(data["X"][idx]), data["y"][idx]).backward()
            problems.sgd_step(params, buffers, lr, momentum)  # the worker's own update
    return model.eval()


def _val_loss(model: nn.Module, data: dict) -> float:
    with torch.no_grad(), _one_thread():
        return float(nn.functional.mse_loss(model(data["Xv"]), data["yv"]))


def _returned(resp, key: str, like: torch.Tensor) -> torch.Tensor:
    t = resp.tensors.get(key)
    if not isinstance(t, torch.Tensor) or t.shape != like.shape:
        raise Fail(
            f"training the network did not give back its weights ({key}): the layer changed them or "
            "replaced them with tensors of another shape"
        )
    return t.to(like.dtype)


@functools.cache
def _dropout_problem() -> tuple[dict, dict, float]:
    """Data, initial weights and the reference's validation loss (computed once per grader process)."""
    c = CONV_DROP
    data = _teacher_data(c["seed"], c["n"], c["n_val"], c["d"], offset=0.0, noise=0.3, shrink=1.0)
    init = _init_weights(c["seed"] + 1, c["d"], c["hidden"])
    ref = _train_reference(
        reference.Dropout(c["p"]), False, data, init, c["steps"], c["lr"], c["momentum"], c["seed"], None
    )
    return data, init, _val_loss(ref, data)


@register("dropout_convergence")
def dropout_convergence(ctx: CheckContext) -> None:
    c = CONV_DROP
    data, init, want = _dropout_problem()
    resp = ctx.call(
        "mlp_train",
        {
            "layer": "dropout",
            "name": ctx.name,
            "kwargs": {"p": c["p"]},
            "steps": c["steps"],
            "lr": c["lr"],
            "momentum": c["momentum"],
            "seed": c["seed"],
        },
        {"X": data["X"], "y": data["y"], **init},
        timeout=max(ctx.call_timeout_s, 20),
    )
    final = {k: _returned(resp, k, v) for k, v in init.items()}
    student = _train_reference(nn.Identity(), False, data, final, 0, 0.0, 0.0, 0, None)  # just loads `final`
    got = _val_loss(student, data)
    if not got <= c["factor"] * want + c["slack"]:
        raise Fail(
            f"a small MLP (Linear -> ReLU -> Dropout(p={c['p']}) -> Linear) trained with SGD and "
            f"your Dropout reaches a validation loss of {got:.4g} (evaluated without dropout); with a "
            f"correct Dropout it reaches {want:.4g}. Check the scaling of the kept values (1 / (1 - p)) "
            "and that gradients flow through the kept elements."
        )


# ============================================================================= BatchNormFunction

HEAD_FUNCTION = "import torch\nfrom regularization import BatchNormFunction"
EPS = (1e-5, 1e-3, 0.1, 1.0)
OFFSETS = (0.0, 2.0, -3.0)
SCALES = (1.0, 0.5, 3.0)
seeds = st.integers(0, 2**16)


def _values_per_channel(shape: tuple) -> int:
    return math.prod(shape) // shape[1]


def _shapes_1d() -> st.SearchStrategy[tuple]:
    two = st.tuples(st.integers(1, 6), st.integers(1, 4))
    three = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4))
    return st.one_of(two, three).filter(lambda s: _values_per_channel(s) >= 2)


def _shapes_2d() -> st.SearchStrategy[tuple]:
    four = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
    return four.filter(lambda s: _values_per_channel(s) >= 2)


def _shapes_any() -> st.SearchStrategy[tuple]:
    return st.one_of(_shapes_1d(), _shapes_2d())


def bn_example(
    shapes: st.SearchStrategy[tuple], dtypes=("float64", "float32"), **extra
) -> st.SearchStrategy[dict]:
    """One BatchNorm example: shape (N, C, ...), affine, eps, dtype, seed and the input's scale/offset."""
    return st.fixed_dictionaries(
        {
            "shape": shapes,
            "affine": st.sampled_from([True, False]),
            "eps": st.sampled_from(EPS),
            "dtype": st.sampled_from(dtypes),
            "seed": seeds,
            "offset": st.sampled_from(OFFSETS),
            "scale": st.sampled_from(SCALES),
            **extra,
        }
    )


def bn_tensors(ex: dict, shape: tuple | None = None, seed_shift: int = 0) -> dict[str, torch.Tensor]:
    """x, grad (same shape), weight and bias (per channel) of an example, in its dtype."""
    shape = tuple(shape or ex["shape"])
    gen = torch.Generator().manual_seed(ex["seed"] + seed_shift)
    dtype = DTYPES[ex["dtype"]]
    c = shape[1]
    x = _grid(gen, shape) * ex.get("scale", 1.0) + ex.get("offset", 0.0)
    weight = 1 + _grid(gen, (c,)) / 2
    bias = _grid(gen, (c,))
    grad = _grid(gen, shape)
    return {"x": x.to(dtype), "weight": weight.to(dtype), "bias": bias.to(dtype), "grad": grad.to(dtype)}


def _reference_function(t: dict, affine: bool, eps: float, backward: bool) -> dict[str, torch.Tensor]:
    x = t["x"].clone().requires_grad_(backward)
    w = t["weight"].clone().requires_grad_(backward) if affine else None
    b = t["bias"].clone().requires_grad_(backward) if affine else None
    y = reference.BatchNormFunction.apply(x, w, b, eps)
    out = {"y": y.detach()}
    if backward:
        y.backward(t["grad"])
        out["gx"] = x.grad
        if affine:
            out["gw"], out["gb"] = w.grad, b.grad
    return out


def _function_snippet(ex: dict, backward: bool) -> str:
    t = bn_tensors(ex)
    lines = [HEAD_FUNCTION, f"x = {tensor_literal(t['x'], requires_grad=backward, max_elements=LITERAL_MAX)}"]
    if ex["affine"]:
        lines += [
            f"weight = {tensor_literal(t['weight'], requires_grad=backward)}",
            f"bias = {tensor_literal(t['bias'], requires_grad=backward)}",
        ]
    else:
        lines += ["weight = bias = None"]
    lines.append(f"y = BatchNormFunction.apply(x, weight, bias, {ex['eps']!r})")
    if backward:
        lines.append(f"y.backward({tensor_literal(t['grad'], max_elements=LITERAL_MAX)})")
    return "\n".join(lines)


def _function_call(ctx: CheckContext, ex: dict, backward: bool) -> dict[str, torch.Tensor]:
    t = bn_tensors(ex)
    sent = {"x": t["x"]}
    if ex["affine"]:
        sent.update(weight=t["weight"], bias=t["bias"])
    if backward:
        sent["grad"] = t["grad"]
    resp = ctx.call("bn_function_run", {"name": ctx.name, "eps": ex["eps"], "backward": backward}, sent)
    if resp.value.get("type") != "Tensor" or "y" not in resp.tensors:
        raise Mismatch(
            f"BatchNormFunction.apply must return the output tensor y only; it returned a "
            f"{resp.value.get('type')}"
        )
    return resp.tensors


FN_EXPLICIT = (
    {
        "shape": (4, 3),
        "affine": True,
        "eps": 1e-5,
        "dtype": "float64",
        "seed": 1,
        "offset": 2.0,
        "scale": 1.0,
    },
    {"shape": (2, 2), "affine": True, "eps": 1.0, "dtype": "float64", "seed": 2, "offset": 0.0, "scale": 0.5},
    {
        "shape": (1, 2, 3),
        "affine": True,
        "eps": 1e-3,
        "dtype": "float32",
        "seed": 3,
        "offset": -3.0,
        "scale": 1.0,
    },
    {
        "shape": (2, 3, 2, 2),
        "affine": False,
        "eps": 0.1,
        "dtype": "float64",
        "seed": 4,
        "offset": 0.0,
        "scale": 3.0,
    },
    {
        "shape": (3, 2, 2, 1),
        "affine": True,
        "eps": 1e-5,
        "dtype": "float32",
        "seed": 5,
        "offset": 2.0,
        "scale": 0.5,
    },
)


@register("bn_function_interface")
def bn_function_interface(ctx: CheckContext) -> None:
    info = ctx.describe(ctx.name, ("forward", "backward"))
    problems = []
    if not info.get("is_class") or FUNCTION_MRO not in info.get("mro", []):
        problems.append(f"`{ctx.name}` must be a class that subclasses torch.autograd.Function")
    own, static = set(info.get("own") or []), set(info.get("staticmethods") or [])
    for meth in ("forward", "backward"):
        if meth not in own:
            problems.append(f"define `{meth}` in the class itself (a @staticmethod)")
        elif meth not in static:
            problems.append(
                f"`{meth}` must be a @staticmethod (autograd calls it on the class, with ctx first)"
            )
    fwd = (info.get("methods") or {}).get("forward")
    if "forward" in own and fwd is not None:
        positional = [p for p in fwd if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
        if len(positional) != 5 and not any(p["kind"] == "VAR_POSITIONAL" for p in fwd):
            got = ", ".join(p["name"] for p in fwd)
            problems.append(f"forward should take (ctx, x, weight, bias, eps), not ({got})")
    if problems:
        raise Fail(
            "expected `class BatchNormFunction(torch.autograd.Function)` with its own\n"
            "`forward(ctx, x, weight, bias, eps)` and `backward(ctx, grad_output)`:\n- "
            + "\n- ".join(problems)
        )
    # Implemented at all? (What forward and backward compute is graded by the other lines.)
    ex = FN_EXPLICIT[0]
    try:
        _function_call(ctx, ex, backward=True)
    except StudentError as exc:
        if exc.info.get("type") == "NotImplementedError":
            raise Fail(
                f"forward and backward are not implemented yet:\n{_function_snippet(ex, True)}\n"
                f"# raised NotImplementedError"
            ) from None
    except Mismatch:
        pass


def _describe_function(what: str, backward: bool):
    def describe(ex: dict, detail: str) -> str:
        return f"{what} ({ex['dtype']}):\n{_function_snippet(ex, backward)}\n# {detail}"

    return describe


@register("bn_function_forward")
def bn_function_forward(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        got = _function_call(ctx, ex, backward=False)
        want = _reference_function(bn_tensors(ex), ex["affine"], ex["eps"], backward=False)
        why = _bn_diff(want["y"], got.get("y"), "y")
        if why:
            raise Mismatch(why)

    search(
        ctx,
        bn_example(_shapes_any()),
        body,
        max_examples=MAX_EXAMPLES["bn_function_forward"],
        describe=_describe_function(
            "BatchNormFunction.apply differs from batch normalization with batch "
            "statistics over every dim but 1 (biased variance)",
            False,
        ),
        explicit=FN_EXPLICIT,
    )


@register("bn_function_backward")
def bn_function_backward(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        got = _function_call(ctx, ex, backward=True)
        want = _reference_function(bn_tensors(ex), ex["affine"], ex["eps"], backward=True)
        labels = (
            (("gx", "x.grad"), ("gw", "weight.grad"), ("gb", "bias.grad"))
            if ex["affine"]
            else (("gx", "x.grad"),)
        )
        for key, label in labels:
            why = _bn_diff(want[key], got.get(key), label)
            if why:
                if _bn_diff(want["y"], got["y"], "y"):
                    why += " (your forward output y is wrong here too: fix the forward first)"
                raise Mismatch(why)

    explicit = tuple(dict(ex, dtype="float64") for ex in FN_EXPLICIT)
    search(
        ctx,
        bn_example(_shapes_any(), dtypes=("float64",)),
        body,
        max_examples=MAX_EXAMPLES["bn_function_backward"],
        describe=_describe_function(
            "the gradients of your backward differ from the exact derivative of batch "
            "normalization, as torch.autograd.gradcheck would find",
            True,
        ),
        explicit=explicit,
    )


# ================================================================================ BatchNorm modules


@dataclass(frozen=True)
class BatchNormSpec:
    name: str
    reference: type
    torch_module: type
    shapes: Callable[[], st.SearchStrategy[tuple]]  # training inputs (at least 2 values per channel)
    ranks: str  # what torch accepts, for feedback
    wrong_ranks: tuple[tuple[int, ...], ...]  # inputs (C = 3) of a rank torch refuses
    single: tuple[tuple[int, ...], ...]  # inputs (C = 3) with one value per channel
    explicit_shapes: tuple[tuple[int, ...], ...]


MODULES: dict[str, BatchNormSpec] = {
    s.name: s
    for s in (
        BatchNormSpec(
            "BatchNorm1d",
            reference.BatchNorm1d,
            nn.BatchNorm1d,
            _shapes_1d,
            "2-D (N, C) or 3-D (N, C, L)",
            wrong_ranks=((2, 3, 1, 2), (3,)),
            single=((1, 3), (1, 3, 1)),
            explicit_shapes=((4, 3), (2, 2, 3)),
        ),
        BatchNormSpec(
            "BatchNorm2d",
            reference.BatchNorm2d,
            nn.BatchNorm2d,
            _shapes_2d,
            "4-D (N, C, H, W)",
            wrong_ranks=((2, 3, 2), (2, 3, 1, 1, 2)),
            single=((1, 3, 1, 1),),
            explicit_shapes=((2, 3, 2, 2),),
        ),
    )
}

MODULE_SIG = (
    ("num_features", _REQUIRED),
    ("eps", 1e-5),
    ("momentum", 0.1),
    ("affine", True),
    ("track_running_stats", True),
)
STANDIN_NOTE = (
    "(in this check your module runs with a correct BatchNormFunction in place of yours, so the "
    "difference comes from the module itself)"
)


def _module_kwargs(ex: dict) -> dict:
    kw = {}
    if ex.get("eps", 1e-5) != 1e-5:
        kw["eps"] = ex["eps"]
    if ex.get("momentum", 0.1) != 0.1:
        kw["momentum"] = ex["momentum"]
    if not ex.get("affine", True):
        kw["affine"] = False
    if not ex.get("track", True):
        kw["track_running_stats"] = False
    return kw


@dataclass
class ModuleRun:
    """A scripted run of a BatchNorm module: constructor arguments, values set, and steps."""

    spec: BatchNormSpec
    num_features: int
    kwargs: dict
    dtype: str
    set_values: dict[str, torch.Tensor]
    steps: list[dict]  # {"train": bool, "x": tensor, "g": tensor | None}

    def request(self, catch: bool = False) -> tuple[dict, dict]:
        tensors, steps = {}, []
        for i, s in enumerate(self.steps):
            tensors[f"x{i}"] = s["x"]
            step = {"train": s["train"], "x": f"x{i}"}
            if s.get("g") is not None:
                tensors[f"g{i}"] = s["g"]
                step["g"] = f"g{i}"
            steps.append(step)
        for k, v in self.set_values.items():
            tensors[f"set.{k}"] = v
        args = {
            "name": self.spec.name,
            "num_features": self.num_features,
            "kwargs": self.kwargs,
            "dtype": self.dtype,
            "set": {k: f"set.{k}" for k in self.set_values},
            "steps": steps,
            "catch": catch,
        }
        return args, tensors

    def reference(self, catch: bool = False) -> list[dict]:
        """What the reference module does on the same script (same record layout as the worker's)."""
        m = self.spec.reference(self.num_features, **self.kwargs).to(DTYPES[self.dtype])
        with torch.no_grad():
            for k, v in self.set_values.items():
                getattr(m, k).copy_(v)
        out = []
        for s in self.steps:
            rec: dict = {"raised": None}
            out.append(rec)
            m.train(s["train"])
            m.zero_grad(set_to_none=True)
            x = s["x"].clone().requires_grad_(s.get("g") is not None)
            try:
                y = m(x)
            except Exception as exc:
                if not catch:
                    raise
                rec["raised"] = type(exc).__name__
                continue
            rec["y"] = y.detach()
            if s.get("g") is not None:
                y.backward(s["g"])
                rec["gx"] = x.grad
                if m.weight is not None:
                    rec["gw"], rec["gb"] = m.weight.grad, m.bias.grad
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                value = getattr(m, name)
                if value is not None:
                    rec[name] = value.detach().clone()
        return out

    def snippet(self, upto: int | None = None, final: str = "") -> str:
        steps = self.steps if upto is None else self.steps[: upto + 1]
        conv = ".double()" if self.dtype == "float64" else ""
        args = ", ".join([str(self.num_features)] + ([kwargs_literal(self.kwargs)] if self.kwargs else []))
        lines = [
            "import torch",
            f"from regularization import {self.spec.name}",
            f"bn = {self.spec.name}({args}){conv}",
        ]
        if self.set_values:
            lines.append("with torch.no_grad():")
            lines += [f"    bn.{k}.copy_({tensor_literal(v)})" for k, v in self.set_values.items()]
        single = len(steps) == 1
        for s in steps:
            mode = "bn.train()" if s["train"] else "bn.eval()"
            grad = s.get("g") is not None
            x = tensor_literal(s["x"], requires_grad=grad, max_elements=LITERAL_MAX)
            if single:
                lines += [mode, f"x = {x}", "y = bn(x)"]
                if grad:
                    lines.append(f"y.backward({tensor_literal(s['g'], max_elements=LITERAL_MAX)})")
            else:
                lines.append(f"{mode}; y = bn({x})")
        if final:
            lines.append(final)
        return "\n".join(lines)


def _run_module(ctx: CheckContext, run: ModuleRun, catch: bool = False):
    args, tensors = run.request(catch)
    resp = ctx.call("bn_module_run", args, tensors)
    return resp.value["steps"], resp.tensors


@register("bn_module_interface")
def bn_module_interface(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    info = ctx.describe(spec.name)
    problems = _interface_problems(info, spec.name, MODULE_MRO, "torch.nn.Module", MODULE_SIG)
    if problems:
        sig = "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True"
        raise Fail(
            f"expected `class {spec.name}(torch.nn.Module)` with `__init__(self, {sig})`:\n- "
            + "\n- ".join(problems)
        )
    configs = [
        {},
        {"affine": False},
        {"track_running_stats": False},
        {"affine": False, "track_running_stats": False},
    ]
    resp = ctx.call("bn_module_state", {"name": spec.name, "configs": configs, "num_features": 3})
    for i, kwargs in enumerate(configs):
        call = f"{spec.name}(3{', ' if kwargs else ''}{kwargs_literal(kwargs)})"
        got = resp.value["configs"][i]
        if not got["is_module"]:
            raise Fail(f"{call} is not a torch.nn.Module")
        torch_m = spec.torch_module(3, **kwargs)
        want_state = torch_m.state_dict()
        want_keys, got_keys = sorted(want_state), sorted(got["keys"])
        if want_keys != got_keys:
            raise Fail(
                f"bn = {call}\nprint(sorted(bn.state_dict()))\n# {got_keys}; expected {want_keys} as "
                f"torch.nn.{spec.name} (parameters weight/bias only with affine, buffers running_mean/"
                "running_var/num_batches_tracked only with track_running_stats; register_buffer / "
                "register_parameter with None otherwise)"
            )
        want_params = sorted(n for n, _ in torch_m.named_parameters())
        if sorted(got["params"]) != want_params:
            raise Fail(
                f"bn = {call}\nprint(sorted(name for name, _ in bn.named_parameters()))\n"
                f"# {sorted(got['params'])}; expected {want_params} (weight and bias are nn.Parameters, the "
                "running statistics are buffers)"
            )
        for key, value in want_state.items():
            why = explain_difference(value, resp.tensors.get(f"{i}/{key}"), 0.0, 0.0, f"bn.{key}")
            if why:
                raise Fail(
                    f"bn = {call}\nprint(bn.{key})\n# {why} (expected as torch.nn.{spec.name}: weight ones, "
                    "bias zeros, running_mean zeros, running_var ones, num_batches_tracked "
                    "torch.tensor(0) of dtype torch.long)"
                )
        for attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            seen = got["attrs"][attr]
            if getattr(torch_m, attr) is None and seen != "none":
                raise Fail(
                    f"bn = {call}\nprint(bn.{attr})\n# expected None (as torch.nn.{spec.name}), "
                    f"got {'no such attribute' if seen == 'absent' else 'a ' + seen}"
                )


def _train_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    t = bn_tensors(ex)
    c = ex["shape"][1]
    set_values = {"weight": t["weight"], "bias": t["bias"]} if ex["affine"] else {}
    return ModuleRun(
        spec, c, _module_kwargs(ex), ex["dtype"], set_values, [{"train": True, "x": t["x"], "g": t["grad"]}]
    )


def _compare_steps(run: ModuleRun, got: dict, keys: tuple[str, ...]) -> str | None:
    """First difference between the student's tensors and the reference's ('after forward i: ...')."""
    want_steps = run.reference()
    labels = {
        "y": "y",
        "gx": "x.grad",
        "gw": "bn.weight.grad",
        "gb": "bn.bias.grad",
        "running_mean": "bn.running_mean",
        "running_var": "bn.running_var",
        "num_batches_tracked": "bn.num_batches_tracked",
    }
    for i, want in enumerate(want_steps):
        for key in keys:
            if key not in want:
                continue
            tensor_key = f"{key}{i}" if key in ("y", "gx", "gw", "gb") else f"{key}@{i}"
            why = _bn_diff(want[key], got.get(tensor_key), labels[key])
            if why:
                return why if len(want_steps) == 1 else f"after forward {i + 1}: {why}"
    return None


@register("bn_module_train_forward")
def bn_module_train_forward(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _train_run(spec, ex)
        _, got = _run_module(ctx, run)
        why = _compare_steps(run, got, ("y", "gx", "gw", "gb"))
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        return (
            f"in training mode {spec.name} must normalize with the batch statistics (through "
            f"BatchNormFunction) and apply weight and bias ({ex['dtype']}):\n"
            f"{_train_run(spec, ex).snippet()}\n# {detail}\n# {STANDIN_NOTE}"
        )

    strategy = bn_example(spec.shapes(), track=st.sampled_from([True, False]))
    explicit = [
        {"shape": s, "affine": a, "eps": e, "dtype": d, "seed": 7, "offset": 2.0, "scale": 1.0, "track": tr}
        for s in spec.explicit_shapes
        for a, e, d, tr in (
            (True, 1e-5, "float64", True),
            (True, 0.1, "float32", False),
            (False, 1.0, "float64", True),
        )
    ]
    search(
        ctx,
        strategy,
        body,
        max_examples=MAX_EXAMPLES["bn_module_train_forward"],
        describe=describe,
        explicit=explicit,
    )


STATS_PRINT = "print(bn.running_mean, bn.running_var, bn.num_batches_tracked)"


def _stats_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    steps = []
    for k in range(ex["steps"]):
        t = bn_tensors(ex, seed_shift=k)
        # An eval forward in between must leave the statistics alone (without tracking there are none,
        # and what eval mode then computes is the eval line's business).
        steps.append({"train": k != ex.get("eval_at") or not ex.get("track", True), "x": t["x"], "g": None})
    kw = _module_kwargs(ex)
    return ModuleRun(spec, ex["shape"][1], kw, ex["dtype"], {}, steps)


@register("bn_module_running_stats")
def bn_module_running_stats(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _stats_run(spec, ex)
        steps, got = _run_module(ctx, run)
        if not ex.get("track", True):
            for i, rec in enumerate(steps):
                present = [
                    k
                    for k in rec.get("state_keys", [])
                    if k.split(".")[-1] in ("running_mean", "running_var", "num_batches_tracked")
                ]
                not_none = [k for k, v in rec.get("buffers", {}).items() if v not in ("none", "absent")]
                if present or not_none:
                    raise Mismatch(
                        f"after forward {i + 1}: with track_running_stats=False there are no running "
                        f"statistics (torch keeps them None, out of state_dict), but bn has "
                        f"{', '.join(present or not_none)}"
                    )
            return
        why = _compare_steps(run, got, ("running_mean", "running_var", "num_batches_tracked"))
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        run = _stats_run(spec, ex)
        return (
            f"the running statistics differ from torch.nn.{spec.name}'s (running = (1 - momentum) * running "
            "+ momentum * batch statistic, with the unbiased variance; momentum=None: cumulative average; "
            f"updated in training mode only) ({ex['dtype']}):\n"
            f"{run.snippet(final=STATS_PRINT)}\n# {detail}"
        )

    strategy = bn_example(
        spec.shapes(),
        momentum=st.sampled_from([0.1, 0.5, None, 0.9]),
        steps=st.integers(1, 4),
        eval_at=st.sampled_from([None, 1]),
        track=st.sampled_from([True, True, False]),
    )
    base = {
        "affine": True,
        "eps": 1e-5,
        "seed": 11,
        "offset": 2.0,
        "scale": 1.0,
        "steps": 3,
        "eval_at": None,
        "track": True,
    }
    shape = spec.explicit_shapes[-1]
    explicit = [
        dict(base, shape=shape, momentum=0.1, dtype="float64"),
        dict(base, shape=shape, momentum=None, dtype="float64"),
        dict(base, shape=shape, momentum=0.5, dtype="float32", steps=4, eval_at=1),
        dict(base, shape=spec.explicit_shapes[0], momentum=0.1, dtype="float32"),
        dict(base, shape=shape, momentum=0.1, dtype="float64", track=False),
    ]
    search(
        ctx,
        strategy,
        body,
        max_examples=MAX_EXAMPLES["bn_module_running_stats"],
        describe=describe,
        explicit=explicit,
    )


def _eval_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    t = bn_tensors(ex)
    c = ex["shape"][1]
    dtype = DTYPES[ex["dtype"]]
    gen = torch.Generator().manual_seed(ex["seed"] + 1000)
    set_values = {"weight": t["weight"], "bias": t["bias"]} if ex["affine"] else {}
    if ex.get("track", True):
        set_values["running_mean"] = (_grid(gen, (c,)) + ex.get("offset", 0.0)).to(dtype)
        set_values["running_var"] = (
            torch.round(torch.rand(c, generator=gen, dtype=torch.float64) * 16) / 8 + 0.25
        ).to(dtype)
    return ModuleRun(
        spec, c, _module_kwargs(ex), ex["dtype"], set_values, [{"train": False, "x": t["x"], "g": None}]
    )


@register("bn_module_eval")
def bn_module_eval(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _eval_run(spec, ex)
        _, got = _run_module(ctx, run)
        why = _compare_steps(run, got, ("y", "running_mean", "running_var", "num_batches_tracked"))
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        what = (
            f"in eval mode {spec.name} must use the running statistics, y = (x - running_mean) / "
            "sqrt(running_var + eps) * weight + bias, and leave them unchanged"
            if ex.get("track", True)
            else f"in eval mode with track_running_stats=False, {spec.name} must use the batch statistics"
        )
        return f"{what} ({ex['dtype']}):\n{_eval_run(spec, ex).snippet()}\n# {detail}"

    strategy = bn_example(spec.shapes(), track=st.sampled_from([True, True, False]))
    explicit = [
        {
            "shape": spec.explicit_shapes[0],
            "affine": a,
            "eps": e,
            "dtype": d,
            "seed": 13,
            "offset": 2.0,
            "scale": 1.0,
            "track": tr,
        }
        for a, e, d, tr in (
            (True, 1e-5, "float64", True),
            (False, 0.1, "float32", True),
            (True, 1e-3, "float64", False),
        )
    ]
    search(
        ctx, strategy, body, max_examples=MAX_EXAMPLES["bn_module_eval"], describe=describe, explicit=explicit
    )


@register("bn_module_errors")
def bn_module_errors(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    gen = torch.Generator().manual_seed(17)
    # (training mode?, input shape, what is wrong with it: "rank", "single" or None = fine)
    cases = [(True, shape, "rank") for shape in spec.wrong_ranks] + [(False, spec.wrong_ranks[0], "rank")]
    cases += [(True, shape, "single") for shape in spec.single] + [
        (False, shape, None) for shape in spec.single
    ]
    for train, shape, wrong in cases:
        x = _grid(gen, shape).float()
        run = ModuleRun(spec, 3, {}, "float32", {}, [{"train": train, "x": x, "g": None}])
        steps, got = _run_module(ctx, run, catch=True)
        rec = steps[0]
        mode = "training" if train else "eval"
        if wrong:
            if "ValueError" not in (rec.get("mro") or []):
                what = (
                    f"raised {rec['raised']}: {rec.get('message', '')}" if rec["raised"] else "raised nothing"
                )
                reason = (
                    f"for a {len(shape)}-D input ({spec.name} accepts {spec.ranks} inputs)"
                    if wrong == "rank"
                    else "when there is only one value per channel (no batch statistics)"
                )
                raise Fail(
                    f"like torch.nn.{spec.name}, raise ValueError in {mode} mode {reason}:\n"
                    f"{run.snippet()}\n# {what}"
                )
            continue
        y = got.get("y0")
        if rec["raised"] or not isinstance(y, torch.Tensor) or tuple(y.shape) != shape:
            what = (
                f"raised {rec['raised']}: {rec.get('message', '')}"
                if rec["raised"]
                else (f"y should have the input's shape {shape}")
            )
            raise Fail(
                "in eval mode a batch of one sample is fine (the running statistics are used):\n"
                f"{run.snippet()}\n# {what}"
            )


# --- convergence: a small MLP with the student's BatchNorm1d --------------------------------------

CONV_BN = {
    "n": 512,
    "n_val": 512,
    "d": 8,
    "hidden": 32,
    "batch": 32,
    "steps": 150,
    "lr": 0.1,
    "momentum": 0.9,
    "seed": 9,
    "factor": 1.5,
    "slack": 0.01,
}


@functools.cache
def _bn_problem(name: str) -> tuple[dict, dict, torch.Tensor, float]:
    """Data, initial weights, mini-batch order and the reference's validation loss (once per process)."""
    c = CONV_BN
    data = _teacher_data(c["seed"], c["n"], c["n_val"], c["d"], offset=1.0, noise=0.1, shrink=0.5)
    init = _init_weights(c["seed"] + 1, c["d"], c["hidden"])
    order = torch.randint(
        0, c["n"], (c["steps"], c["batch"]), generator=torch.Generator().manual_seed(c["seed"] + 2)
    )
    ref = _train_reference(
        MODULES[name].reference(c["hidden"]),
        True,
        data,
        init,
        c["steps"],
        c["lr"],
        c["momentum"],
        c["seed"],
        order,
    )
    return data, init, order, _val_loss(ref, data)


@register("bn_module_convergence")
def bn_module_convergence(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    c = CONV_BN
    data, init, order, want = _bn_problem(spec.name)
    resp = ctx.call(
        "mlp_train",
        {
            "layer": "batchnorm",
            "name": spec.name,
            "kwargs": {},
            "steps": c["steps"],
            "lr": c["lr"],
            "momentum": c["momentum"],
            "seed": c["seed"],
        },
        {"X": data["X"], "y": data["y"], "order": order, **init},
        timeout=max(ctx.call_timeout_s, 20),
    )
    final = {k: _returned(resp, k, v) for k, v in init.items()}
    bn = spec.reference(c["hidden"])
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = resp.tensors.get(f"bn.{name}")
            if value is None or value.shape != (c["hidden"],):
                raise Fail(
                    f"after training, bn.{name} of your {spec.name}({c['hidden']}) is missing or not of "
                    f"shape ({c['hidden']},)"
                )
            getattr(bn, name).copy_(value)
    student = _train_reference(bn, True, data, final, 0, 0.0, 0.0, 0, None)
    got = _val_loss(student, data)
    if not got <= c["factor"] * want + c["slack"]:
        raise Fail(
            f"a small MLP (Linear -> {spec.name} -> ReLU -> Linear) trained with SGD on "
            f"mini-batches of {c['batch']} with your {spec.name} reaches a validation loss of {got:.4g} in "
            f"eval mode (with its running statistics); with a correct {spec.name} it reaches {want:.4g}."
        )
