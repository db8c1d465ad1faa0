"""Forbidden at run time: SGD hands its update to torch's private fused kernel torch._fused_sgd_
through a helper, the way torch's own sgd.py keeps it behind its ``fused`` flag (which the static
policy leaves to the runtime layer). Here the helper always runs. Adagrad below is honest.

The grader must: see aten._fused_sgd_ run while SGD is graded (the dispatch-mode tripwire), give
every SGD line 0 with status "forbidden", and keep Adagrad's points.
"""

import torch
from torch.optim import Optimizer


def _fused(params, grads, bufs, group, first):
    torch._fused_sgd_(params, grads, bufs, weight_decay=group["weight_decay"], momentum=group["momentum"],
                      lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
                      maximize=group["maximize"], is_first_step=first)


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0 or momentum < 0.0 or weight_decay < 0.0:
            raise ValueError("invalid hyper-parameter")
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
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            first = "momentum_buffer" not in self.state[params[0]]
            bufs = [self.state[p].setdefault("momentum_buffer", torch.zeros_like(p)) for p in params]
            _fused(params, [p.grad for p in params], bufs if group["momentum"] else [], group, first)
        return loss


class Adagrad(Optimizer):
    """The honest part of this file: a plain, correct Adagrad."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        for name, value in [("learning rate", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value), ("epsilon", eps)]:
            if value < 0.0:
                raise ValueError(f"Invalid {name} value: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

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
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"].addcmul_(g, g, value=1)
                p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-clr)
        return loss
