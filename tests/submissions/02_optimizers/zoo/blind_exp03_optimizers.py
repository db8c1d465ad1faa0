#!/usr/bin/env python
# coding: utf-8

# # Assignment 2 · Optimizers: momentum, AdaGrad, RMSProp, Adam
# 
# This notebook follows the second part of the lecture: the modifications of gradient descent. You will
# write four optimizers as real PyTorch optimizers — drop-in replacements for the ones in `torch.optim`,
# step for step the same numbers:
# 
# | graded name | lecture idea |
# |---|---|
# | `SGD` | momentum against the zig-zag (plus dampening, Nesterov, weight decay, maximize) |
# | `Adagrad` | a step size per coordinate, for sparse features |
# | `RMSprop` | AdaGrad with a forgetting average |
# | `Adam` | momentum + RMSProp, with bias correction |
# 
# **How this notebook is organised.** *Solution cells* hold a signature and a docstring: replace each
# `raise NotImplementedError(...)` line with your code and keep names, signatures and defaults. A read-only
# *self-check cell* follows each solution cell with a few quick public checks. Cells tagged `experiment`
# (training runs and plots) use your optimizers to show the lecture's examples; the grader skips them.
# 
# **Rules for graded code.** Implement the update rules yourself with tensor operations. Delegating to
# PyTorch's implementation scores zero for that item: do not subclass or call `torch.optim.SGD`, `Adagrad`,
# `RMSprop`, `Adam` (or any other `torch.optim` optimizer) nor their functional forms
# (`torch.optim.sgd`, `torch.optim._functional`, ...), and do not import the course kit. Subclassing the
# base class `torch.optim.Optimizer` is required.

# In[1]:


# Imports every part of this notebook uses. Non-experiment cells must stay fast and free of side
# effects: the grader runs them (and only them) as one module.
import math

import torch
from torch.optim import Optimizer

device = "cuda" if torch.cuda.is_available() else "cpu"


# ## 0. Anatomy of a PyTorch optimizer
# 
# `torch.optim.Optimizer` does the bookkeeping; a subclass only validates its hyper-parameters and writes
# `step`.
# 
# * `super().__init__(params, defaults)` turns `params` (an iterable of tensors, or of dicts such as
#   `[{"params": [...], "lr": 0.1}, {"params": [...]}]`) into `self.param_groups`: a list of dicts, each
#   with its tensors under `"params"` and every key of `defaults` that the group did not set itself.
# * `self.state` is a `defaultdict(dict)` keyed by parameter: `self.state[p]` is an empty dict until you
#   store something in it (moving averages, step counters, ...).
# * `state_dict()` / `load_state_dict()` (inherited) save and restore the param groups' hyper-parameters
#   and everything in `self.state`. If all your state lives there, a restored optimizer continues exactly
#   where the old one stopped.
# * `zero_grad()` is inherited as well.
# 
# A `step` usually looks like this:
# 
# ```python
# @torch.no_grad()                      # updates are not part of the autograd graph
# def step(self, closure=None):
#     loss = None
#     if closure is not None:           # the closure recomputes the loss and the gradients
#         with torch.enable_grad():
#             loss = closure()
#     for group in self.param_groups:   # read hyper-parameters from the group, at every step
#         for p in group["params"]:
#             if p.grad is None:        # parameters without a gradient are left alone
#                 continue
#             state = self.state[p]     # empty on the first step: create the state lazily
#             ...                       # update p in place: p.add_(...), p.addcdiv_(...)
#     return loss
# ```
# 
# **Contract shared by all four optimizers.**
# 
# * Parameter names and defaults exactly as `torch.optim` (given in each signature below); `maximize` is
#   keyword-only. The grader passes every hyper-parameter by keyword.
# * Raise `ValueError` in the constructor where torch does: a negative `lr`, `eps`, `weight_decay`,
#   `momentum`, `alpha`, `lr_decay` or `initial_accumulator_value`; a beta outside $[0, 1)$; Nesterov
#   without momentum or with dampening.
# * At every step read the hyper-parameters from the param group, so that each group uses its own values
#   and a scheduler that changes `group["lr"]` takes effect.
# * `maximize=True` negates the gradient first; `weight_decay` then adds the L2 term:
#   $g \leftarrow g + \lambda w$ (do not modify `p.grad` in place: build a new tensor).
# * Keep per-parameter state in `self.state[p]`, preferably under torch's names (`momentum_buffer`,
#   `step`, `sum`, `square_avg`, `grad_avg`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`), created lazily on
#   the first step or eagerly in the constructor, as tensors shaped like `p` (`torch.zeros_like(p)`), so that
#   float32, float64 and GPU parameters all work.
# * `step(closure)` re-evaluates the closure with gradients enabled and returns its loss (`None` without a
#   closure).

