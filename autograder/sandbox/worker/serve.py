"""The worker's request loop: load the student's module once, then answer requests until EOF."""

from __future__ import annotations

import sys
import types

from . import handlers, protocol
from .handlers import tripwires
from .registry import HANDLERS, Context, describe_exception, handler


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


def _unknown(op: str) -> protocol.Response:
    error = {"type": "ProtocolError", "message": f"unknown op {op}", "frames": [], "missing": False,
             "grader": True}
    return protocol.Response(ok=False, error=error)


def answer(ctx: Context, req: protocol.Request) -> protocol.Response:
    """Run the handler of one request; every way the student's code fails becomes a reply."""
    fn = HANDLERS.get(req.op)
    if fn is None:
        return _unknown(req.op)
    try:
        return fn(ctx, req.args, req.tensors)
    except SystemExit as exc:  # student code called sys.exit(): report, keep serving
        return protocol.Response(
            ok=False,
            error=describe_exception(exc, ctx.filename)
            | {"type": "SystemExit", "message": f"the code called sys.exit({exc.code!r})"},
        )
    except BaseException as exc:  # noqa: BLE001 - every student failure becomes a reply
        return protocol.Response(ok=False, error=describe_exception(exc, ctx.filename))


def serve(fd_in: int, fd_out: int) -> None:
    """Answer requests from ``fd_in`` on ``fd_out`` until the grader closes the channel."""
    assert handlers.REGISTERED  # importing the package registered every graded op
    tripwires.open_channel()
    ctx = Context()
    while True:
        try:
            req = protocol.read_request(fd_in)
        except EOFError:
            return
        resp = answer(ctx, req)
        try:
            data = protocol.encode_response(resp)
        except Exception as exc:  # e.g. a returned object that isn't a tensor
            data = protocol.encode_response(
                protocol.Response(ok=False, error=describe_exception(exc, ctx.filename))
            )
        sys.stdout.flush()  # so the grader can quote what the student printed
        sys.stderr.flush()
        protocol.write_all(fd_out, data)
