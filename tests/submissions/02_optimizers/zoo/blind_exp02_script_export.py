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

# In[2]:


import torch
from torch.optim import Optimizer


def check_non_negative(**values):
    """Raise ValueError for the first negative hyper-parameter."""
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"Invalid {name}: {value}")


def direction_of(p, group):
    """The gradient after maximize and L2 weight decay (a new tensor, p.grad stays untouched)."""
    d = p.grad.neg() if group["maximize"] else p.grad
    if group["weight_decay"] != 0:
        d = d.add(p, alpha=group["weight_decay"])
    return d


def evaluate_closure(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            mu = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = direction_of(p, group)
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = d.clone().detach()
                    else:
                        state["momentum_buffer"].mul_(mu).add_(d, alpha=1 - group["dampening"])
                    d = d.add(state["momentum_buffer"], alpha=mu) if group["nesterov"] else state["momentum_buffer"]
                p.add_(d, alpha=-group["lr"])
        return loss


# In[3]:


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


# In[4]:


get_ipython().run_line_magic('pinfo', 'SGD')


# In[5]:


get_ipython().system('ls -la')


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

# In[6]:


import torch
from torch.optim import Optimizer


class Adagrad(Optimizer):
    """AdaGrad: per-coordinate step sizes ``lr / (sqrt(sum of squared gradients) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                g = direction_of(p, group)
                state["step"] += 1
                state["sum"].addcmul_(g, g, value=1)
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-clr)
        return loss


# In[7]:


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


# In[8]:


w_t = torch.randn(1000, requires_grad=True)
opt_t = Adagrad([w_t], lr=0.1)
w_t.grad = torch.randn(1000)
get_ipython().run_line_magic('timeit', 'opt_t.step()')


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

# In[9]:


import torch
from torch.optim import Optimizer


class RMSprop(Optimizer):
    """RMSProp: divide by the root of a moving average of squared gradients (optionally centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False):
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            alpha = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                g = direction_of(p, group)
                state["step"] += 1
                state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    state["grad_avg"].lerp_(g, 1 - alpha)
                    avg = state["square_avg"].addcmul(state["grad_avg"], state["grad_avg"], value=-1).sqrt_()
                else:
                    avg = state["square_avg"].sqrt()
                avg.add_(group["eps"])
                if group["momentum"] > 0:
                    state["momentum_buffer"].mul_(group["momentum"]).addcdiv_(g, avg)
                    p.add_(state["momentum_buffer"], alpha=-group["lr"])
                else:
                    p.addcdiv_(g, avg, value=-group["lr"])
        return loss


# In[10]:


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

# In[11]:


import math

import torch
from torch.optim import Optimizer


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSProp normalisation, bias corrections applied in the update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        check_non_negative(lr=lr, eps=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient; return the closure's loss."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                g = direction_of(p, group)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].lerp_(g, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                v = state["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1 ** t))
        return loss


# In[12]:


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


# In[13]:


get_ipython().run_cell_magic('time', '', 'w_t = torch.randn(100, requires_grad=True)\nopt_t = Adam([w_t], lr=0.01, amsgrad=True)\nfor _ in range(200):\n    opt_t.zero_grad()\n    (w_t ** 2).sum().backward()\n    opt_t.step()\nprint(w_t.abs().max())\n')


# In[14]:


get_ipython().run_line_magic('time', 'opt_t.step()')
get_ipython().run_line_magic('pinfo2', 'torch.optim.Adam')


# ## 5. Experiments
# 
# The cells below are tagged `experiment`: the grader skips them, and they only run once your optimizers
# work. They use scikit-learn's digits data set (ships with scikit-learn, no download).

# In[15]:


import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from torch import nn

# The models below are tiny: one CPU thread runs them as fast as several, and stays fast on a busy
# machine, where idle-spinning worker threads can slow small tensor operations down a hundredfold.
torch.set_num_threads(1)

digits = load_digits()
X_all = torch.tensor(digits.data, dtype=torch.float32)
y_all = torch.tensor(digits.target, dtype=torch.long)
split = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(0))
train_idx, val_idx = split[:1200], split[1200:]
pixel_mean, pixel_std = X_all[train_idx].mean(0), X_all[train_idx].std(0).clamp_min(1e-3)
X_all = (X_all - pixel_mean) / pixel_std
X_train, y_train = X_all[train_idx].to(device), y_all[train_idx].to(device)
X_val, y_val = X_all[val_idx].to(device), y_all[val_idx].to(device)
print(f"train {tuple(X_train.shape)}, validation {tuple(X_val.shape)}, device {device}")


# ### 5.1 Sanity check against `torch.optim`
# 
# Your optimizers and PyTorch's, fed the same random gradients for 30 steps (three parameters, one of
# which sometimes has no gradient), in float64. The differences should be 0 or a few units of rounding
# (around `1e-16`). A large number means a formula differs: the grader's hidden checks compare step by step
# in the same way, over many more settings.

# In[16]:


def max_difference(mine, theirs, kwargs, steps=30, dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    shapes = [(5, 3), (4,), (2,)]
    start = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    ours = [t.clone().to(device).requires_grad_() for t in start]
    ref = [t.clone().to(device).requires_grad_() for t in start]
    opt_ours, opt_ref = mine(ours, **kwargs), theirs(ref, **kwargs)
    worst = 0.0
    for t in range(steps):
        for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
            if i == 2 and t % 3 == 0:  # sometimes no gradient at all: the parameter must not move
                a.grad = b.grad = None
            else:
                g = torch.randn(a.shape, generator=gen, dtype=dtype).to(device)
                a.grad, b.grad = g.clone(), g.clone()
        opt_ours.step()
        opt_ref.step()
        worst = max(worst, max((a - b).abs().max().item() for a, b in zip(ours, ref, strict=True)))
    return worst


configs = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (Adagrad, torch.optim.Adagrad, dict()),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                        initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    (RMSprop, torch.optim.RMSprop, dict()),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.1)),
    (Adam, torch.optim.Adam, dict()),
    (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True,
                                  maximize=True)),
]
for mine, theirs, kwargs in configs:
    settings = ", ".join(f"{key}={value}" for key, value in kwargs.items()) or "defaults"
    print(f"{mine.__name__:8s} max |difference| = {max_difference(mine, theirs, kwargs):.1e}   {settings}")


