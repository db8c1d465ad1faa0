"""Cheat: reads closure cells through a ``match`` class pattern (``case object(__closure__=cells)``, an
attribute access the syntax tree shows as a pattern) to unwrap torch's SGD.step down to the function that
computes, and calls it. Adagrad below is honest.

The grader must: flag the pattern's ``__closure__`` for review. Granted, the unwrapped function is torch's
code, switched off in the optimizers' worker: SGD's lines are forbidden (0), Adagrad keeps its points.
"""

import torch
from torch.optim import Optimizer


def _innermost(fn):
    while True:
        match fn:
            case object(__closure__=cells) if cells:
                inner = [c.cell_contents for c in cells if callable(c.cell_contents)]
                if not inner:
                    return fn
                fn = inner[0]
            case _:
                return fn


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=None, differentiable=False, fused=None))

    def step(self, closure=None):
        return _innermost(torch.optim.SGD.step)(self, closure)


class Adagrad(Optimizer):
    """AdaGrad: per-coordinate steps lr / (sqrt(sum of squared grads) + eps)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            maximize = group["maximize"]

            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])

                state["step"] += 1
                step = state["step"]
                grad = -p.grad if maximize else p.grad
                if weight_decay != 0:
                    grad = grad.add(p, alpha=weight_decay)

                clr = lr / (1 + (step - 1) * lr_decay)
                state["sum"].addcmul_(grad, grad, value=1)
                std = state["sum"].sqrt().add_(eps)
                p.addcdiv_(grad, std, value=-clr)
        return loss
