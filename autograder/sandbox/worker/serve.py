"""The worker's request loop: load the student's module once, then answer requests until EOF."""

from __future__ import annotations
import __future__

import ast
import sys
import types

from . import guards, handlers, protocol
from . import operations as ops
from .registry import HANDLERS, Context, MissingStandIn, describe_exception, handler

MAX_FAILURES = 50  # module-level statements that raised, reported (then a count)


def _display(*objs, **kwargs) -> None:
    """A notebook's ``display`` (IPython's builtin) for graded code: prints each object's repr."""
    for obj in objs:
        print(repr(obj))


def run_module(source: str, filename: str, namespace: dict) -> list[dict]:
    """Execute ``source`` in ``namespace`` one top-level statement at a time, as a notebook runs cell by
    cell: a statement that raises (a failing self-check, a comparison cell, ``sys.exit()``) is reported
    and the next one runs, so it costs only the names it was to define."""
    tree = ast.parse(source, filename)
    flags, failures = 0, []
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
        try:
            unit = ast.Module([stmt], type_ignores=[])
            exec(compile(unit, filename, "exec", flags=flags, dont_inherit=True), namespace)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and MemoryError too: report, go on
            if len(failures) <= MAX_FAILURES:
                failures.append({"line": stmt.lineno, **describe_exception(exc, filename)})
    return failures


@handler("load")
def _load(ctx: Context, args: dict, tensors: dict) -> protocol.Response:
    """Switch off torch's implementations of the graded family, run the trusted stand-ins this worker
    needs, then the student's source as module ``module``; report the names it defines and the
    module-level statements that raised."""
    req = ops.Load.from_wire(args, tensors)
    guards.disable(req.disabled)
    for name, text in req.standins.items():
        namespace: dict = {"__name__": f"kit_standin_{name}"}
        exec(compile(text, f"<kit stand-in {name}>", "exec", dont_inherit=True), namespace)
        ctx.standins[name] = namespace
    ctx.filename = req.filename
    module = types.ModuleType(req.module)
    module.__file__ = ctx.filename
    module.__dict__["display"] = _display
    sys.modules[req.module] = module
    ctx.module = module
    failures = run_module(req.source, ctx.filename, module.__dict__)
    names = sorted(k for k in module.__dict__ if not k.startswith("__"))
    return ops.Loaded(names, failures[: MAX_FAILURES + 1]).to_response()


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
    except (ops.OperationError, MissingStandIn) as exc:
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
    guards.open_channel()
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