# ### 5.2 The zig-zag, with and without momentum
# 
# $Q(w) = \tfrac12 (w_1^2 + 25\, w_2^2)$, 40 steps of your `SGD` from $(-4, 1)$ with $\eta = 0.075$ (close to
# the stability limit $2/25$), without momentum and with $\mu = 0.5$.

# In[17]:


curvature = torch.tensor([1.0, 25.0], device=device)


def bowl(w):
    return 0.5 * (curvature * w ** 2).sum()


def trajectory(make_optimizer, objective, start, steps):
    w = torch.tensor(start, device=device, requires_grad=True)
    opt = make_optimizer([w])
    points = [w.detach().cpu().clone()]
    for _ in range(steps):
        opt.zero_grad()
        objective(w).backward()
        opt.step()
        points.append(w.detach().cpu().clone())
    return torch.stack(points)


zigzag = {
    "SGD, $\\eta = 0.075$": trajectory(lambda p: SGD(p, lr=0.075), bowl, [-4.0, 1.0], 40),
    "SGD, $\\eta = 0.075$, momentum 0.5": trajectory(lambda p: SGD(p, lr=0.075, momentum=0.5), bowl,
                                                     [-4.0, 1.0], 40),
}
u, v = torch.meshgrid(torch.linspace(-4.5, 1, 200), torch.linspace(-1.5, 1.5, 200), indexing="xy")
fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(13, 4))
ax_path.contour(u, v, 0.5 * (u ** 2 + 25 * v ** 2), levels=20, cmap="Greys", linewidths=0.6)
for label, path in zigzag.items():
    ax_path.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1, label=label)
    ax_loss.semilogy([0.5 * (p[0] ** 2 + 25 * p[1] ** 2).item() for p in path], label=label)
ax_path.set(xlabel="$w_1$", ylabel="$w_2$", title="paths on the contours of Q")
ax_loss.set(xlabel="step", ylabel="Q(w)", title="loss")
ax_path.legend(fontsize=8)
plt.show()


# Now the relation between the lecture's velocity $h_t$ and PyTorch's buffer $b_t$: with a constant step
# size the paths coincide; when the learning rate is cut in half after 10 steps (as a scheduler would do),
# they part ways, because the lecture's velocity still carries the old step size.

# In[18]:


def lecture_momentum(start, steps, lr_at, alpha=0.5):
    w, h, points = torch.tensor(start, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), []
    for t in range(steps):
        grad = curvature.cpu().double() * w
        h = alpha * h + lr_at(t) * grad
        w = w - h
        points.append(w.clone())
    return torch.stack(points)


