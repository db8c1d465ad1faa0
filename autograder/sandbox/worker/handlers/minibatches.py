"""``minibatches`` (01_gradient_descent): call the student's function and return the index batches it
produced (descriptions as JSON, the indices as one tensor per call)."""

from __future__ import annotations

import torch

from .. import operations as ops
from ..registry import Context, raised
from .common import graded_op


def _collect(result, n: int, key: str, out: dict[str, torch.Tensor]) -> dict:
    """Iterate what minibatches returned: batch descriptions (JSON) and all indices concatenated."""
    try:
        iterator = iter(result)
    except TypeError:
        return {"iterable": False, "type": type(result).__name__}
    batches, values, total, truncated = [], [], 0, False
    for batch in iterator:
        if len(batches) >= n + 3 or total > 2 * n + 10:
            truncated = True
            break
        info = {"type": type(batch).__name__}
        if isinstance(batch, torch.Tensor):
            info.update(dtype=str(batch.dtype).replace("torch.", ""), dim=batch.dim(), len=int(batch.numel()))
            flat = batch.detach().reshape(-1)
        else:
            try:
                flat = torch.as_tensor(batch).reshape(-1)
                info["len"] = int(flat.numel())
            except Exception:  # noqa: BLE001 - not index-like at all
                flat = None
                info["len"] = None
        if flat is not None:
            try:
                values.append(flat.to(torch.long).cpu())
                total += flat.numel()
            except Exception:  # noqa: BLE001
                info["len"] = None
        batches.append(info)
    out[key] = torch.cat(values) if values else torch.zeros(0, dtype=torch.long)
    return {"iterable": True, "batches": batches, "truncated": truncated}


@graded_op(ops.MinibatchesRun)
def minibatches_run(ctx: Context, req: ops.MinibatchesRun) -> ops.Batches:
    """Call the student's minibatches once per entry of ``calls`` (``n``, ``batch_size``, ``kwargs``,
    ``generator``: ``"shared"`` = one ``torch.Generator().manual_seed(seed)`` for all calls, ``None`` =
    not passed; torch's global RNG is seeded with ``global_seed`` first). Reply: per call its batches
    (``c{i}``: all indices in order) or, with ``catch``, the exception it raised (calling or iterating)."""
    fn = ctx.graded("minibatches")
    shared = torch.Generator().manual_seed(int(req.seed))
    torch.manual_seed(int(req.global_seed))
    out: dict[str, torch.Tensor] = {}
    replies = []
    for i, call in enumerate(req.calls):
        kwargs = dict(call.get("kwargs", {}))
        if call.get("generator") == "shared":
            kwargs["generator"] = shared
        if req.catch:
            # Calling and iterating apart: the contract wants the error from the call itself.
            try:
                result = fn(call["n"], call["batch_size"], **kwargs)
            except Exception as exc:  # noqa: BLE001 - the point is to see what it raises
                replies.append(dict(raised(exc), when="call"))
                continue
            try:
                reply = _collect(result, call["n"], f"c{i}", out)
                reply["raised"] = None
            except Exception as exc:  # noqa: BLE001
                reply = dict(raised(exc), when="iteration")
        else:
            reply = _collect(fn(call["n"], call["batch_size"], **kwargs), call["n"], f"c{i}", out)
        replies.append(reply)
    return ops.Batches(replies, out)
