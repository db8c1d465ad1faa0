"""Hostile: a correct SGD plus an Adam that does no update at all but tries to make any in-process
comparison succeed: after step() every parameter's class is switched to a torch.Tensor subclass whose
__torch_function__ answers True to eq/equal/allclose/isclose/le/lt/ge/gt and whose Python comparison
operators, __bool__ and .all()/.any() say True; step() returns such a tensor as the loss;
state_dict() returns values that compare equal to anything.

The grader must: compare on the trusted side, after the values crossed the boundary as plain tensors
(subclasses and Python objects do not survive serialization), so every Adam step line scores 0
(the sanity guards of param_groups / state_dict_resume / closure see a no-op), while SGD keeps its
points.
"""

import torch
from torch.optim import Optimizer


class _AlwaysTrue(torch.Tensor):
    """A tensor that agrees with everything."""

    _LIES = {"eq", "equal", "allclose", "isclose", "le", "lt", "ge", "gt", "ne", "all", "any",
             "__eq__", "__ne__", "__le__", "__lt__", "__ge__", "__gt__"}

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in cls._LIES:
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return True

    __ne__ = __le__ = __lt__ = __ge__ = __gt__ = __eq__

    def __bool__(self):
        return True

    __hash__ = torch.Tensor.__hash__


class _Anything(dict):
    def __eq__(self, other):
        return True

    __hash__ = None


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


class Adam(Optimizer):
    """Does not implement Adam at all: the update is missing; only the lies above could make it "pass"."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0 or not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError("invalid hyper-parameter")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                try:
                    p.__class__ = _AlwaysTrue
                except TypeError:
                    pass
        if loss is not None:
            loss = loss.detach().as_subclass(_AlwaysTrue)
        return loss

    def state_dict(self):
        return _Anything(super().state_dict())
