"""``BatchNormFunction`` and the BatchNorm modules (03_regularization): run the student's code on inputs
the grader sent and return raw tensors; the grader compares them with its reference.

Tensor names. Requests: inputs by the keys the grader chose (``x0``, ``g0``, ``weight``...). Replies:
``y{i}`` the output of step i, ``gx{i}``/``gw{i}``/``gb{i}`` the gradients of the input, weight and
bias after ``y.backward(grad)`` (absent when there is none), ``{buffer}@{i}`` a module buffer after
step i. While a BatchNorm module runs, its module-level ``BatchNormFunction`` is a trusted stand-in
(``Context.standin``), so only the module's own code is graded there.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .. import operations as ops
from ..registry import Context, raised
from .common import DTYPES, graded_op, plain, tupled
from .standins import substituted

BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _standin(ctx: Context):
    """The trusted ``BatchNormFunction`` this worker was given (``Context.standin``)."""
    return ctx.standin("BatchNormFunction", "BatchNormFunction")


def _attr_state(obj, name: str) -> str:
    """How ``obj.<name>`` looks: 'tensor', 'none', 'absent' or the type name."""
    missing = object()
    value = getattr(obj, name, missing)
    if value is missing:
        return "absent"
    if value is None:
        return "none"
    return "tensor" if isinstance(value, torch.Tensor) else type(value).__name__


@graded_op(ops.BnFunctionRun)
def bn_function_run(ctx: Context, req: ops.BnFunctionRun) -> ops.FunctionOutput:
    """``y = BatchNormFunction.apply(x, weight, bias, eps)`` (weight/bias None when not sent); with
    ``backward``: those of x, weight and bias named in ``needs`` require grad, ``y.backward(grad)`` runs."""
    fn = ctx.graded(req.name)
    tensors, backward = req.tensors, bool(req.backward)
    def given(key: str, short: str) -> torch.Tensor | None:
        if key not in tensors:
            return None
        return tensors[key].clone().requires_grad_(backward and short in req.needs)

    x, w, b = given("x", "x"), given("weight", "w"), given("bias", "b")
    y = fn.apply(x, w, b, req.eps)
    intact = all(torch.equal(t.detach(), tensors[key]) for key, t in (("x", x), ("weight", w), ("bias", b))
                 if t is not None)
    if not isinstance(y, torch.Tensor):
        return ops.FunctionOutput(type(y).__name__, intact)
    out, unneeded = {"y": plain(y)}, []
    if backward:
        y.backward(tensors["grad"], retain_graph=True)
        for key, t in (("gx", x), ("gw", w), ("gb", b)):
            if t is not None and t.grad is not None:
                out[key] = plain(t.grad)
        # backward called directly, as autograd does: autograd drops what it returns for an input that
        # needs no gradient, so only this shows whether it honours ctx.needs_input_grad
        try:
            direct = y.grad_fn.apply(tensors["grad"].clone()) if y.grad_fn is not None else None
        except Exception:  # noqa: BLE001 - the call autograd made already passed; this one is evidence only
            direct = None
        if isinstance(direct, tuple):
            unneeded = [name for name, t, g in zip(("x", "weight", "bias"), (x, w, b), direct, strict=False)
                        if t is not None and not t.requires_grad and g is not None]
    return ops.FunctionOutput(type(y).__name__, intact, out, unneeded)


def _state_entry(m, i: int, out: dict[str, torch.Tensor]) -> dict:
    """How module ``m`` (config ``i``) looks: state_dict keys, entries and values, parameters, attributes."""
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
                entry["entries"][key] = {"shape": list(value.shape), "dtype": str(value.dtype),
                                         "device": value.device.type}
                if value.device.type == "cpu":
                    out[f"{i}/{key}"] = plain(value)
    return entry


def _factory(kwargs: dict) -> dict:
    """Constructor keywords from JSON: a ``dtype`` travels as its name (``"float64"``)."""
    kw = tupled(kwargs)
    if isinstance(kw.get("dtype"), str):
        kw["dtype"] = DTYPES[kw["dtype"]]
    return kw


@graded_op(ops.BnModuleState)
def bn_module_state(ctx: Context, req: ops.BnModuleState) -> ops.ModuleStates:
    """Construct the module once per kwargs in ``configs``; report its state_dict (keys, shapes, dtypes,
    values as ``{i}/{key}``), its parameter names and how its buffer attributes look."""
    cls = ctx.graded(req.name)
    out: dict[str, torch.Tensor] = {}
    with substituted(ctx.module.__dict__, "BatchNormFunction", _standin(ctx)):
        configs = [_state_entry(cls(req.num_features, **_factory(kwargs)), i, out)
                   for i, kwargs in enumerate(req.configs)]
    return ops.ModuleStates(configs, out)


def _module(cls, req: ops.BnModuleRun):
    m = cls(req.num_features, **tupled(req.kwargs))
    m = m.to(DTYPES[req.dtype])
    with torch.no_grad():
        for attr, key in req.set.items():
            target = getattr(m, attr)
            if target is None:
                raise AttributeError(f"`{attr}` is None, but this check sets it")
            target.copy_(req.tensors[key])
    return m


def _step(m, i: int, step: dict, req: ops.BnModuleRun, out: dict[str, torch.Tensor]) -> dict:
    """One scripted step of ``bn_module_run``: its record (outputs, gradients, buffers go to ``out``)."""
    record: dict = {"raised": None}
    m.train(bool(step.get("train", True)))
    grad = req.tensors.get(step["g"]) if step.get("g") else None
    x = req.tensors[step["x"]].clone().requires_grad_(grad is not None or bool(step.get("rg")))
    for p in m.parameters():
        p.grad = None
    try:
        y = m(x)
        out[f"y{i}"] = plain(y)
        if grad is not None and y.requires_grad:  # a detached output: no gradients (the checks say so)
            y.backward(grad)
    except Exception as exc:
        if not req.catch:
            raise
        record.update(raised(exc))
        return record
    if grad is not None:
        for key, t in (("gx", x), ("gw", getattr(m, "weight", None)), ("gb", getattr(m, "bias", None))):
            if isinstance(t, torch.Tensor) and t.grad is not None:
                out[f"{key}{i}"] = plain(t.grad)
    record["buffers"] = {name: _attr_state(m, name) for name in BUFFERS}
    record["history"] = {}  # buffers that are part of an autograd graph
    for name in BUFFERS:
        if record["buffers"][name] == "tensor":
            value = getattr(m, name)
            out[f"{name}@{i}"] = plain(value)
            record["history"][name] = bool(value.requires_grad or value.grad_fn is not None)
    record["state_keys"] = list(m.state_dict()) if isinstance(m, nn.Module) else []
    return record


@graded_op(ops.BnModuleRun)
def bn_module_run(ctx: Context, req: ops.BnModuleRun) -> ops.ModuleSteps:
    """Construct the module (``num_features``, ``kwargs``, converted to ``dtype``, attributes in ``set``
    copied from tensors), then per step: train/eval mode, ``y = m(x)``, optionally ``y.backward(g)``.
    Records outputs, gradients and the buffers after every step. With ``catch``, an exception of a step
    is recorded in its record's ``raised`` instead of ending the request."""
    cls = ctx.graded(req.name)
    out: dict[str, torch.Tensor] = {}
    steps: list[dict] = []
    with substituted(ctx.module.__dict__, "BatchNormFunction", _standin(ctx)):
        m = _module(cls, req)
        for i, step in enumerate(req.steps):
            steps.append(_step(m, i, step, req, out))
        if req.probe and steps:
            steps[-1]["probe"] = _probe(m, req.tensors[req.steps[-1]["x"]])
    return ops.ModuleSteps(steps, out)


def _probe(m, x: torch.Tensor) -> dict:
    """What a training script does next with a trained layer: copy it (checkpoints, EMA of weights) and
    backpropagate through its eval-mode output. Each entry: None, or what it raised."""
    probe: dict = {}
    try:
        copy.deepcopy(m)
        probe["deepcopy"] = None
    except Exception as exc:
        probe["deepcopy"] = raised(exc)
    probe["eval_backward"] = None
    try:  # an eval forward that raises, or is detached, is the eval line's business
        m.eval()
        y = m(x.clone().requires_grad_(True))
    except Exception:
        return probe
    if isinstance(y, torch.Tensor) and y.requires_grad:
        try:
            y.sum().backward()
        except Exception as exc:
            probe["eval_backward"] = raised(exc)
    return probe
