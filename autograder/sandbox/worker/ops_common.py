"""Introspection and construction: what a graded name is, its signature, the errors it raises."""

from __future__ import annotations

import torch

from . import protocol
from .common import graded_op, signature_of, tupled
from .serve import Context, handler


@handler("describe")
def describe(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Kind, MRO, own attributes and signatures of a graded name (no student code is called)."""
    obj = ctx.graded(args["name"])
    info: dict = {"is_class": isinstance(obj, type), "callable": callable(obj)}
    if isinstance(obj, type):
        info["mro"] = [f"{c.__module__}.{c.__qualname__}" for c in obj.__mro__]
        info["own"] = sorted(vars(obj))
        info["staticmethods"] = sorted(k for k, v in vars(obj).items() if isinstance(v, staticmethod))
        methods = {}
        for meth in args.get("methods", []):
            if meth in vars(obj):
                try:
                    methods[meth] = signature_of(getattr(obj, meth))
                except (TypeError, ValueError):
                    methods[meth] = None
        info["methods"] = methods
    try:
        info["signature"] = signature_of(obj)
    except (TypeError, ValueError):
        info["signature"] = None
    return protocol.Response(ok=True, value=info)


def _exception_info(exc: BaseException) -> dict:
    return {
        "raised": type(exc).__name__,
        "message": str(exc)[:500],
        "mro": [c.__name__ for c in type(exc).__mro__],
    }


@graded_op("construct")
def construct(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Construct ``name`` with the tensors as params (optimizers) or just kwargs; report any raise."""
    cls = ctx.graded(args["name"])
    kwargs = tupled(args.get("kwargs", {}))
    try:
        if args.get("with_params"):
            params = [t.clone().requires_grad_(True) for _, t in sorted(tensors.items())]
            obj = cls(params, **kwargs)
            if args.get("step"):
                for p in params:
                    p.grad = torch.ones_like(p)
                obj.step()
        else:
            cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to see what it raises
        return protocol.Response(ok=True, value=_exception_info(exc))
    return protocol.Response(ok=True, value={"raised": None})