# ### Code that runs where the data lives: GPUs and the `meta` device
# 
# The lecture's optimizers run their update on every parameter at every step, and in practice the
# parameters live on a GPU. The GPU works through a queue of kernels that Python fills ahead of it; it
# only runs fast while Python never has to wait for a result. Reading a value on the host (`t.item()`,
# `float(t)`, `if t > 0:` on a tensor, `print(t)`) makes Python wait until the GPU has caught up: a **host
# sync** that stalls the pipeline at every step. And a tensor created without a device
# (`torch.zeros(p.shape)`) lives on the CPU: mixing it with GPU tensors raises, or silently keeps state
# on the wrong device.
# 
# So in `step()`: keep every value a tensor (or a plain Python number computed from hyper-parameters and
# step counts, as torch does), and create state with `torch.zeros_like(p)` or `device=p.device`.
# 
# You can check this without a GPU. PyTorch's **`meta` device** has tensors with shapes and dtypes but no
# data: every operation works out the shape of its result and nothing else. Your optimizer runs there
# unchanged if it is device-portable, and raises on a host sync (there is no value to read). Each self-check
# below ends with one step on `meta` parameters; the grader runs more configurations (a `.device` line per
# optimizer) and also checks that every state tensor sits on the parameter's device.

# ## 1. The zig-zag problem and momentum: `SGD`
# 
# Take an elongated quadratic bowl $Q(w) = \tfrac12 (\lambda_1 w_1^2 + \lambda_2 w_2^2)$ with
# $\lambda_1 \ll \lambda_2$. A gradient step multiplies each coordinate by its own factor,
# 
# $$w_i^{t} = (1 - \eta \lambda_i)\, w_i^{t-1}.$$
# 
# Stability in the steep direction forces $\eta < 2 / \lambda_2$. With such a step, $1 - \eta\lambda_2$ is
# negative, so $w_2$ flips sign at every step (the **zig-zag** across the valley), while
# $1 - \eta\lambda_1$ is close to 1, so progress along the valley floor is slow.
# 
# **Momentum** lets the step remember where it was going. The lecture writes it with a velocity $h_t$:
# 
# $$h_t = \alpha\, h_{t-1} + \eta_t\, \nabla Q(w^{t-1}), \qquad w^{t} = w^{t-1} - h_t .$$
# 
# Components of the gradient that keep their sign add up (up to a factor $1/(1-\alpha)$), components that
# flip sign cancel: the path is smoothed out and moves faster along the valley.
# 
# ### What `torch.optim.SGD` computes
# 
# With gradient $g_t$ (after `maximize` and weight decay), momentum $\mu$ and dampening $\tau$, PyTorch
# keeps a buffer $b_t$ *without* the learning rate:
# 
# $$b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (t \ge 2),$$
# 
# $$w^{t} = w^{t-1} - \eta_t\, d_t, \qquad d_t = \begin{cases} g_t + \mu\, b_t & \text{Nesterov,}\\ b_t & \text{otherwise.}\end{cases}$$
# 
# How this relates to the lecture, and why:
# 
# * **The learning rate sits outside the buffer.** For a constant $\eta$ and $\tau = 0$ the two forms give
#   identical iterates, because $h_t = \eta\, b_t$. They differ when $\eta_t$ changes: in the lecture's form
#   past steps keep the step size they were taken with, while in PyTorch's form a new learning rate
#   rescales the whole velocity at once. PyTorch's choice makes a scheduler act immediately and keeps
#   the state independent of the learning rate.
# * **Dampening** $\tau$ shrinks the contribution of each new gradient (default 0). The first step copies
#   the gradient into the buffer without dampening, so the buffer does not start at zero.
# * **Nesterov momentum** corrects the step with a "look-ahead": PyTorch uses the reformulation
#   $d_t = g_t + \mu b_t$ of Sutskever et al. (2013), which needs only the gradient at the current point.
#   It requires $\mu > 0$ and $\tau = 0$.
# * With $\mu = 0$ there is no buffer at all: plain SGD, $w \leftarrow w - \eta g$.
# 
# **Contract of `SGD(params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *, maximize=False)`:**
# the formulas above, the shared contract of section 0, and `ValueError` for `lr < 0`, `momentum < 0`,
# `weight_decay < 0`, or `nesterov=True` with `momentum <= 0` or `dampening != 0`. Store the buffer as
# `self.state[p]["momentum_buffer"]`.

