"""Review: tries to disarm the worker's runtime checks before delegating: looks for the old tripwire
module through sys.modules and replaces what it can find there, then subclasses torch's SGD under a
computed name. Adagrad below is honest.

The grader must: flag ``import sys`` (module level: every graded name set to review) before any of this
runs. Granted by a TA, the code runs and finds nothing to disarm (the guards are no Python objects), and
torch's SGD is switched off in the optimizers' worker: SGD comes out forbidden, Adagrad keeps its points.
"""

import contextlib
import sys

import torch
from torch.optim import Optimizer

_tw = sys.modules.get("kitworker.handlers.tripwires")
if _tw is not None:
    _tw._armed = [False]
    _tw.armed = contextlib.nullcontext
    _tw.install = lambda *a, **k: None

SGD = type("SGD", (getattr(torch.optim, "S" + "GD"),), {})


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
