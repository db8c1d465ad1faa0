"""Handlers for 03_regularization: run the student's Dropout, BatchNormFunction and BatchNorm modules on
inputs the grader sent and return raw tensors; the grader compares them with its reference.

Tensor names. Requests: inputs by the keys the grader chose (``x0``, ``g0``, ``weight``...). Replies:
``y{i}`` the output of step i, ``gx{i}``/``gw{i}``/``gb{i}`` the gradients of the input, weight and
bias after ``y.backward(grad)`` (absent when there is none), ``{buffer}@{i}`` a module buffer after
step i. While a BatchNorm module runs, its module-level ``BatchNormFunction`` is a trusted stand-in
(``standins_regularization``), so only the module's own code is graded there.
"""

from __future__ import annotations

import torch
from torch import nn

from . import problems, protocol
from .common import graded_op, plain, tupled
from .serve import Context
from .standins_regularization import substituted

DTYPES = {"float32": torch.float32, "float64": torch.float64}
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _raised(exc: BaseException) -> dict:
    return {
        "raised": type(exc).__name__,
        "message": str(exc)[:300],
        "mro": [c.__name__ for c in type(exc).__mro__],
    }


def _attr_state(obj, name: str) -> str:
    """How ``obj.<name>`` looks: 'tensor', 'none', 'absent' or the type name."""
    missing = object()
    value = getattr(obj, name, missing)
    if value is missing:
        return "absent"
    if value is None:
        return "none"
    return "tensor" if isinstance(value, torch.Tensor) else type(value).__name__


# --- Dropout ------------------------------------------------------------------------------------------


@graded_op("dropout_run")
def dropout_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """``torch.manual_seed(seed)``, ``Dropout(p=p)``, then each step: set train/eval mode, call it on
    ``tensors[step['x']]``; with ``grad`` the input requires grad and ``y.backward(ones)`` runs when the
    output depends on it. Returns ``y{i}`` and ``gx{i}``; ``value['requires_grad'][i]`` says whether the
    output was part of an autograd graph."""
    cls = ctx.graded(args.get("name", "Dropout"))
    torch.manual_seed(int(args["seed"]))
    drop = cls(p=args["p"])
    out: dict[str, torch.Tensor] = {}
    requires_grad = []
    for i, step in enumerate(args["steps"]):
        drop.train(bool(step.get("train", True)))
        x = tensors[step["x"]].clone().requires_grad_(bool(step.get("grad")))
        y = drop(x)
        out[f"y{i}"] = plain(y)
        requires_grad.append(bool(isinstance(y, torch.Tensor) and y.requires_grad))
        if step.get("grad") and requires_grad[-1]:
            y.backward(torch.ones_like(y))
            if x.grad is not None:
                out[f"gx{i}"] = plain(x.grad)
    return protocol.Response(ok=True, value={"requires_grad": requires_grad}, tensors=out)


# --- BatchNormFunction --------------------------------------------------------------------------------


@graded_op("bn_function_run")
def bn_function_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """``y = BatchNormFunction.apply(x, weight, bias, eps)`` (weight/bias None when not sent); with
    ``backward``: x, weight and bias require grad and ``y.backward(grad)`` runs."""
    fn = ctx.graded(args.get("name", "BatchNormFunction"))
    backward = bool(args.get("backward"))
    x = tensors["x"].clone().requires_grad_(backward)
    w = tensors["weight"].clone().requires_grad_(backward) if "weight" in tensors else None
    b = tensors["bias"].clone().requires_grad_(backward) if "bias" in tensors else None
    y = fn.apply(x, w, b, args["eps"])
    if not isinstance(y, torch.Tensor):
        return protocol.Response(ok=True, value={"type": type(y).__name__}, tensors={})
    out = {"y": plain(y)}
    if backward:
        y.backward(tensors["grad"])
        for key, t in (("gx", x), ("gw", w), ("gb", b)):
            if t is not None and t.grad is not None:
                out[key] = plain(t.grad)
    return protocol.Response(ok=True, value={"type": type(y).__name__}, tensors=out)


# --- BatchNorm modules --------------------------------------------------------------------------------