# Before writing my own: torch's SGD on the bowl, to know what to expect.

# In[2]:


from torch.optim import SGD

w_try = torch.tensor([-4.0, 1.0], requires_grad=True)
opt_try = SGD([w_try], lr=0.075, momentum=0.5)
for _ in range(40):
    opt_try.zero_grad()
    (0.5 * (torch.tensor([1.0, 25.0]) * w_try ** 2).sum()).backward()
    opt_try.step()
print("torch SGD ends at", w_try.detach())


# In[3]:


import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p if group["weight_decay"] != 0 else g
                if mu != 0:
                    state = self.state[p]
                    b = state.get("momentum_buffer")
                    b = g.clone() if b is None else mu * b + (1 - tau) * g
                    state["momentum_buffer"] = b
                    g = g + mu * b if group["nesterov"] else b
                p.sub_(lr * g)
        return loss


# In[4]:


# Public self-check: plain and momentum steps with known values, one error, and the closure.
_p = torch.tensor([1.0, -2.0], requires_grad=True)
_opt = SGD([_p], lr=0.1, momentum=0.9)
for _expected in ([0.9, -2.1], [0.71, -2.29]):  # buffers: g, then 0.9 * g + g
    _p.grad = torch.tensor([1.0, 1.0])
    _opt.step()
    assert torch.allclose(_p.detach(), torch.tensor(_expected)), _p
try:
    SGD([_p], lr=0.1, nesterov=True)
except ValueError:
    pass
else:
    raise AssertionError("nesterov without momentum should raise ValueError")
_q = torch.tensor([3.0], requires_grad=True)
_opt = SGD([_q], lr=0.5)
def _closure():
    _opt.zero_grad()
    loss = (_q ** 2).sum()
    loss.backward()
    return loss
assert _opt.step(_closure).item() == 9.0 and _q.item() == 0.0
# Device-portable: two steps on the meta device (shapes only, no data), state on the parameter's device.
_m = torch.zeros(3, device="meta", requires_grad=True)
_opt = SGD([_m], lr=0.1, momentum=0.9)
for _ in range(2):
    _m.grad = torch.ones_like(_m)
    _opt.step()
assert all(t.device == _m.device for t in _opt.state[_m].values() if torch.is_tensor(t) and t.dim() > 0), \
    "create the state on the parameter's device (torch.zeros_like(p))"
print("SGD: public self-check passed")


