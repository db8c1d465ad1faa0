"""Review (module level); granted by a TA, an attack on the grader's memory: it swaps the worker's
reply encoder for one that announces a 512 MiB tensor blob and then streams the zeros. (Deeply nested
JSON is tried in tests/sandbox/test_sandbox_protocol.py.)

The grader must: flag ``import sys`` (review) before anything runs. Granted: refuse each reply from
its header (a protocol error: that line errors, the worker tree is killed) without buffering it, keep
its own memory bounded, and finish the class.
"""

import struct
import sys

import torch
from torch.optim import Optimizer

_protocol = sys.modules.get("kitworker.protocol")
if _protocol is not None:
    _original = _protocol.encode_response

    def _encode(resp):
        if isinstance(resp.value, dict) and "names" in resp.value:  # the load reply: let it through
            return _original(resp)
        return struct.pack(">II", 64, 512 << 20) + b" " * 64 + bytes(1 << 20) * 512

    _protocol.encode_response = _encode


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, **kwargs):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        return None


class Adagrad(SGD):
    pass
