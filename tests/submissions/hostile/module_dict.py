"""Review: fetches torch's SGD from the module's ``__dict__`` with a name built at run time (no
attribute access the old denylist scan could see). Adagrad below is honest and keeps its points.

The grader must: flag ``__dict__`` in SGD's definition, give every SGD line 0 with status "review",
and keep Adagrad's points (the violation sits inside SGD).
"""

import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    def __new__(cls, params, **kwargs):
        return torch.optim.__dict__["S" + "GD"](params, **kwargs)


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