# ## 2. Sparse features and AdaGrad: `Adagrad`
# 
# With one-hot encoded features some columns are non-zero in most objects (*popular* features) and others
# only rarely (*rare* features). A weight only receives a gradient when its feature is non-zero:
# 
# | object | popular | rare |
# |:---:|:---:|:---:|
# | 1 | 1 | 0 |
# | 2 | 0 | 0 |
# | 3 | 1 | 0 |
# | 4 | 1 | 0 |
# | 5 | 1 | 0 |
# | 6 | 0 | 0 |
# | 7 | 0 | 1 |
# 
# Running SGD over these seven objects updates the popular weight four times and the rare one once. With a
# decaying global step such as $\eta_t = 0.1/t^{0.3}$, the rare weight's few updates arrive when the steps
# have already become small, so it learns very slowly.
# 
# **AdaGrad** gives every coordinate $j$ its own step size, shrinking with the gradient it has already
# received:
# 
# $$G_j^{t} = G_j^{t-1} + \bigl(\nabla Q(w^{t-1})\bigr)_j^2, \qquad
# w_j^{t} = w_j^{t-1} - \frac{\eta_t}{\sqrt{G_j^{t} + \varepsilon}}\, \bigl(\nabla Q(w^{t-1})\bigr)_j .$$
# 
# Rarely updated coordinates keep a small $G_j$ and therefore a large step. The learning rate can often
# stay fixed. The drawback: $G_j$ only grows, so steps may shrink too fast and learning stops early.
# 
# ### What `torch.optim.Adagrad` computes
# 
# $$\tilde\eta_t = \frac{\eta}{1 + (t - 1)\,\delta}, \qquad G^{t} = G^{t-1} + g_t \odot g_t, \qquad
# w^{t} = w^{t-1} - \tilde\eta_t\, \frac{g_t}{\sqrt{G^{t}} + \varepsilon},$$
# 
# with $G^0$ = `initial_accumulator_value` (0 by default), `lr_decay` $\delta$, and $t$ this parameter's
# step count (1 on its first step).
# 
# * **$\varepsilon$ outside the square root.** It only guards against a division by zero (default
#   $10^{-10}$). Under the root, as in the lecture, it would put a floor of $\sqrt{\varepsilon}$ on the
#   denominator, which matters as soon as gradients are small: the update would then depend on the scale
#   of the gradients, which is exactly what AdaGrad tries to remove.
# * **`lr_decay`** is an optional built-in $1/t$-type decay of the step size.
# 
# **Contract of `Adagrad(params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, *, maximize=False)`:**
# the formulas above and the shared contract; `ValueError` for negative `lr`, `lr_decay`, `weight_decay`,
# `initial_accumulator_value` or `eps`. Keep the accumulator in `self.state[p]["sum"]` and the step count
# in `self.state[p]["step"]`. Take `initial_accumulator_value` from **the param group** when you create the
# accumulator (note: `torch.optim.Adagrad` itself only uses the constructor's value; the grader expects the
# group's).

# In[5]:


import torch
from torch.optim import Optimizer