def torch_style_momentum(start, steps, lr_at, alpha=0.5):
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = SGD([w], lr=lr_at(0), momentum=alpha)
    points = []
    for t in range(steps):
        opt.param_groups[0]["lr"] = lr_at(t)
        opt.zero_grad()
        bowl(w.to(device)).backward()
        opt.step()
        points.append(w.detach().clone())
    return torch.stack(points)


schedules = {
    "constant lr": lambda t: 0.075,
    "lr halved after 10 steps": lambda t: 0.075 if t < 10 else 0.0375,
}
for name, lr_at in schedules.items():
    gap = lecture_momentum([-4.0, 1.0], 20, lr_at) - torch_style_momentum([-4.0, 1.0], 20, lr_at)
    gap = gap.norm(dim=1)
    print(f"{name:26s} largest distance between the two paths: {gap.max().item():.2e}")


# ### 5.3 Sparse features: SGD versus AdaGrad
# 
# A linear model $a(x) = w_{\text{pop}} x_{\text{pop}} + w_{\text{rare}} x_{\text{rare}}$ with two one-hot
# features, the popular one present in half of the objects and the rare one in 5%; the targets are
# $y = x_{\text{pop}} + x_{\text{rare}}$, so both weights should reach 1. One object per step (squared
# error). We compare your `SGD` with a constant step, your `SGD` with the lecture's $0.1/t^{0.3}$ decay, and
# your `Adagrad`. The right panel shows each optimizer's effective step size on the rare weight, computed
# from the gradients it saw.

# In[19]:


gen = torch.Generator().manual_seed(0)
n_obj = 400
X_sparse = torch.stack([(torch.rand(n_obj, generator=gen) < 0.5).float(),
                        (torch.rand(n_obj, generator=gen) < 0.05).float()], 1).to(device)
y_sparse = X_sparse.sum(1)
counts = X_sparse.sum(0).int().tolist()
print(f"objects with the popular feature: {counts[0]}, with the rare one: {counts[1]}")


def sparse_run(make_optimizer, decay=False, steps=400):
    w = torch.zeros(2, device=device, requires_grad=True)
    opt = make_optimizer([w])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: (k + 1) ** -0.3) if decay else None
    weights, grads, lrs = [w.detach().cpu().clone()], [], []
    for t in range(steps):
        i = t % n_obj
        opt.zero_grad()
        (0.5 * (X_sparse[i] @ w - y_sparse[i]) ** 2).backward()
        grads.append(w.grad.detach().cpu().clone())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        weights.append(w.detach().cpu().clone())
    return torch.stack(weights), torch.stack(grads), torch.tensor(lrs)


