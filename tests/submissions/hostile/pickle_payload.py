"""Hostile: a correct SGD that also stores, in self.state[p] of every parameter, an object whose
__reduce__ makes pickle.loads() (and torch.load(weights_only=False)) run code: it writes a marker file
($KIT_TEST_MARKER if set, else kit_pickle_payload.marker in the temp dir) with the PID of whoever
unpickled it. __deepcopy__ returns the object itself, so copying a state_dict inside the worker does
not trigger it.

The grader must: never unpickle anything coming from the worker (safetensors / raw bytes + JSON only),
so the marker is never written by the trusted process (at most by the sandboxed worker itself), and
state_dict resume is checked inside the worker. SGD keeps its points.
"""

import os
import tempfile

import torch
from torch.optim import Optimizer


def _marker_path(default_name):
    """Where a marker goes: $KIT_TEST_MARKER if the kit's test sets it, else a file in the temp dir."""
    return os.environ.get("KIT_TEST_MARKER") or os.path.join(tempfile.gettempdir(), default_name)


def _payload(note):
    with open(_marker_path("kit_pickle_payload.marker"), "a") as fh:
        fh.write(f"pickle_payload ran in pid {os.getpid()}: {note}\n")
    return note


class _Payload:
    def __reduce__(self):
        return (_payload, ("unpickled a student's state_dict",))

    def __deepcopy__(self, memo):
        return self


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].setdefault("payload", _Payload())
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    d_p = d_p.add(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1 - group["dampening"])
                    d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])
        return loss
