from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

Closure = Callable[[], Tensor]
State = dict[str, Any]


def _grad_for_update(p: Tensor, group: dict[str, Any]) -> Tensor:
    grad: Tensor = p.grad  # type: ignore[assignment]
    if group["maximize"]:
        grad = torch.neg(grad)
    wd: float = group["weight_decay"]
    if wd != 0:
        grad = torch.add(grad, p, alpha=wd)
    return grad


def _run_closure(closure: Closure | None) -> Tensor | None:
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0 or momentum < 0.0 or weight_decay < 0.0:
            raise ValueError(f"invalid SGD hyper-parameters: lr={lr}, momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults: dict[str, Any] = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure | None = None) -> Tensor | None:  # type: ignore[override]
        loss = _run_closure(closure)
        for group in self.param_groups:
            momentum: float = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p: Tensor = _grad_for_update(p, group)
                if momentum != 0.0:
                    state: State = self.state[p]
                    buf: Tensor | None = state.get("momentum_buffer")
                    if buf is None:
                        buf = d_p.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(momentum).add_(d_p, alpha=1.0 - group["dampening"])
                    d_p = d_p.add(buf, alpha=momentum) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])
        return loss


class Adagrad(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        checks: dict[str, float] = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        for key, value in checks.items():
            if value < 0.0:
                raise ValueError(f"Invalid {key}: {value}")
        super().__init__(params, {**checks, "maximize": maximize})

    @torch.no_grad()
    def step(self, closure: Closure | None = None) -> Tensor | None:  # type: ignore[override]
        loss = _run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state: State = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                grad = _grad_for_update(p, group)
                state["step"] += 1
                step: int = state["step"]
                clr: float = group["lr"] / (1.0 + (step - 1) * group["lr_decay"])
                acc: Tensor = state["sum"]
                acc.addcmul_(grad, grad, value=1.0)
                p.addcdiv_(grad, acc.sqrt().add_(group["eps"]), value=-clr)
        return loss


class RMSprop(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        for key, value in (("lr", lr), ("eps", eps), ("momentum", momentum), ("weight_decay", weight_decay),
                           ("alpha", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {key}: {value}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @torch.no_grad()
    def step(self, closure: Closure | None = None) -> Tensor | None:  # type: ignore[override]
        loss = _run_closure(closure)
        for group in self.param_groups:
            alpha: float = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state: State = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0.0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                grad = _grad_for_update(p, group)
                state["step"] += 1
                square_avg: Tensor = state["square_avg"]
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1.0 - alpha)
                if group["centered"]:
                    grad_avg: Tensor = state["grad_avg"]
                    grad_avg.lerp_(grad, 1.0 - alpha)
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1.0).sqrt_().add_(group["eps"])
                else:
                    avg = square_avg.sqrt().add_(group["eps"])
                if group["momentum"] > 0.0:
                    buf: Tensor = state["momentum_buffer"]
                    buf.mul_(group["momentum"]).addcdiv_(grad, avg)
                    p.add_(buf, alpha=-group["lr"])
                else:
                    p.addcdiv_(grad, avg, value=-group["lr"])
        return loss


class Adam(Optimizer):
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self, closure: Closure | None = None) -> Tensor | None:  # type: ignore[override]
        loss = _run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state: State = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                grad = _grad_for_update(p, group)
                state["step"] += 1
                t: int = state["step"]
                m: Tensor = state["exp_avg"]
                v: Tensor = state["exp_avg_sq"]
                m.lerp_(grad, 1.0 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                if group["amsgrad"]:
                    v_max: Tensor = state["max_exp_avg_sq"]
                    torch.maximum(v_max, v, out=v_max)
                    v = v_max
                bc1: float = 1.0 - beta1**t
                bc2_sqrt: float = math.sqrt(1.0 - beta2**t)
                denom = (v.sqrt() / bc2_sqrt).add_(group["eps"])
                p.addcdiv_(m, denom, value=-group["lr"] / bc1)
        return loss
