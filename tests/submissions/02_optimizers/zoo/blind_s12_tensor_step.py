"""Step counters kept as tensors (as torch.optim does), the update written out of place and applied
with p.copy_, and torch.no_grad() used as a context manager inside step."""
import torch
from torch.optim import Optimizer


def _validate(**kwargs):
    bad = [f"{k}={v}" for k, v in kwargs.items() if v < 0]
    if bad:
        raise ValueError("hyper-parameters must be non-negative: " + ", ".join(bad))


def _closure_loss(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def _effective_grad(p, group):
    grad = p.grad
    if group["maximize"]:
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad + group["weight_decay"] * p
    return grad


def _new_step():
    return torch.tensor(0.0, dtype=torch.float64)


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        _validate(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize})

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with torch.no_grad():
            for group in self.param_groups:
                mu = group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = _effective_grad(p, group)
                    if mu != 0:
                        state = self.state[p]
                        if state.get("momentum_buffer") is None:
                            state["momentum_buffer"] = g.clone()
                        else:
                            state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
                        buf = state["momentum_buffer"]
                        g = g + mu * buf if group["nesterov"] else buf
                    p.copy_(p - group["lr"] * g)
        return loss


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        _validate(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                  initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "eps": eps,
                                  "maximize": maximize})

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = _new_step()
                        state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                    g = _effective_grad(p, group)
                    state["step"] += 1
                    clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                    state["sum"] = state["sum"] + g * g
                    p.copy_(p - clr * g / (state["sum"].sqrt() + group["eps"]))
        return loss


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        _validate(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": centered, "maximize": maximize})

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with torch.no_grad():
            for group in self.param_groups:
                a = group["alpha"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = _new_step()
                        state["square_avg"] = torch.zeros_like(p)
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = torch.zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = torch.zeros_like(p)
                    g = _effective_grad(p, group)
                    state["step"] += 1
                    state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
                    v = state["square_avg"]
                    if group["centered"]:
                        state["grad_avg"] = a * state["grad_avg"] + (1 - a) * g
                        v = v - state["grad_avg"] * state["grad_avg"]
                    denom = v.sqrt() + group["eps"]
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = group["momentum"] * state["momentum_buffer"] + g / denom
                        p.copy_(p - group["lr"] * state["momentum_buffer"])
                    else:
                        p.copy_(p - group["lr"] * g / denom)
        return loss


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        _validate(lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must lie in [0, 1): {betas}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize})

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with torch.no_grad():
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = _new_step()
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = torch.zeros_like(p)
                    g = _effective_grad(p, group)
                    state["step"] += 1
                    t = state["step"]
                    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
                    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
                    v = state["exp_avg_sq"]
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.maximum(state["max_exp_avg_sq"], v)
                        v = state["max_exp_avg_sq"]
                    m_hat = state["exp_avg"] / (1 - b1 ** t)
                    v_hat = v / (1 - b2 ** t)
                    p.copy_(p - group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss
