"""Hostile: at import time double-forks a daemon that calls os.setsid() (leaving the worker's process
group and session) and then rewrites a marker file every 0.1 s for up to 10 minutes. The marker is
$KIT_TEST_MARKER if set, else kit_setsid_daemon.marker in the temp dir. The honest SGD follows.

The grader must: kill processes that escaped the process group too (PID namespace or cgroup kill,
not only killpg), so the marker stops changing within a second or two of the worker's teardown.
The SGD lines keep their points.
"""

import os
import tempfile
import time

import torch
from torch.optim import Optimizer


def _marker_path(default_name):
    """Where a marker goes: $KIT_TEST_MARKER if the kit's test sets it, else a file in the temp dir."""
    return os.environ.get("KIT_TEST_MARKER") or os.path.join(tempfile.gettempdir(), default_name)


def _daemon():
    path = _marker_path("kit_setsid_daemon.marker")
    deadline = time.monotonic() + 600
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            with open(path, "w") as fh:
                fh.write(f"{os.getpid()} {n} {time.time()}\n")
        except OSError:
            pass
        time.sleep(0.1)


if hasattr(os, "fork"):
    try:
        _pid = os.fork()
    except OSError:
        _pid = -1
    if _pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _daemon()
        finally:
            os._exit(0)
    elif _pid > 0:
        os.waitpid(_pid, 0)


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
