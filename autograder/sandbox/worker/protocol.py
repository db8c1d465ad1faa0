"""Wire format between the trusted grader and the sandboxed worker (both sides import this file).

A message is a frame: an 8-byte header (two big-endian uint32: JSON length, tensor-blob length),
the JSON body, then the tensors as a safetensors blob. Nothing else crosses the boundary: no pickle,
so neither side can make the other execute code by sending data. The JSON body always carries the
protocol ``version``; a mismatch is refused.

The tensors travel packed: one flat safetensors tensor per dtype, and in the JSON body (``tensors``)
each name's dtype, offset and shape in it. A batch of examples holds thousands of small tensors, and
safetensors spends ~20 us on each one it stores; a packed message costs a few us per tensor.

The grader reads replies from student code, so every reply is decoded defensively: the sizes the
header announces are checked against small caps before a byte of the body is buffered, JSON nesting
is bounded, and every way decoding can fail (sizes, UTF-8, JSON, depth, types, safetensors) raises
``ProtocolError``, never anything else.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

VERSION = 2  # 2: tensors packed per dtype
_HEADER = struct.Struct(">II")
# Requests (grader -> worker) carry data sets; replies (worker -> grader) carry a few results. The
# largest reply the kit's own checks get is ~40 KB of JSON and ~1.6 MB of tensors.
REQUEST_LIMITS = (16 << 20, 512 << 20)  # (JSON bytes, tensor bytes)
REPLY_LIMITS = (2 << 20, 32 << 20)
MAX_DEPTH = 32  # nesting of JSON containers in one message


class ProtocolError(RuntimeError):
    """A malformed, oversized or mismatched frame."""


@dataclass(frozen=True)
class Request:
    """One operation for the worker: ``op`` names a handler, ``args`` is plain JSON."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """The worker's answer. ``ok`` false means the student's code raised: ``error`` says what."""

    ok: bool
    value: Any = None
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    error: dict[str, Any] | None = None


def _pack(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, list], dict[str, torch.Tensor]]:
    """``(layout, flat)``: ``layout[name] = [dtype, offset, shape]`` into ``flat[dtype]``, a 1-D tensor
    holding every tensor of that dtype, one after the other (copied: the caller's tensors stay its own)."""
    layout: dict[str, list] = {}
    parts: dict[str, list[torch.Tensor]] = {}
    sizes: dict[str, int] = {}
    for name, t in tensors.items():
        t = t.detach().cpu()
        kind = str(t.dtype).removeprefix("torch.")
        layout[name] = [kind, sizes.get(kind, 0), list(t.shape)]
        parts.setdefault(kind, []).append(t.reshape(-1))
        sizes[kind] = sizes.get(kind, 0) + t.numel()
    return layout, {kind: torch.cat(chunks) for kind, chunks in parts.items()}


def _unpack(layout: Any, flat: dict[str, torch.Tensor], own: bool) -> dict[str, torch.Tensor]:
    """The named tensors of a packed message: views into ``flat``, or with ``own`` each with storage of
    its own (the worker's side: a student's code must not reach the other examples' inputs through
    one). ``ProtocolError`` when the layout does not fit the buffers (the grader reads student output)."""
    if not isinstance(layout, dict) or not all(t.dim() == 1 for t in flat.values()):
        raise ProtocolError("tensor layout of the wrong type")
    out = {}
    for name, entry in layout.items():
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and type(entry[1]) is int and isinstance(entry[2], list)
                and all(type(d) is int and d >= 0 for d in entry[2])):
            raise ProtocolError("tensor layout of the wrong type")
        kind, offset, shape = entry
        buffer = flat.get(kind)
        numel = 1
        for d in shape:
            numel *= d
        if buffer is None or offset < 0 or offset + numel > buffer.numel():
            raise ProtocolError(f"tensor {name!r} lies outside the packed data")
        try:
            out[name] = buffer[offset: offset + numel].view(shape)
        except (RuntimeError, TypeError, ValueError, OverflowError):  # e.g. a dimension past int64
            raise ProtocolError(f"tensor {name!r} has a shape torch cannot make") from None
        if own:
            out[name] = out[name].clone()
    return out


def _encode(body: dict[str, Any], tensors: dict[str, torch.Tensor]) -> bytes:
    body = {"version": VERSION, **body}
    blob = b""
    if tensors:
        body["tensors"], flat = _pack(tensors)
        blob = _st_save(flat)
    raw = json.dumps(body, allow_nan=True).encode()
    return _HEADER.pack(len(raw), len(blob)) + raw + blob


def _check_depth(value: Any) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH (iteratively: a deep value must not recurse here)."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels")
            todo.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))


def _decode(header: bytes, read, limits: tuple[int, int],
            own: bool = False) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    n_json, n_blob = _HEADER.unpack(header)
    if n_json > limits[0] or n_blob > limits[1]:
        raise ProtocolError(f"message too large ({n_json} bytes of JSON, {n_blob} of tensors; "
                            f"the limits are {limits[0]} and {limits[1]})")
    raw = read(n_json)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError, MemoryError) as exc:  # JSON, UTF-8 (a ValueError), nesting
        raise ProtocolError(f"undecodable JSON ({type(exc).__name__})") from None
    del raw
    _check_depth(body)
    if not isinstance(body, dict) or body.get("version") != VERSION:
        raise ProtocolError("protocol version mismatch")
    layout = body.pop("tensors", {})
    if not n_blob:
        if layout:
            raise ProtocolError("a tensor layout without tensors")
        return body, {}
    try:
        flat = _st_load(bytes(read(n_blob)))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own errors and TypeErrors
        raise ProtocolError(f"undecodable tensors ({type(exc).__name__})") from None
    return body, _unpack(layout, flat, own)


def encode_request(req: Request) -> bytes:
    return _encode({"op": req.op, "args": req.args}, req.tensors)


def encode_response(resp: Response) -> bytes:
    return _encode({"ok": resp.ok, "value": resp.value, "error": resp.error}, resp.tensors)


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly ``n`` bytes from a file descriptor or raise EOFError."""
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_request(fd: int) -> Request:
    body, tensors = _decode(read_exact(fd, _HEADER.size), lambda n: read_exact(fd, n), REQUEST_LIMITS,
                           own=True)
    return Request(op=body["op"], args=body.get("args") or {}, tensors=tensors)


def decode_response(header: bytes, read) -> Response:
    """A reply from the worker, or ``ProtocolError``; ``read(n)`` returns exactly n bytes."""
    body, tensors = _decode(header, read, REPLY_LIMITS)
    ok, error = body.get("ok"), body.get("error")
    if not isinstance(ok, bool) or not (error is None or isinstance(error, dict)):
        raise ProtocolError("reply fields of the wrong type")
    if error is not None and not all(isinstance(error.get(k, ""), str) for k in ("type", "message")):
        raise ProtocolError("error fields of the wrong type")
    return Response(ok=ok, value=body.get("value"), tensors=tensors, error=error)


HEADER_SIZE = _HEADER.size
