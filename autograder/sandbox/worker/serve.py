"""The worker's request loop: load the student's module once, then answer requests until EOF."""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Callable
from typing import Any

from . import protocol

Handler = Callable[["Context", dict, dict], protocol.Response]
HANDLERS: dict[str, Handler] = {}


def handler(op: str):
    """Register a request handler under ``op``."""

    def deco(fn: Handler) -> Handler:
        HANDLERS[op] = fn
        return fn

    return deco


class Context:
    """What handlers share: the student's module (once loaded) and its file name."""

    def __init__(self) -> None:
        self.module: types.ModuleType | None = None
        self.filename = "<submission>"

    def graded(self, name: str) -> Any:
        """The student's object called ``name``; AttributeError (reported as missing) if absent."""
        if self.module is None:
            raise RuntimeError("the submission is not loaded")
        try:
            return self.module.__dict__[name]
        except KeyError:
            raise MissingName(name) from None


class MissingName(Exception):
    """The submission does not define a graded name."""


def describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    """Exception type, message and the student's own frames only (never the worker's internals)."""
    frames = [
        {"line": f.lineno, "function": f.name, "code": (f.line or "").strip()}
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename == filename
    ]
    try:
        message = str(exc)
    except Exception:  # a hostile __str__ must not take the worker down
        message = "<unprintable message>"
    return {
        "type": type(exc).__name__,
        "message": message[:2000],
        "frames": frames[-5:],
        "missing": isinstance(exc, MissingName),
    }


@handler("load")
def _load(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Execute the student's source as module ``args['module']``; report the names it defines."""
    ctx.filename = args["filename"]
    module = types.ModuleType(args["module"])
    module.__file__ = ctx.filename
    sys.modules[args["module"]] = module
    code = compile(args["source"], ctx.filename, "exec", dont_inherit=True)
    ctx.module = module
    exec(code, module.__dict__)
    names = sorted(k for k in module.__dict__ if not k.startswith("__"))
    return protocol.Response(ok=True, value={"names": names})


@handler("ping")
def _ping(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    return protocol.Response(ok=True, value="pong")


def serve(fd_in: int, fd_out: int) -> None:
    """Answer requests from ``fd_in`` on ``fd_out`` until the grader closes the channel."""
    from . import ops, tripwires  # noqa: F401  (registers the handlers)

    tripwires.open_channel()
    ctx = Context()
    while True:
        try:
            req = protocol.read_request(fd_in)
        except EOFError:
            return
        fn = HANDLERS.get(req.op)
        if fn is None:
            resp = protocol.Response(
                ok=False,
                error={
                    "type": "ProtocolError",
                    "message": f"unknown op {req.op}",
                    "frames": [],
                    "missing": False,
                    "grader": True,
                },
            )
        else:
            try:
                resp = fn(ctx, req.args, req.tensors)
            except SystemExit as exc:  # student code called sys.exit(): report, keep serving
                resp = protocol.Response(
                    ok=False,
                    error=describe_exception(exc, ctx.filename)
                    | {"type": "SystemExit", "message": f"the code called sys.exit({exc.code!r})"},
                )
            except BaseException as exc:  # noqa: BLE001 - every student failure becomes a reply
                resp = protocol.Response(ok=False, error=describe_exception(exc, ctx.filename))
        try:
            data = protocol.encode_response(resp)
        except Exception as exc:  # e.g. a returned object that isn't a tensor
            data = protocol.encode_response(
                protocol.Response(ok=False, error=describe_exception(exc, ctx.filename))
            )
        sys.stdout.flush()  # so the grader can quote what the student printed
        sys.stderr.flush()
        protocol.write_all(fd_out, data)
