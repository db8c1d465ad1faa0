"""Device portability (02 and 03): run the student's optimizer or layer on torch's ``meta`` device (no
data, no kernels) and on ``cuda`` when the worker has a GPU, and report what raised and which state or
buffer tensors ended up on another device than the parameters.

On ``meta`` a host sync raises (``.item()``, ``float(t)``, ``if t > 0``: there is no value to read), and
so does an out-of-place op mixing a CPU tensor (not a 0-dim scalar) with a meta one. An in-place op on a
CPU tensor with a meta argument passes silently, hence the placement report: every state / buffer
tensor that is not a 0-dim scalar must sit on the parameters' device (torch keeps ``step`` as a 0-dim
CPU tensor).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import operations as ops
from ..registry import Context, describe_exception, raised
from .common import graded_op, tupled
from .standins import substituted

SHAPES = {"bn_module:BatchNorm2d": (4, 3, 2, 2), "bn_module": (4, 3), "bn_function": (4, 3, 2),
          "dropout": (4, 5)}


def devices() -> list[str]:
    return ["meta", *(["cuda"] if torch.cuda.is_available() else [])]


def _misplaced(named: list[tuple[str, object]], device: torch.device) -> list[str]:
    """Names of tensors (not 0-dim scalars) that are not on ``device``."""
    return [f"{name} on {value.device}" for name, value in named
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.device.type != device.type]


def _optimizer(cls, kwargs: dict, device: str) -> list[str]:
    params = [torch.zeros(3, device=device, requires_grad=True),
              torch.zeros(2, 2, device=device, requires_grad=True)]
    opt = cls(params, **tupled(kwargs))
    for _ in range(2):
        for p in params:
            p.grad = torch.ones_like(p)
        opt.step()
    state = opt.state
    return _misplaced([(f"state[params[{i}]]['{k}']", v) for i, p in enumerate(params)
                       for k, v in (state[p].items() if p in state else [])], params[0].device)


def _forward_backward(layer, x: torch.Tensor) -> list[str]:
    """One forward and (when the output is part of an autograd graph: a detached output is the other
    lines' business) one backward; the output's placement."""
    y = layer(x.detach().clone().requires_grad_(True))
    if not isinstance(y, torch.Tensor) or y.requires_grad:  # not a tensor: raises as the reproducer does
        y.backward(torch.ones_like(y))
    return _misplaced([("the output", y)], x.device)


def _layer(ctx: Context, cls, name: str, kind: str, kwargs: dict, device: str) -> list[str]:
    kwargs = dict(kwargs)
    shape = tuple(kwargs.pop("shape", None) or SHAPES.get(f"{kind}:{name}", SHAPES[kind]))
    x = torch.ones(shape, device=device)
    if kind == "bn_function":
        # kwargs["parts"]: which of weight and bias are given (the others are None)
        c, parts = shape[1], kwargs.get("parts", "wb")
        w, b = (torch.ones(c, device=device, requires_grad=True) if part in parts else None for part in "wb")
        return _forward_backward(lambda t: cls.apply(t, w, b, 1e-5), x)
    standin = ctx.standin("BatchNormFunction", "BatchNormFunction") if kind == "bn_module" else None
    misplaced: list[str] = []
    with substituted(ctx.module.__dict__ if standin else None, "BatchNormFunction", standin):
        m = cls(shape[1], **tupled(kwargs)) if kind == "bn_module" else cls(**tupled(kwargs))
        m = m.to(device)
        for training in (True, False):
            m.train(training)
            misplaced += [f"{what} in {'training' if training else 'eval'} mode"
                          for what in _forward_backward(m, x)]
    named = list(m.named_buffers()) + list(m.named_parameters()) if isinstance(m, nn.Module) else []
    return misplaced + _misplaced([(f"bn.{k}" if kind == "bn_module" else k, v) for k, v in named],
                                  torch.device(device))


@graded_op(ops.DeviceRun)
def device_run(ctx: Context, req: ops.DeviceRun) -> ops.DeviceReport:
    """Per device (the CPU, then meta and cuda) and config: ``{"device", "config", "raised", "message",
    "misplaced"}``."""
    cls = ctx.graded(req.name)  # outside the try: a missing name is reported as missing
    runs = []
    # The CPU first: a configuration that raises there too is the other lines' business, not a device one.
    for device in ["cpu", *devices()]:
        for i, kwargs in enumerate(req.configs):
            run = {"device": device, "config": i, "raised": None, "message": "", "misplaced": []}
            try:
                if req.kind == "optimizer":
                    run["misplaced"] = _optimizer(cls, kwargs, device)
                else:
                    run["misplaced"] = _layer(ctx, cls, req.name, req.kind, kwargs, device)
            except Exception as exc:  # noqa: BLE001 - what raised is the finding
                info = raised(exc)
                run.update(raised=info["raised"], message=info["message"],
                           frames=describe_exception(exc, ctx.filename)["frames"])
            runs.append(run)
    return ops.DeviceReport(runs)
