"""All four optimizers share one base class: validation, the closure, maximize/weight decay and the
loop over parameters live in _BaseOptimizer; each subclass only writes `_update`."""
import math

import torch
from torch.optim import Optimizer


class _BaseOptimizer(Optimizer):
    non_negative = ()  # hyper-parameters that must be >= 0

    def __init__(self, params, **defaults):
        for name in self.non_negative:
            if defaults[name] < 0:
                raise ValueError(f"Invalid {name}: {defaults[name]} (must be >= 0)")
        super().__init__(params, defaults)

    def _init_state(self, state, p, group):
        pass

    def _update(self, p, grad, state, group):
        raise NotImplementedError

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
                grad = p.grad
                if group["maximize"]:
                    grad = -grad
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * p
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(state, p, group)
                self._update(p, grad, state, group)
        return loss


class SGD(_BaseOptimizer):
    non_negative = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, maximize=maximize)

    def _update(self, p, grad, state, group):
        mu = group["momentum"]
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone().detach()
            else:
                state["momentum_buffer"].mul_(mu).add_(grad, alpha=1 - group["dampening"])
            buf = state["momentum_buffer"]
            grad = grad + mu * buf if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class Adagrad(_BaseOptimizer):
    non_negative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def _init_state(self, state, p, group):
        state["step"] = 0
        state["sum"] = torch.zeros_like(p).add_(group["initial_accumulator_value"])

    def _update(self, p, grad, state, group):
        state["step"] += 1
        state["sum"].addcmul_(grad, grad)
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        p.addcdiv_(grad, state["sum"].sqrt() + group["eps"], value=-lr_t)


class RMSprop(_BaseOptimizer):
    non_negative = ("lr", "eps", "momentum", "weight_decay", "alpha")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered, maximize=maximize)

    def _init_state(self, state, p, group):
        state["step"] = 0
        state["square_avg"] = torch.zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = torch.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(p)

    def _update(self, p, grad, state, group):
        alpha = group["alpha"]
        state["step"] += 1
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            state["grad_avg"].mul_(alpha).add_(grad, alpha=1 - alpha)
            denom = (v - state["grad_avg"] ** 2).sqrt() + group["eps"]
        else:
            denom = v.sqrt() + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).add_(grad / denom)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.add_(grad / denom, alpha=-group["lr"])


class Adam(_BaseOptimizer):
    non_negative = ("lr", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)

    def _init_state(self, state, p, group):
        state["step"] = 0
        for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ()):
            state[key] = torch.zeros_like(p)

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.maximum(state["max_exp_avg_sq"], v)
            v = state["max_exp_avg_sq"]
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])
