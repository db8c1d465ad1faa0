"""My optimizers. The torch.optim classes are imported under other names only for the comparison in
the __main__ block at the bottom. Imports sorted by `ruff check --select I --fix` (combine-as-imports)."""

import math

import torch
from torch.optim import (
    SGD as TorchSGD,
    Adagrad as TorchAdagrad,
    Adam as TorchAdam,
    Optimizer,
    RMSprop as TorchRMSprop,
)


def _prepared_grad(p, maximize, weight_decay):
    g = p.grad.neg() if maximize else p.grad
    return g.add(p, alpha=weight_decay) if weight_decay else g


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        if lr < 0:
            raise ValueError("lr must be >= 0")
        if momentum < 0:
            raise ValueError("momentum must be >= 0")
        if weight_decay < 0:
            raise ValueError("weight_decay must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening == 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            mu, tau = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = _prepared_grad(p, group["maximize"], group["weight_decay"])
                if mu:
                    st = self.state[p]
                    if "momentum_buffer" in st:
                        st["momentum_buffer"].mul_(mu).add_(d, alpha=1 - tau)
                    else:
                        st["momentum_buffer"] = d.clone()
                    b = st["momentum_buffer"]
                    d = d.add(b, alpha=mu) if group["nesterov"] else b
                p.add_(d, alpha=-group["lr"])
        return loss


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        for k, v in (("lr", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                     ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)):
            if v < 0:
                raise ValueError(f"{k} must be >= 0, got {v}")
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
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                g = _prepared_grad(p, group["maximize"], group["weight_decay"])
                st["step"] += 1
                st["sum"].addcmul_(g, g)
                clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
                p.addcdiv_(g, st["sum"].sqrt().add_(group["eps"]), value=-clr)
        return loss


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        for k, v in (("lr", lr), ("eps", eps), ("momentum", momentum), ("weight_decay", weight_decay),
                     ("alpha", alpha)):
            if v < 0:
                raise ValueError(f"{k} must be >= 0, got {v}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            a = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        st["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        st["grad_avg"] = torch.zeros_like(p)
                g = _prepared_grad(p, group["maximize"], group["weight_decay"])
                st["step"] += 1
                st["square_avg"].mul_(a).addcmul_(g, g, value=1 - a)
                if group["centered"]:
                    st["grad_avg"].mul_(a).add_(g, alpha=1 - a)
                    denom = st["square_avg"].addcmul(st["grad_avg"], st["grad_avg"], value=-1).sqrt_()
                else:
                    denom = st["square_avg"].sqrt()
                denom.add_(group["eps"])
                if group["momentum"] > 0:
                    st["momentum_buffer"].mul_(group["momentum"]).addcdiv_(g, denom)
                    p.add_(st["momentum_buffer"], alpha=-group["lr"])
                else:
                    p.addcdiv_(g, denom, value=-group["lr"])
        return loss


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError("lr, eps and weight_decay must be >= 0")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p)
                g = _prepared_grad(p, group["maximize"], group["weight_decay"])
                st["step"] += 1
                t = st["step"]
                st["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                st["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = st["exp_avg_sq"]
                if group["amsgrad"]:
                    st["max_exp_avg_sq"].copy_(torch.maximum(st["max_exp_avg_sq"], v))
                    v = st["max_exp_avg_sq"]
                denom = (v.sqrt() / math.sqrt(1 - b2 ** t)).add_(group["eps"])
                p.addcdiv_(st["exp_avg"], denom, value=-group["lr"] / (1 - b1 ** t))
        return loss


if __name__ == "__main__":
    torch.manual_seed(0)
    pairs = [(SGD, TorchSGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
             (SGD, TorchSGD, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01, maximize=True)),
             (Adagrad, TorchAdagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
             (RMSprop, TorchRMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
             (Adam, TorchAdam, dict(lr=0.01, amsgrad=True, weight_decay=0.1))]
    for mine_cls, ref_cls, kw in pairs:
        x = torch.randn(10, dtype=torch.float64)
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        mine, ref = mine_cls([a], **kw), ref_cls([b], foreach=False, **kw)
        for _ in range(50):
            g = torch.randn(10, dtype=torch.float64)
            a.grad, b.grad = g.clone(), g.clone()
            mine.step()
            ref.step()
        print(f"{mine_cls.__name__:8s} {kw}: max diff {(a - b).abs().max().item():.2e}")