class Adagrad(Optimizer):
    """AdaGrad: per-coordinate step sizes ``lr / (sqrt(sum of squared gradients) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        for name, value in (("lr", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)):
            if value < 0.0:
                raise ValueError(f"Invalid {name} value: {value}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "sum" not in state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * p
                state["step"] += 1
                state["sum"] = state["sum"] + g * g
                lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                p.sub_(lr_t * g / (torch.sqrt(state["sum"]) + group["eps"]))
        return loss


# In[6]:


# Public self-check: from a zero accumulator the first step moves every coordinate by lr * sign(g).
_p = torch.tensor([1.0, 1.0, 1.0], requires_grad=True)
_opt = Adagrad([_p], lr=0.1)
_p.grad = torch.tensor([4.0, -0.01, 0.0])
_opt.step()
assert torch.allclose(_p.detach(), torch.tensor([0.9, 1.1, 1.0])), _p
_p.grad = torch.tensor([3.0, 0.0, 0.0])
_opt.step()  # accumulator 16 + 9 = 25: step 0.1 * 3 / 5
assert torch.allclose(_p.detach(), torch.tensor([0.84, 1.1, 1.0])), _p
try:
    Adagrad([_p], lr_decay=-1.0)
except ValueError:
    pass
else:
    raise AssertionError("a negative lr_decay should raise ValueError")
# Device-portable: two steps on the meta device (shapes only, no data), state on the parameter's device.
_m = torch.zeros(3, device="meta", requires_grad=True)
_opt = Adagrad([_m], lr=0.1, weight_decay=0.1)
for _ in range(2):
    _m.grad = torch.ones_like(_m)
    _opt.step()
assert all(t.device == _m.device for t in _opt.state[_m].values() if torch.is_tensor(t) and t.dim() > 0), \
    "create the state on the parameter's device (torch.zeros_like(p))"
print("Adagrad: public self-check passed")


# ## 3. RMSProp: `RMSprop`
# 
# RMSProp replaces AdaGrad's ever-growing sum by an exponentially decaying average of squared gradients,
# so the step size depends on the recent past only:
# 
# $$G_j^{t} = \alpha\, G_j^{t-1} + (1 - \alpha)\bigl(\nabla Q(w^{t-1})\bigr)_j^2, \qquad
# w_j^{t} = w_j^{t-1} - \frac{\eta_t}{\sqrt{G_j^{t} + \varepsilon}}\, \bigl(\nabla Q(w^{t-1})\bigr)_j .$$
# 
# The lecture suggests $\alpha \approx 0.9$; PyTorch's default is `alpha=0.99`.
# 
# ### What `torch.optim.RMSprop` computes
# 
# $$v_t = \alpha v_{t-1} + (1 - \alpha)\, g_t \odot g_t \quad (v_0 = 0), \qquad
# s_t = \sqrt{v_t} + \varepsilon \quad \text{or, centered,} \quad s_t = \sqrt{v_t - \bar g_t \odot \bar g_t} + \varepsilon,
# \quad \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t ,$$
# 
# $$\text{without momentum: } w^{t} = w^{t-1} - \eta\, \frac{g_t}{s_t}; \qquad
# \text{with momentum } \mu > 0: \; b_t = \mu b_{t-1} + \frac{g_t}{s_t} \;(b_0 = 0), \quad w^{t} = w^{t-1} - \eta\, b_t .$$
# 
# * Again $\varepsilon$ is added *outside* the square root (default $10^{-8}$).
# * `centered=True` divides by an estimate of the gradient's standard deviation instead of its root mean
#   square.
# * The momentum buffer accumulates already-normalised steps and starts at **zero** (unlike `SGD`, whose
#   buffer starts at the first gradient).
# 
# **Contract of `RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *, maximize=False)`:**
# the formulas above and the shared contract; `ValueError` for negative `lr`, `eps`, `momentum`,
# `weight_decay` or `alpha`. State names: `step`, `square_avg`, `momentum_buffer` (when `momentum > 0`),
# `grad_avg` (when centered).

# In[7]:


import torch
from torch.optim import Optimizer


class RMSprop(Optimizer):
    """RMSProp: divide by the root of a moving average of squared gradients (optionally centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        for name, value in (("lr", lr), ("eps", eps), ("momentum", momentum), ("weight_decay", weight_decay),
                            ("alpha", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {name} value: {value}")
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
                    "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            a = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "square_avg" not in state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * p
                state["step"] += 1
                state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
                if group["centered"]:
                    state["grad_avg"] = a * state["grad_avg"] + (1 - a) * g
                    s = torch.sqrt(state["square_avg"] - state["grad_avg"] ** 2) + group["eps"]
                else:
                    s = torch.sqrt(state["square_avg"]) + group["eps"]
                if group["momentum"] > 0:
                    state["momentum_buffer"] = group["momentum"] * state["momentum_buffer"] + g / s
                    p.sub_(group["lr"] * state["momentum_buffer"])
                else:
                    p.sub_(group["lr"] * g / s)
        return loss


# In[8]:


# Public self-check: first step from v = 0 is lr * g / (sqrt(1 - alpha) * |g| + eps).
_p = torch.tensor([0.0, 0.0], requires_grad=True, dtype=torch.float64)
_opt = RMSprop([_p], lr=0.01, alpha=0.99)
_p.grad = torch.tensor([2.0, -0.5], dtype=torch.float64)
_opt.step()
_expected = -0.01 * _p.grad / (0.1 * _p.grad.abs() + 1e-8)
assert torch.allclose(_p.detach(), _expected), _p
try:
    RMSprop([_p], alpha=-0.5)
except ValueError:
    pass
else:
    raise AssertionError("a negative alpha should raise ValueError")
# Device-portable: two steps on the meta device (shapes only, no data), state on the parameter's device.
_m = torch.zeros(3, device="meta", requires_grad=True)
_opt = RMSprop([_m], lr=0.1, momentum=0.9, centered=True)
for _ in range(2):
    _m.grad = torch.ones_like(_m)
    _opt.step()
assert all(t.device == _m.device for t in _opt.state[_m].values() if torch.is_tensor(t) and t.dim() > 0), \
    "create the state on the parameter's device (torch.zeros_like(p))"
print("RMSprop: public self-check passed")


# ## 4. Adam = momentum + RMSProp: `Adam`
# 
# Adam keeps two exponential moving averages per coordinate: of the gradient (the momentum part) and of
# its square (the RMSProp part). The lecture writes
# 
# $$m_j^{t} = \frac{\beta_1 m_j^{t-1} + (1 - \beta_1)\, g_j}{1 - \beta_1^{t}}, \qquad
# v_j^{t} = \frac{\beta_2 v_j^{t-1} + (1 - \beta_2)\, g_j^2}{1 - \beta_2^{t}}, \qquad
# w_j^{t} = w_j^{t-1} - \frac{\eta_t}{\sqrt{v_j^{t} + \varepsilon}}\, m_j^{t},$$
# 
# with the recommended $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\varepsilon = 10^{-8}$.
# 
# **Why divide by $1 - \beta^t$?** The averages start at zero, so early on they are biased towards zero:
# for a constant gradient $g$, $\beta_1 m^{t-1} + (1 - \beta_1) g$ unrolled from $m^0 = 0$ equals
# $(1 - \beta_1^t)\, g$. Dividing by $1 - \beta_1^t$ removes exactly that factor.
# 
# ### What `torch.optim.Adam` computes
# 
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t
# \qquad (m_0 = v_0 = 0),$$
# 
# $$w^{t} = w^{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot \frac{m_t}{\sqrt{v_t}\,/\sqrt{1 - \beta_2^t} + \varepsilon}
# \;=\; w^{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}, \qquad
# \hat m_t = \frac{m_t}{1 - \beta_1^t},\; \hat v_t = \frac{v_t}{1 - \beta_2^t}.$$
# 
# Two differences from the slide, both deliberate (the notebook's experiments show their effect):
# 
# * **The bias correction is applied when the averages are *used*, not stored.** The state keeps the raw
#   $m_t, v_t$. Read literally, the slide feeds the corrected values back into the recursions: both
#   averages then grow far beyond the gradient (the second one much faster, because $1 - \beta_2^t$ is tiny
#   for small $t$), and the steps collapse towards zero within a few iterations.
# * **$\varepsilon$ is added outside the square root**, as in AdaGrad and RMSProp. Under the root,
#   $\sqrt{v + 10^{-8}} \ge 10^{-4}$, so for gradients much smaller than $10^{-4}$ the step would shrink with
#   the gradient instead of staying about $\eta$.
# 
# Further options of `torch.optim.Adam` that you implement:
# 
# * `weight_decay` is the classic L2 penalty added to the gradient, $g_t \leftarrow g_t + \lambda w$ (this
#   is *coupled* weight decay; AdamW's decoupled variant is not asked for).
# * `amsgrad=True` keeps the running maximum $\hat v^{\max}_t = \max(\hat v^{\max}_{t-1}, v_t)$ of the raw
#   $v_t$ and uses it in place of $v_t$ in the denominator, so the effective step never grows.
# 
# **Contract of `Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *, maximize=False)`:**
# the formulas above and the shared contract; `ValueError` for negative `lr`, `eps` or `weight_decay` and
# for `betas[0]` or `betas[1]` outside $[0, 1)$. State names: `step`, `exp_avg`, `exp_avg_sq`,
# `max_exp_avg_sq` (with amsgrad). Compute the corrections $1 - \beta^t$ from the parameter's own step
# count.

# In[9]:


import math

import torch
from torch.optim import Adam as TorchAdam, Optimizer


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSProp normalisation, bias corrections applied in the update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
            raise ValueError("lr, eps and weight_decay must be non-negative")
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid betas: {betas}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "exp_avg" not in state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * p
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
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss


# In[10]:


# Public self-check: the bias-corrected first step moves each coordinate by about lr * sign(g).
_p = torch.tensor([1.0, 1.0], requires_grad=True)
_opt = Adam([_p], lr=0.01)
_p.grad = torch.tensor([0.5, -3.0])
_opt.step()
assert torch.allclose(_p.detach(), torch.tensor([0.99, 1.01]), atol=1e-6), _p
assert _opt.state[_p], "keep the moving averages in self.state[p]"
for _bad in ((1.0, 0.999), (0.9, -0.1)):
    try:
        Adam([_p], betas=_bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"betas={_bad} should raise ValueError")
# Device-portable: two steps on the meta device (shapes only, no data), state on the parameter's device.
_m = torch.zeros(3, device="meta", requires_grad=True)
_opt = Adam([_m], lr=0.1, amsgrad=True)
for _ in range(2):
    _m.grad = torch.ones_like(_m)
    _opt.step()
assert all(t.device == _m.device for t in _opt.state[_m].values() if torch.is_tensor(t) and t.dim() > 0), \
    "create the state on the parameter's device (torch.zeros_like(p))"
print("Adam: public self-check passed")


# In[11]:


# compare with torch's Adam (only here, outside my class)
a_cmp = torch.randn(6, dtype=torch.float64)
b_cmp = a_cmp.clone().requires_grad_()
a_cmp.requires_grad_()
mine_cmp, ref_cmp = Adam([a_cmp], lr=0.05, amsgrad=True), TorchAdam([b_cmp], lr=0.05, amsgrad=True, foreach=False)
for _ in range(25):
    g_cmp = torch.randn(6, dtype=torch.float64)
    a_cmp.grad, b_cmp.grad = g_cmp.clone(), g_cmp.clone()
    mine_cmp.step()
    ref_cmp.step()
print("max |mine - torch| =", (a_cmp - b_cmp).abs().max().item())


# ## 5. Experiments
# 
# The cells below are tagged `experiment`: the grader skips them, and they only run once your optimizers
# work. They use scikit-learn's digits data set (ships with scikit-learn, no download).

# ### 5.1 Sanity check against `torch.optim`
# 
# Your optimizers and PyTorch's, fed the same random gradients for 30 steps (three parameters, one of
# which sometimes has no gradient), in float64. The differences should be 0 or a few units of rounding
# (around `1e-16`). A large number means a formula differs: the grader's hidden checks compare step by step
# in the same way, over many more settings.

# ### 5.2 The zig-zag, with and without momentum
# 
# $Q(w) = \tfrac12 (w_1^2 + 25\, w_2^2)$, 40 steps of your `SGD` from $(-4, 1)$ with $\eta = 0.075$ (close to
# the stability limit $2/25$), without momentum and with $\mu = 0.5$.

# Now the relation between the lecture's velocity $h_t$ and PyTorch's buffer $b_t$: with a constant step
# size the paths coincide; when the learning rate is cut in half after 10 steps (as a scheduler would do),
# they part ways, because the lecture's velocity still carries the old step size.

# ### 5.3 Sparse features: SGD versus AdaGrad
# 
# A linear model $a(x) = w_{\text{pop}} x_{\text{pop}} + w_{\text{rare}} x_{\text{rare}}$ with two one-hot
# features, the popular one present in half of the objects and the rare one in 5%; the targets are
# $y = x_{\text{pop}} + x_{\text{rare}}$, so both weights should reach 1. One object per step (squared
# error). We compare your `SGD` with a constant step, your `SGD` with the lecture's $0.1/t^{0.3}$ decay, and
# your `Adagrad`. The right panel shows each optimizer's effective step size on the rare weight, computed
# from the gradients it saw.

# ### 5.4 The lecture's Adam formula versus PyTorch's
# 
# Ten steps with a constant gradient $g$, for an ordinary gradient ($g = 1$) and a tiny one
# ($g = 10^{-6}$). The table shows the size of each step divided by $\eta$: PyTorch's Adam (your `Adam`)
# takes steps of about 1 whatever the scale of $g$. The slide read literally (corrected values fed back,
# $\varepsilon$ under the root) stops moving after a few steps, and for the tiny gradient its first step is
# already 100 times too small.

# ### 5.5 The Rosenbrock valley
# 
# $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$ has its minimum at $(1, 1)$ at the bottom of a long, curved,
# flat valley. 1000 steps of each of your optimizers from $(-1.2, 1)$, with learning rates picked by hand.

# ### 5.6 Training an MLP on digits
# 
# A 64-64-10 MLP trained for 15 epochs with mini-batches of 32 by each of your optimizers, with common
# default learning rates.

# ## 6. Questions to think about (not graded)
# 
# 1. In 5.2, what is the largest momentum for which the path still does not overshoot along $w_1$? What
#    happens with $\mu = 0.9$?
# 2. Why does AdaGrad's step size for the popular weight keep shrinking, and how would RMSProp change that
#    picture in 5.3?
# 3. In 5.5, RMSProp and Adam stall at a small distance from the minimum. Why does a constant learning rate
#    prevent them from converging exactly, and what would fix it?
# 4. Set `weight_decay` in `Adam` and in `SGD` to the same value: do they regularise in the same way?

# ### Before you submit: the policy self-check
# 
# The grader reads your code before it runs any of it. Save the notebook (Ctrl-S), then run the next cell: it applies the grader's own check to the cells the grader will run and prints each problem with its cell and line, or *no problems found*. (`check_submission.py` sits next to this notebook; `python check_submission.py 02_optimizers.ipynb` in a terminal does the same, also for a `.py` export.)

# In[20]:


get_ipython().run_line_magic('run', 'check_submission.py 02_optimizers.ipynb')


# ## Submitting
# 
# * Submit this notebook (`02_optimizers.ipynb`) with your solution cells filled in. Keep the cells as they
#   are: do not delete, merge or re-tag them.
# * Or submit a Python file named **`optimizers.py`**, exported with this command (in a terminal, in the
#   notebook's folder), which leaves out the cells tagged `experiment`:
# 
#   ```
#   jupyter nbconvert --to python --TagRemovePreprocessor.remove_cell_tags experiment --output optimizers 02_optimizers.ipynb
#   ```
# 
#   Why: everything outside functions and classes runs when the grader loads your module, and that
#   module-level code has a time budget (20 s of CPU time in all). Experiment code left in a `.py`
#   file (training runs, plots) spends that budget before any check runs; past it, every check ends
#   with *timeout*. (`--to script` or *Download as* keep the experiments.)
# * Graded code computes its results itself: calling or subclassing PyTorch's own implementation
#   (`torch.optim.SGD`, `Adam` and the other optimizers, their functional forms and fused kernels) scores 0
#   (*forbidden*). Code the submission policy does not allow (imports other than `torch`, `math`, `numpy`,
#   `matplotlib` and the like; `eval`, `exec` or `getattr` with a computed name; dunder attributes such as
#   `__dict__`; PyTorch internals other than `torch._foreach_*`; changing PyTorch's functions or classes)
#   scores 0 until a TA has read it (*review*). The self-check cell above shows both.
# * The grader runs only the code cells that are neither self-check cells nor tagged `experiment`, top to
#   bottom as one module, under a time limit: keep everything your solutions need (imports, helpers) in
#   those cells, and nothing slow.
# * Hidden checks compare your optimizers with a reference step by step, in float32 and float64, over
#   every hyper-parameter (including `dampening`, `nesterov`, `maximize`, `centered`, `amsgrad`,
#   `lr_decay`, `initial_accumulator_value`), with several param groups, parameters without gradients,
#   `state_dict()` round trips and closures, plus convergence on the lecture's examples.
# * Your feedback shows the checks not passed first, each with what differed (your value and the
#   expected one) and the smallest failing case as code that runs as printed: paste it into a new
#   cell at the end of your notebook (for a `.py`, run it in the folder of your file); it prints
#   your value and the expected one. Convergence checks draw your loss curve next to the
#   reference's on the same problem.