sparse_runs = {
    "SGD, $\\eta = 0.1$": sparse_run(lambda p: SGD(p, lr=0.1)),
    "SGD, $\\eta_t = 0.1/t^{0.3}$": sparse_run(lambda p: SGD(p, lr=0.1), decay=True),
    "AdaGrad, $\\eta = 0.5$": sparse_run(lambda p: Adagrad(p, lr=0.5)),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for label, (weights, grads, lrs) in sparse_runs.items():
    axes[0].plot(weights[:, 0], label=label)
    axes[1].plot(weights[:, 1], label=label)
    if label.startswith("AdaGrad"):  # eta / (sqrt(G) + eps), G = running sum of squared gradients
        effective = lrs / (grads[:, 1].pow(2).cumsum(0).sqrt() + 1e-10)
    else:
        effective = lrs
    axes[2].semilogy(effective.clamp_max(10), label=label)
axes[0].set(title="popular weight", xlabel="step")
axes[1].set(title="rare weight", xlabel="step")
axes[2].set(title="step size for the rare weight", xlabel="step")
axes[1].legend(fontsize=8)
plt.show()


# ### 5.4 The lecture's Adam formula versus PyTorch's
# 
# Ten steps with a constant gradient $g$, for an ordinary gradient ($g = 1$) and a tiny one
# ($g = 10^{-6}$). The table shows the size of each step divided by $\eta$: PyTorch's Adam (your `Adam`)
# takes steps of about 1 whatever the scale of $g$. The slide read literally (corrected values fed back,
# $\varepsilon$ under the root) stops moving after a few steps, and for the tiny gradient its first step is
# already 100 times too small.

# In[20]:


def lecture_adam_steps(g, steps=10, beta1=0.9, beta2=0.999, eps=1e-8):
    m = v = 0.0
    out = []
    for t in range(1, steps + 1):
        m = (beta1 * m + (1 - beta1) * g) / (1 - beta1 ** t)
        v = (beta2 * v + (1 - beta2) * g * g) / (1 - beta2 ** t)
        out.append(m / math.sqrt(v + eps))
    return out


def our_adam_steps(g, steps=10):
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([w], lr=1.0)
    out, previous = [], 0.0
    for _ in range(steps):
        w.grad = torch.full_like(w, g)
        opt.step()
        out.append(previous - w.item())
        previous = w.item()
    return out


print("step | g = 1: ours   slide  | g = 1e-6: ours   slide")
for t, (a, b, c, d) in enumerate(zip(our_adam_steps(1.0), lecture_adam_steps(1.0),
                                     our_adam_steps(1e-6), lecture_adam_steps(1e-6), strict=True), start=1):
    print(f"{t:4d} | {a:11.3f} {b:7.3f} | {c:14.3f} {d:7.3f}")


# ### 5.5 The Rosenbrock valley
# 
# $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$ has its minimum at $(1, 1)$ at the bottom of a long, curved,
# flat valley. 1000 steps of each of your optimizers from $(-1.2, 1)$, with learning rates picked by hand.

# In[21]:


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


contenders = {
    "SGD, $\\eta = 10^{-3}$": lambda p: SGD(p, lr=1e-3),
    "SGD + momentum 0.9": lambda p: SGD(p, lr=1e-3, momentum=0.9),
    "AdaGrad, $\\eta = 1$": lambda p: Adagrad(p, lr=1.0),
    "RMSProp, $\\eta = 0.01$": lambda p: RMSprop(p, lr=0.01),
    "Adam, $\\eta = 0.1$": lambda p: Adam(p, lr=0.1),
}
paths = {label: trajectory(make, rosenbrock, [-1.2, 1.0], 1000) for label, make in contenders.items()}

u, v = torch.meshgrid(torch.linspace(-1.6, 1.5, 300), torch.linspace(-0.6, 2.0, 300), indexing="xy")
fig, (ax_path, ax_dist) = plt.subplots(1, 2, figsize=(13, 4.5))
ax_path.contour(u, v, (1 - u) ** 2 + 100 * (v - u ** 2) ** 2, levels=torch.logspace(-1, 3, 15).tolist(),
                cmap="Greys", linewidths=0.6)
for label, path in paths.items():
    ax_path.plot(path[:, 0], path[:, 1], lw=1.2, label=label)
    ax_dist.semilogy((path - torch.tensor([1.0, 1.0])).norm(dim=1), label=label)
ax_path.plot(1, 1, "k*", ms=12)
ax_path.set(xlabel="x", ylabel="y", title="paths")
ax_dist.set(xlabel="step", ylabel="distance to (1, 1)")
ax_dist.legend(fontsize=8)
plt.show()


# ### 5.6 Training an MLP on digits
# 
# A 64-64-10 MLP trained for 15 epochs with mini-batches of 32 by each of your optimizers, with common
# default learning rates.

# In[22]:


def train_mlp(make_optimizer, epochs=15, batch_size=32):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    opt = make_optimizer(model.parameters())
    gen = torch.Generator().manual_seed(0)
    train_curve, val_curve = [], []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(X_train), generator=gen).split(batch_size):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            val_curve.append(nn.functional.cross_entropy(model(X_val), y_val).item())
        train_curve.append(total / len(X_train))
    return train_curve, val_curve


competitors = {
    "SGD, lr 0.05": lambda p: SGD(p, lr=0.05),
    "SGD, lr 0.05, momentum 0.9": lambda p: SGD(p, lr=0.05, momentum=0.9),
    "Adagrad, lr 0.05": lambda p: Adagrad(p, lr=0.05),
    "RMSprop, lr 1e-3": lambda p: RMSprop(p, lr=1e-3),
    "Adam, lr 1e-3": lambda p: Adam(p, lr=1e-3),
}
fig, (ax_train, ax_val) = plt.subplots(1, 2, figsize=(13, 4))
for label, make in competitors.items():
    train_curve, val_curve = train_mlp(make)
    ax_train.semilogy(range(1, 16), train_curve, label=label)
    ax_val.plot(range(1, 16), val_curve, label=label)
ax_train.set(xlabel="epoch", ylabel="training loss")
ax_val.set(xlabel="epoch", ylabel="validation loss")
ax_train.legend(fontsize=8)
plt.show()


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

# In[23]:


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
