"""Hostile: at import time writes a 4 GiB file big_file.bin into the current directory in 64 MiB
chunks (bounded to 4 GiB), ignoring errors, then defines the honest SGD.

The grader must: run the worker in a scratch directory with a file-size limit (RLIMIT_FSIZE: the
write fails or SIGXFSZ ends the worker) and a disk quota, delete the scratch directory afterwards,
and never let the file appear in the submission folder, the repository or the output folder.
If the worker survives the failed write, the SGD lines keep their points.
"""

import os

import torch
from torch.optim import Optimizer

_chunk = b"\0" * (64 * 2**20)
try:
    with open(os.path.join(os.getcwd(), "big_file.bin"), "wb") as _fh:
        for _ in range(64):
            _fh.write(_chunk)
except OSError:
    pass
del _chunk


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
