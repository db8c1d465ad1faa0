"""Hyper-parameters as frozen dataclasses: each config validates itself in __post_init__ and becomes
the optimizer's `defaults` with dataclasses.asdict."""
import math
from dataclasses import asdict, dataclass

import torch
from torch.optim import Optimizer


def _non_negative(config, *names):
    for name in names:
        value = asdict(config)[name]
        if value < 0:
            raise ValueError(f"Invalid {name}: {value}")


@dataclass(frozen=True)
class SGDConfig:
    lr: float = 1e-3
    momentum: float = 0.0
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    maximize: bool = False

    def __post_init__(self):
        _non_negative(self, "lr", "momentum", "weight_decay")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")


@dataclass(frozen=True)
class AdagradConfig:
    lr: float = 1e-2
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10
    maximize: bool = False

    def __post_init__(self):
        _non_negative(self, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")


@dataclass(frozen=True)
class RMSpropConfig:
    lr: float = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False
    maximize: bool = False

    def __post_init__(self):
        _non_negative(self, "lr", "eps", "momentum", "weight_decay", "alpha")


@dataclass(frozen=True)
class AdamConfig:
    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    maximize: bool = False

    def __post_init__(self):
        _non_negative(self, "lr", "eps", "weight_decay")
        if not (0.0 <= self.betas[0] < 1.0 and 0.0 <= self.betas[1] < 1.0):
            raise ValueError(f"Invalid betas: {self.betas}")


def _gradient(p, group):
    g = torch.neg(p.grad) if group["maximize"] else p.grad
    if group["weight_decay"] != 0:
        g = g.add(p, alpha=group["weight_decay"])
    return g


class _ConfiguredOptimizer(Optimizer):
    config_class = None

    def __init__(self, params, **kwargs):
        config = self.config_class(**kwargs)
        super().__init__(params, asdict(config))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, _gradient(p, group), self.state[p], group)
        return loss


class SGD(_ConfiguredOptimizer):
    config_class = SGDConfig

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, maximize=maximize)

    def update(self, p, grad, state, group):
        if group["momentum"] != 0:
            if "momentum_buffer" in state:
                state["momentum_buffer"].mul_(group["momentum"]).add_(grad, alpha=1 - group["dampening"])
            else:
                state["momentum_buffer"] = grad.detach().clone()
            buf = state["momentum_buffer"]
            grad = grad.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class Adagrad(_ConfiguredOptimizer):
    config_class = AdagradConfig

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        state["sum"].addcmul_(grad, grad, value=1)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        p.addcdiv_(grad, state["sum"].sqrt().add_(group["eps"]), value=-clr)


class RMSprop(_ConfiguredOptimizer):
    config_class = RMSpropConfig

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered, maximize=maximize)

    def update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        state["step"] += 1
        alpha = group["alpha"]
        state["square_avg"].mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            state["grad_avg"].lerp_(grad, 1 - alpha)
            avg = state["square_avg"].addcmul(state["grad_avg"], state["grad_avg"], value=-1).sqrt_()
        else:
            avg = state["square_avg"].sqrt()
        avg.add_(group["eps"])
        if group["momentum"] > 0:
            state["momentum_buffer"].mul_(group["momentum"]).addcdiv_(grad, avg)
            p.add_(state["momentum_buffer"], alpha=-group["lr"])
        else:
            p.addcdiv_(grad, avg, value=-group["lr"])


class Adam(_ConfiguredOptimizer):
    config_class = AdamConfig

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)

    def update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v = state["exp_avg_sq"]
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denom, value=-(group["lr"] / (1 - beta1 ** t)))
