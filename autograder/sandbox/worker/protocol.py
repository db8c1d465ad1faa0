"""Wire format between the trusted grader and the sandboxed worker (both sides import this file).

A message is a frame: an 8-byte header (two big-endian uint32: JSON length, tensor-blob length),
the JSON body, then the tensors as a safetensors blob. Nothing else crosses the boundary: no pickle,
so neither side can make the other execute code by sending data. The JSON body always carries the
protocol ``version``; a mismatch is refused.
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

VERSION = 1
_HEADER = struct.Struct(">II")
MAX_JSON = 16 << 20  # a reply larger than this is a protocol violation, not data
MAX_BLOB = 512 << 20


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


def _encode(body: dict[str, Any], tensors: dict[str, torch.Tensor]) -> bytes:
    body = {"version": VERSION, **body}
    raw = json.dumps(body, allow_nan=True).encode()
    # safetensors wants contiguous, non-aliasing tensors it owns.
    blob = (
        _st_save({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}) if tensors else b""
    )
    return _HEADER.pack(len(raw), len(blob)) + raw + blob


def _decode(header: bytes, read) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    n_json, n_blob = _HEADER.unpack(header)
    if n_json > MAX_JSON or n_blob > MAX_BLOB:
        raise ProtocolError(f"frame too large ({n_json} + {n_blob} bytes)")
    body = json.loads(read(n_json))
    if not isinstance(body, dict) or body.get("version") != VERSION:
        raise ProtocolError("protocol version mismatch")
    tensors = _st_load(read(n_blob)) if n_blob else {}
    return body, tensors


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
    body, tensors = _decode(read_exact(fd, _HEADER.size), lambda n: read_exact(fd, n))
    return Request(op=body["op"], args=body.get("args") or {}, tensors=tensors)


def decode_response(header: bytes, read) -> Response:
    body, tensors = _decode(header, read)
    return Response(ok=bool(body["ok"]), value=body.get("value"), tensors=tensors, error=body.get("error"))


HEADER_SIZE = _HEADER.size