@graded_op("bn_module_state")
def bn_module_state(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Construct the module once per kwargs in ``configs``; report its state_dict (keys, shapes, dtypes,
    values as ``{i}/{key}``), its parameter names and how its buffer attributes look."""
    cls = ctx.graded(args["name"])
    configs = []
    out: dict[str, torch.Tensor] = {}
    with substituted(ctx.module):
        for i, kwargs in enumerate(args["configs"]):
            m = cls(args.get("num_features", 3), **tupled(kwargs))
            entry: dict = {
                "is_module": isinstance(m, nn.Module),
                "keys": [],
                "entries": {},
                "params": [],
                "attrs": {name: _attr_state(m, name) for name in ("weight", "bias", *BUFFERS)},
            }
            if isinstance(m, nn.Module):
                state = m.state_dict()
                entry["keys"] = list(state)
                entry["params"] = [name for name, _ in m.named_parameters()]
                for key, value in state.items():
                    if isinstance(value, torch.Tensor):
                        entry["entries"][key] = {"shape": list(value.shape), "dtype": str(value.dtype)}
                        out[f"{i}/{key}"] = plain(value)
            configs.append(entry)
    return protocol.Response(ok=True, value={"configs": configs}, tensors=out)


def _module(cls, args: dict, tensors: dict):
    m = cls(args["num_features"], **tupled(args.get("kwargs", {})))
    if "dtype" in args:
        m = m.to(DTYPES[args["dtype"]])
    with torch.no_grad():
        for attr, key in (args.get("set") or {}).items():
            target = getattr(m, attr)
            if target is None:
                raise AttributeError(f"`{attr}` is None, but this check sets it")
            target.copy_(tensors[key])
    return m


@graded_op("bn_module_run")
def bn_module_run(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Construct the module (``num_features``, ``kwargs``, converted to ``dtype``, attributes in ``set``
    copied from tensors), then per step: train/eval mode, ``y = m(x)``, optionally ``y.backward(g)``.
    Records outputs, gradients and the buffers after every step. With ``catch``, an exception of a step
    is recorded in ``value['steps'][i]['raised']`` instead of ending the request."""
    cls = ctx.graded(args["name"])
    out: dict[str, torch.Tensor] = {}
    steps = []
    with substituted(ctx.module):
        m = _module(cls, args, tensors)
        for i, step in enumerate(args["steps"]):
            record: dict = {"raised": None}
            steps.append(record)
            m.train(bool(step.get("train", True)))
            grad = tensors.get(step["g"]) if step.get("g") else None
            x = tensors[step["x"]].clone().requires_grad_(grad is not None)
            for p in m.parameters():
                p.grad = None
            try:
                y = m(x)
                out[f"y{i}"] = plain(y)
                if grad is not None:
                    y.backward(grad)
            except Exception as exc:
                if not args.get("catch"):
                    raise
                record.update(_raised(exc))
                continue
            if grad is not None:
                for key, t in (
                    ("gx", x),
                    ("gw", getattr(m, "weight", None)),
                    ("gb", getattr(m, "bias", None)),
                ):
                    if isinstance(t, torch.Tensor) and t.grad is not None:
                        out[f"{key}{i}"] = plain(t.grad)
            record["buffers"] = {name: _attr_state(m, name) for name in BUFFERS}
            for name in BUFFERS:
                if record["buffers"][name] == "tensor":
                    out[f"{name}@{i}"] = plain(getattr(m, name))
            record["state_keys"] = list(m.state_dict()) if isinstance(m, nn.Module) else []
    return protocol.Response(ok=True, value={"steps": steps}, tensors=out)


# --- convergence: a small MLP trained with plain SGD (trusted code) -----------------------------------


@graded_op("mlp_train")
def mlp_train(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Train Linear -> [student BatchNorm1d] -> ReLU -> [student Dropout] -> Linear on (X, y) with MSE and
    SGD(lr, momentum), from the initial weights W1, b1, W2, b2 the grader sent. ``order`` (steps x batch)
    holds the sample indices of each step (full batch when absent). Returns the final W1, b1, W2, b2 and,
    with BatchNorm, its ``bn.<attr>`` parameters and running statistics."""
    X, y = tensors["X"], tensors["y"]
    hidden = tensors["W1"].shape[0]
    layer = args["layer"]  # "dropout" or "batchnorm"
    cls = ctx.graded(args["name"])
    with substituted(ctx.module if layer == "batchnorm" else None):
        first, last = nn.Linear(X.shape[1], hidden), nn.Linear(hidden, 1)
        with torch.no_grad():
            for lin, (w, b) in ((first, ("W1", "b1")), (last, ("W2", "b2"))):
                lin.weight.copy_(tensors[w])
                lin.bias.copy_(tensors[b])
        student = (
            cls(hidden, **tupled(args.get("kwargs", {})))
            if layer == "batchnorm"
            else cls(**tupled(args.get("kwargs", {})))
        )
        layers = (
            [first, student, nn.ReLU(), last] if layer == "batchnorm" else [first, nn.ReLU(), student, last]
        )
        model = nn.Sequential(*layers).to(X.dtype)
        params = list(model.parameters())
        buffers: list = [None] * len(params)
        torch.manual_seed(int(args["seed"]))
        model.train()
        order = tensors.get("order")
        for t in range(args["steps"]):
            xb, yb = (X, y) if order is None else (X[order[t]], y[order[t]])
            for p in params:
                p.grad = None
            nn.functional.mse_loss(model(xb), yb).backward()
            problems.sgd_step(params, buffers, args["lr"], args.get("momentum", 0.0))
    out = {
        "W1": plain(first.weight),
        "b1": plain(first.bias),
        "W2": plain(last.weight),
        "b2": plain(last.bias),
    }
    if layer == "batchnorm":
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = getattr(student, name, None)
            if isinstance(value, torch.Tensor):
                out[f"bn.{name}"] = plain(value)
    return protocol.Response(ok=True, value={}, tensors=out)
