"""The worker's request loop: load the student's module once, then answer requests until EOF."""

from __future__ import annotations

import sys
import types

from . import handlers, protocol
from . import operations as ops
from .handlers import tripwires
from .registry import HANDLERS, Context, describe_exception, handler


@handler("load")
def _load(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Execute the student's source as module ``module``; report the names it defines."""
    req = ops.Load.from_wire(args, tensors)
    tripwires.watch_operators(req.watch_ops)
    ctx.filename = req.filename
    module = types.ModuleType(req.module)
    module.__file__ = ctx.filename
    sys.modules[req.module] = module
    code = compile(req.source, ctx.filename, "exec", dont_inherit=True)
    ctx.module = module
    exec(code, module.__dict__)
    return ops.Loaded(sorted(k for k in module.__dict__ if not k.startswith("__"))).to_response()


@handler("ping")
def _ping(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    return protocol.Response(ok=True, value="pong")


@handler("batch")
def _batch(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Several requests in one round trip (``operations.Batch``), each answered as it would be alone."""
    replies, out = [], {}
    for i, (op, part_args, part_tensors) in enumerate(ops.Batch.from_wire(args, tensors).parts()):
        resp = answer(ctx, protocol.Request(op, part_args, part_tensors))
        replies.append({"ok": resp.ok, "value": resp.value, "error": resp.error})
        out.update({f"{i}/{k}": t for k, t in resp.tensors.items()})
    return ops.BatchReplies(replies, out).to_response()


def grader_error(message: str) -> protocol.Response:
    """A request the worker cannot take (unknown op, a record that does not fit): the kit's fault."""
    error = {"type": "ProtocolError", "message": message, "frames": [], "missing": False, "grader": True}
    return protocol.Response(ok=False, error=error)


def answer(ctx: Context, req: protocol.Request) -> protocol.Response:
    """Run the handler of one request; every way the student's code fails becomes a reply."""
    fn = HANDLERS.get(req.op)
    if fn is None:
        return grader_error(f"unknown op {req.op}")
    try:
        return fn(ctx, req.args, req.tensors)
    except ops.OperationError as exc:
        return grader_error(str(exc))
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
