"""02 - optimizers (student export).

All four optimizers share one base class: it validates hyper-parameters, runs the
closure, gathers the parameters that have a gradient in each group together with
their state, and hands whole lists to `_update`, which each optimizer writes with
the multi-tensor `torch._foreach_*` ops. State is created eagerly in __init__.
"""

from typing import Dict, List

import torch
from torch import Tensor
from torch.optim import Optimizer


class _ListOptimizer(Optimizer):
    # names of hyper-parameters that must be >= 0
    non_negative: tuple = ()

    def __init__(self, params, defaults: Dict):
        for name in self.non_negative:
            if defaults[name] < 0:
                raise ValueError(f"Invalid {name} value: {defaults[name]}")
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, state: Dict, p: Tensor, group: Dict) -> None:
        pass

    def _update(self, group: Dict, params: List[Tensor], grads: List[Tensor],
                states: List[Dict]) -> None:
        raise NotImplementedError

    @staticmethod
    def _grads(group: Dict, params: List[Tensor]) -> List[Tensor]:
        grads = [p.grad for p in params]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if group["weight_decay"] != 0:
            grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
        return grads

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
            states = []
            for p in params:
                if len(self.state[p]) == 0:  # a param added after __init__
                    self._init_state(self.state[p], p, group)
                states.append(self.state[p])
            self._update(group, params, self._grads(group, params), states)
        return loss


class SGD(_ListOptimizer):
    non_negative = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if nesterov and not (momentum > 0 and dampening == 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, group, params, grads, states):
        mu = group["momentum"]
        if mu != 0:
            old = [s for s in states if "momentum_buffer" in s]
            if old:
                bufs = [s["momentum_buffer"] for s in old]
                old_grads = [g for g, s in zip(grads, states) if "momentum_buffer" in s]
                torch._foreach_mul_(bufs, mu)
                torch._foreach_add_(bufs, old_grads, alpha=1 - group["dampening"])
            for g, s in zip(grads, states):
                if "momentum_buffer" not in s:
                    s["momentum_buffer"] = g.clone()
            bufs = [s["momentum_buffer"] for s in states]
            if group["nesterov"]:
                grads = torch._foreach_add(grads, bufs, alpha=mu)
            else:
                grads = bufs
        torch._foreach_add_(params, grads, alpha=-group["lr"])


class Adagrad(_ListOptimizer):
    non_negative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _init_state(self, state, p, group):
        state["step"] = torch.tensor(0.0)
        state["sum"] = torch.full_like(p, group["initial_accumulator_value"])

    def _update(self, group, params, grads, states):
        steps = [s["step"] for s in states]
        sums = [s["sum"] for s in states]
        torch._foreach_add_(steps, 1)
        torch._foreach_addcmul_(sums, grads, grads)
        std = torch._foreach_sqrt(sums)
        torch._foreach_add_(std, group["eps"])
        clrs = [-group["lr"] / (1 + (t.item() - 1) * group["lr_decay"]) for t in steps]
        torch._foreach_addcdiv_(params, grads, std, clrs)


class RMSprop(_ListOptimizer):
    non_negative = ("lr", "eps", "momentum", "weight_decay", "alpha")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _init_state(self, state, p, group):
        state["step"] = torch.tensor(0.0)
        state["square_avg"] = torch.zeros_like(p)
        state["grad_avg"] = torch.zeros_like(p)
        state["momentum_buffer"] = torch.zeros_like(p)

    def _update(self, group, params, grads, states):
        alpha = group["alpha"]
        torch._foreach_add_([s["step"] for s in states], 1)
        square_avgs = [s["square_avg"] for s in states]
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        if group["centered"]:
            grad_avgs = [s["grad_avg"] for s in states]
            torch._foreach_lerp_(grad_avgs, grads, 1 - alpha)
            avg = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1)
            torch._foreach_sqrt_(avg)
        else:
            avg = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(avg, group["eps"])
        if group["momentum"] > 0:
            bufs = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(bufs, group["momentum"])
            torch._foreach_addcdiv_(bufs, grads, avg)
            torch._foreach_add_(params, bufs, alpha=-group["lr"])
        else:
            torch._foreach_addcdiv_(params, grads, avg, value=-group["lr"])


class Adam(_ListOptimizer):
    non_negative = ("lr", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _init_state(self, state, p, group):
        state["step"] = torch.tensor(0.0)
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        state["max_exp_avg_sq"] = torch.zeros_like(p)

    def _update(self, group, params, grads, states):
        beta1, beta2 = group["betas"]
        steps = [s["step"] for s in states]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        torch._foreach_add_(steps, 1)
        torch._foreach_mul_(exp_avgs, beta1)
        torch._foreach_add_(exp_avgs, grads, alpha=1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        if group["amsgrad"]:
            second = [s["max_exp_avg_sq"] for s in states]
            torch._foreach_maximum_(second, exp_avg_sqs)
        else:
            second = exp_avg_sqs
        ts = [t.item() for t in steps]
        denom = torch._foreach_sqrt(second)
        torch._foreach_div_(denom, [(1 - beta2 ** t) ** 0.5 for t in ts])
        torch._foreach_add_(denom, group["eps"])
        step_sizes = [-group["lr"] / (1 - beta1 ** t) for t in ts]
        torch._foreach_addcdiv_(params, exp_avgs, denom, step_sizes)
