"""Optimizers notebook, exported to .py.

I wrote every update as a formula that builds new tensors (no in-place ops),
then write the result back into the parameter with p.data = ...
The per-parameter state is kept in self.state[p] so that state_dict() works.
"""

import math
from typing import Callable, Optional

import torch
from torch.optim import Optimizer


def _check_non_negative(name, value):
    if value < 0:
        raise ValueError(f"Invalid {name} value: {value}")


def _run_closure(closure: Optional[Callable]):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def _direction(p, group):
    """Gradient as the update direction: maximize flips it, then L2 decay is added."""
    g = p.grad
    if group["maximize"]:
        g = -g
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * p
    return g


class SGD(Optimizer):
    def __init__(self, params, lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        _check_non_negative("learning rate", lr)
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        if nesterov:
            if momentum <= 0:
                raise ValueError("Nesterov momentum needs momentum > 0")
            if dampening != 0:
                raise ValueError("Nesterov momentum needs dampening = 0")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def step(self, closure=None):
        loss = _run_closure(closure)
        with torch.no_grad():
            for group in self.param_groups:
                mu = group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = _direction(p, group)
                    if mu != 0:
                        state = self.state[p]
                        if "momentum_buffer" in state:
                            b = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
                        else:
                            b = g.clone()
                        state["momentum_buffer"] = b
                        g = g + mu * b if group["nesterov"] else b
                    p.data = p - group["lr"] * g
        return loss


class Adagrad(Optimizer):
    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        _check_non_negative("learning rate", lr)
        _check_non_negative("lr_decay", lr_decay)
        _check_non_negative("weight_decay", weight_decay)
        _check_non_negative("initial_accumulator_value", initial_accumulator_value)
        _check_non_negative("epsilon", eps)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": maximize})

    def step(self, closure=None):
        loss = _run_closure(closure)
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = torch.tensor(0.0)
                        state["sum"] = torch.zeros_like(p) + group["initial_accumulator_value"]
                    state["step"] = state["step"] + 1
                    t = state["step"].item()
                    g = _direction(p, group)
                    G = state["sum"] + g * g
                    state["sum"] = G
                    step_size = group["lr"] / (1 + (t - 1) * group["lr_decay"])
                    p.data = p - step_size * (g / (torch.sqrt(G) + group["eps"]))
        return loss


class RMSprop(Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        _check_non_negative("learning rate", lr)
        _check_non_negative("epsilon", eps)
        _check_non_negative("momentum", momentum)
        _check_non_negative("weight_decay", weight_decay)
        _check_non_negative("alpha", alpha)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def step(self, closure=None):
        loss = _run_closure(closure)
        with torch.no_grad():
            for group in self.param_groups:
                alpha = group["alpha"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    g = _direction(p, group)
                    v = alpha * state.get("square_avg", torch.zeros_like(p)) + (1 - alpha) * g.pow(2)
                    state["square_avg"] = v
                    if group["centered"]:
                        ga = alpha * state.get("grad_avg", torch.zeros_like(p)) + (1 - alpha) * g
                        state["grad_avg"] = ga
                        v = v - ga.pow(2)
                    denom = v.sqrt() + group["eps"]
                    if group["momentum"] > 0:
                        b = group["momentum"] * state.get("momentum_buffer", torch.zeros_like(p)) + g / denom
                        state["momentum_buffer"] = b
                        p.data = p - group["lr"] * b
                    else:
                        p.data = p - group["lr"] * g / denom
        return loss


class Adam(Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        _check_non_negative("learning rate", lr)
        _check_non_negative("epsilon", eps)
        for i, beta in enumerate(betas):
            if not (0.0 <= beta < 1.0):
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        _check_non_negative("weight_decay", weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize})

    def step(self, closure=None):
        loss = _run_closure(closure)
        with torch.no_grad():
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    t = state.get("step", 0) + 1
                    state["step"] = t
                    g = _direction(p, group)
                    m = b1 * state.get("exp_avg", torch.zeros_like(p)) + (1 - b1) * g
                    v = b2 * state.get("exp_avg_sq", torch.zeros_like(p)) + (1 - b2) * (g * g)
                    state["exp_avg"] = m
                    state["exp_avg_sq"] = v
                    if group["amsgrad"]:
                        v = torch.where(v > state.get("max_exp_avg_sq", v), v,
                                        state.get("max_exp_avg_sq", v))
                        state["max_exp_avg_sq"] = v
                    m_hat = m / (1 - b1 ** t)
                    v_hat = v / (1 - b2 ** t)
                    p.data = p - group["lr"] * m_hat / (torch.sqrt(v_hat) + group["eps"])
        return loss
