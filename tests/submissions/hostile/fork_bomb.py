"""Hostile: on the first call of SGD.step the worker forks up to 10000 children (each sleeps 60 s and
exits; the children do not fork again, so the total is bounded), ignoring fork failures, and then
performs the honest SGD update.

The grader must: limit the number of processes (RLIMIT_NPROC / pids cgroup) so forking fails early,
kill every child when the worker is torn down (process group or cgroup), and grade the honest
update normally: the SGD lines may keep their points. After grading no child may be left running.
"""

import os
import time

import torch
from torch.optim import Optimizer

_forked = False


def _spawn_children(limit=10000):
    global _forked
    if _forked:
        return
    _forked = True
    for _ in range(limit):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:  # child: linger, never fork again
            try:
                time.sleep(60)
            finally:
                os._exit(0)


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
        _spawn_children()
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
