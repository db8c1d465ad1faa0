#!/usr/bin/env python
# coding: utf-8

# # Assignment 3 · Regularization: Dropout and BatchNorm
# 
# This notebook follows the last part of the lecture: fighting overfitting and keeping the distribution of
# a layer's inputs under control. You will write two PyTorch layers from scratch, including a hand-written
# backward pass:
# 
# | graded name | what it is |
# |---|---|
# | `Dropout` | inverted dropout, an `nn.Module` |
# | `BatchNormFunction` | batch normalisation as a `torch.autograd.Function` with your own `backward` |
# | `BatchNorm1d`, `BatchNorm2d` | the layers: parameters, running statistics, train and eval mode |
# 
# **How this notebook is organised.** *Solution cells* hold a signature and a docstring: replace each
# `raise NotImplementedError(...)` line with your code and keep names, signatures and defaults. A read-only
# *self-check cell* follows each solution cell with a few quick public checks. Cells tagged `experiment`
# (training runs and plots) use your layers to show their effect; the grader skips them.
# 
# **Rules for graded code.** Write the computation yourself with tensor operations. Delegating to PyTorch's
# implementation scores zero for that item: no `nn.Dropout`, `F.dropout` (or the other dropout functions),
# no `nn.BatchNorm1d`/`2d`/`3d`, `F.batch_norm`, `torch.batch_norm` or `torch.native_batch_norm`, no
# `torch.autograd.grad` or autograd re-runs inside your `backward`, and no imports of the course kit.

# In[1]:


# Imports every part of this notebook uses. Non-experiment cells must stay fast and free of side
# effects: the grader runs them (and only them) as one module.
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"


# ## 1. Overfitting and Dropout
# 
# A network with many parameters can fit its training set perfectly, noise included, and then generalise
# badly. Ways to fight this seen in the course: fewer parameters (e.g. convolutional layers share their
# weights), regularisation of the weights (the `weight_decay` of assignment 2), early stopping
# (assignment 1) — and **Dropout**.
# 
# **The idea.** During training, every unit of a layer is switched off at random, independently, at every
# forward pass. A unit can no longer rely on particular other units being present, so the network learns
# redundant, more robust features. One way to see it: each mask selects a sub-network of the original one;
# training with dropout trains all these sub-networks at once, with shared weights, and using the full
# network at test time (almost) averages their predictions.
# 
# **Keeping the scale.** Dropping units lowers the expected size of the layer's output. The lecture writes
# the dropout layer as
# 
# $$d(x) = \frac{1}{q}\, m \circ x, \qquad m_i \sim \text{Bernoulli}(q) \text{ independently},$$
# 
# where $q$ is the probability of **keeping** a unit. (The slide writes $p$ and calls it the probability
# of dropping, but dividing by it only preserves the scale when it is the probability of keeping.) Then
# $\mathbb{E}[d(x)_i] = x_i$, and at test time the layer is simply the identity. This variant, which
# rescales during training rather than at test time, is called *inverted dropout*.
# 
# **PyTorch's `p` is the probability of *dropping*.** `nn.Dropout(p=0.2)` keeps 80% of the units and
# multiplies them by $1/(1-p) = 1.25$. In the lecture's notation $q = 1 - p$:
# 
# $$d(x) = \frac{1}{1-p}\, m \circ x, \qquad m_i \sim \text{Bernoulli}(1-p).$$
# 
# **Contract of `Dropout(p=0.5)`** (an `nn.Module`, same convention as `nn.Dropout`):
# 
# * `p` is the probability of dropping an element; store it as `self.p`; raise `ValueError` unless
#   $0 \le p \le 1$.
# * In training mode (`self.training`), every element is independently set to 0 with probability `p` and
#   otherwise multiplied by `1 / (1 - p)`. Draw a fresh mask at every call from torch's random number
#   generator (e.g. `torch.rand_like(x)` or `torch.bernoulli`), on the input's device and in its dtype.
#   `p = 0` returns the input values unchanged; `p = 1` returns zeros (avoid dividing by zero).
# * In eval mode the layer is the identity.
# * Gradients flow through: use tensor operations only, no in-place changes of `x`.

# ### Code that runs where the data lives: GPUs and the `meta` device
# 
# Networks train on GPUs: the input, the parameters and the buffers of every layer live there, and the
# GPU works through a queue of kernels that Python fills ahead of it. A layer's `forward` stays fast only
# while Python never waits for a result. Reading a value on the host (`t.item()`, `float(t)`, `if t > 0:`
# on a tensor) is a **host sync**: the pipeline stalls at every call. A tensor created without a device
# (`torch.rand(x.shape)`, `torch.ones(c)`) lives on the CPU and cannot be mixed with GPU tensors.
# 
# So in `forward` and `backward`: keep values as tensors, create new ones from the input
# (`torch.rand_like(x)`, `x.new_ones(c)`, `device=x.device`), and register state as buffers so that
# `module.to(device)` moves it.
# 
# You can check this without a GPU: on PyTorch's **`meta` device** tensors have shapes and dtypes but no
# data, so device-portable code runs unchanged and a host sync raises. Each self-check below ends with a
# forward and backward on a `meta` input; the grader runs more (a `.device` line per layer) and checks that
# every buffer sits on the input's device.

# First, what does torch's own layer do?

# In[2]:


from torch.nn import Dropout

torch.manual_seed(0)
print(Dropout(0.5)(torch.ones(10)))


# In[3]:


import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout (p = probability of dropping, as nn.Dropout)."""

    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0
        mask = torch.bernoulli(torch.full_like(x, 1 - self.p))
        return x * mask / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


# In[4]:


# Public self-check: values in training mode, identity in eval mode, and the range check of p.
torch.manual_seed(0)
_layer = Dropout(p=0.5)
_x = torch.ones(2000)
_y = _layer(_x)
assert _y.shape == _x.shape
assert set(_y.unique().tolist()) <= {0.0, 2.0}, "kept values must be scaled by 1 / (1 - p)"
assert 0.4 < (_y == 0).float().mean().item() < 0.6, "about half the elements should be dropped"
_layer.eval()
assert torch.equal(_layer(_x), _x), "eval mode must be the identity"
try:
    Dropout(p=1.5)
except ValueError:
    pass
else:
    raise AssertionError("Dropout(p=1.5) should raise ValueError")
# Device-portable: forward and backward on the meta device (shapes only, no data).
_x = torch.ones(4, 5, device="meta", requires_grad=True)
Dropout(0.5)(_x).sum().backward()
print("Dropout: public self-check passed")


# ## 2. Covariate shift and BatchNorm
# 
# Each layer of a network takes the output of the previous one as input. While training, all layers
# change at once: when an early layer changes a lot, the distribution of everything that comes after it
# moves, and the later layers have to re-adapt to a moving target. This effect is called (internal)
# **covariate shift**.
# 
# **Idea:** transform the outputs of a layer so that they always have a fixed distribution — zero mean and
# unit variance per feature — and let the network rescale them with learned parameters if that helps.
# Batch normalisation (Ioffe & Szegedy, 2015) does this with the statistics of the current mini-batch. In
# practice it allows larger learning rates, makes training less sensitive to initialisation and has a
# mild regularising effect (each example's output depends on the random batch it is in).
# 
# ### The forward pass
# 
# For one channel (feature) $c$ with the $m$ values $x_1, \dots, x_m$ it takes in the batch (for an input of
# shape `(N, C)` that is $m = N$; for `(N, C, L)` or `(N, C, H, W)`, every position counts: $m = N L$ or
# $m = N H W$):
# 
# $$\mu = \frac{1}{m} \sum_{i=1}^{m} x_i, \qquad \sigma^2 = \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu)^2, \qquad
# \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad y_i = \gamma\, \hat x_i + \beta .$$
# 
# The variance used for normalising is the **biased** one (divided by $m$). $\gamma$ (`weight`) and $\beta$
# (`bias`) are learned per channel; without them (`affine=False`) $y = \hat x$.
# 
# ### The backward pass
# 
# Given $\partial L / \partial y_i$, write $s = 1/\sqrt{\sigma^2 + \varepsilon}$ and
# $g_i = \partial L / \partial \hat x_i = \gamma\, \partial L / \partial y_i$. The parameters are easy:
# 
# $$\frac{\partial L}{\partial \beta} = \sum_i \frac{\partial L}{\partial y_i}, \qquad
# \frac{\partial L}{\partial \gamma} = \sum_i \frac{\partial L}{\partial y_i}\, \hat x_i .$$
# 
# For $x$, every $x_k$ influences every $\hat x_i$ through $\mu$ and $\sigma^2$. With
# $\partial \mu / \partial x_k = 1/m$ and $\partial \sigma^2 / \partial x_k = \tfrac{2}{m}(x_k - \mu)$
# (the terms with $\sum_i (x_i - \mu) = 0$ vanish),
# 
# $$\frac{\partial s}{\partial x_k} = -\tfrac12 s^3\, \frac{\partial \sigma^2}{\partial x_k} = -\frac{s^3}{m}\,(x_k - \mu) = -\frac{s^2}{m}\, \hat x_k,
# \qquad
# \frac{\partial \hat x_i}{\partial x_k} = s\Bigl(\delta_{ik} - \frac1m\Bigr) + (x_i - \mu)\,\frac{\partial s}{\partial x_k}
# = s\Bigl(\delta_{ik} - \frac1m - \frac1m\, \hat x_i\, \hat x_k\Bigr).$$
# 
# Summing over $i$ gives the compact result
# 
# $$\boxed{\;\frac{\partial L}{\partial x_k} = s \Bigl( g_k - \frac1m \sum_i g_i - \hat x_k \cdot \frac1m \sum_i g_i\, \hat x_i \Bigr)\;}$$
# 
# per channel: the incoming gradient, minus its mean, minus its projection on $\hat x$. Only $\hat x$, $s$
# and $\gamma$ are needed, so those are what the forward pass should save.
# 
# **Contract of `BatchNormFunction`** (a `torch.autograd.Function`, used as
# `BatchNormFunction.apply(x, weight, bias, eps)`):
# 
# * `forward(ctx, x, weight, bias, eps)`: `x` has shape `(N, C, *)`; normalise over every dimension except
#   dimension 1 with the batch mean and the **biased** variance, apply `weight` and `bias` if they are not
#   `None` (each may be `None`), and return `y` only (one tensor of `x`'s shape). Save what backward needs with
#   `ctx.save_for_backward(...)` (tensors; `None` is allowed) and plain Python values as attributes of `ctx`.
# * `backward(ctx, grad_y)`: return `(grad_x, grad_weight, grad_bias, None)` from the formulas above,
#   written by hand with tensor operations, with `None` for an input that is `None` or does not need a
#   gradient (`ctx.needs_input_grad[i]`). It must pass `torch.autograd.gradcheck` in float64.

# In[5]:


import torch


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        c = x.shape[1]
        flat = x.transpose(0, 1).reshape(c, -1)
        var, mean = torch.var_mean(flat, dim=1, correction=0)
        view = (1, c) + (1,) * (x.dim() - 2)
        invstd = (var + eps).rsqrt()
        x_hat = (x - mean.view(view)) * invstd.view(view)
        out = x_hat
        if weight is not None:
            out = out * weight.view(view)
        if bias is not None:
            out = out + bias.view(view)
        ctx.save_for_backward(x_hat, invstd, weight)
        ctx.view, ctx.bias_none = view, bias is None
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, invstd, weight = ctx.saved_tensors
        view = ctx.view
        dims = [0] + list(range(2, grad_out.dim()))
        m = grad_out.numel() // grad_out.shape[1]
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            g = grad_out if weight is None else grad_out * weight.view(view)
            dx = invstd.view(view) / m * (m * g - g.sum(dims, keepdim=True) - x_hat * (g * x_hat).sum(dims, keepdim=True))
        if weight is not None and ctx.needs_input_grad[1]:
            dw = (grad_out * x_hat).sum(dims)
        if not ctx.bias_none and ctx.needs_input_grad[2]:
            db = grad_out.sum(dims)
        return dx, dw, db, None


# In[6]:


# Public self-check: normalised statistics per channel and two gradients with known values.
torch.manual_seed(0)
_x = (torch.randn(8, 3, 5, dtype=torch.float64) * 4 + 2).requires_grad_()
_w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
_b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
_y = BatchNormFunction.apply(_x, _w, _b, 1e-5)
assert _y.shape == _x.shape
_y_hat = BatchNormFunction.apply(_x, None, None, 1e-5)
assert torch.allclose(_y_hat.mean(dim=(0, 2)), torch.zeros(3, dtype=torch.float64), atol=1e-9)
assert torch.allclose(_y_hat.var(dim=(0, 2), unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-5)
_y.sum().backward()  # sum of a normalised channel does not depend on x; d/dbias = number of values
assert torch.allclose(_x.grad, torch.zeros_like(_x), atol=1e-9)
assert torch.allclose(_b.grad, torch.full((3,), 40.0, dtype=torch.float64))
# Device-portable: forward and backward on the meta device (shapes only, no data).
_x = torch.ones(4, 3, device="meta", requires_grad=True)
_w = torch.ones(3, device="meta", requires_grad=True)
BatchNormFunction.apply(_x, _w, torch.zeros(3, device="meta", requires_grad=True), 1e-5).sum().backward()
print("BatchNormFunction: public self-check passed")


# ### Train mode, eval mode and running statistics
# 
# At test time we may predict a single example, and a prediction should not depend on what else is in the
# batch. So during training the layer also keeps **running estimates** of each channel's mean and variance,
# and in eval mode it normalises with those instead of the batch statistics:
# 
# $$\text{eval:}\quad y = \gamma\, \frac{x - \hat\mu_{\text{run}}}{\sqrt{\hat\sigma^2_{\text{run}} + \varepsilon}} + \beta .$$
# 
# PyTorch updates them at every training forward pass as exponential moving averages,
# 
# $$\hat\mu_{\text{run}} \leftarrow (1 - \rho)\, \hat\mu_{\text{run}} + \rho\, \mu_B, \qquad
# \hat\sigma^2_{\text{run}} \leftarrow (1 - \rho)\, \hat\sigma^2_{\text{run}} + \rho\, \frac{m}{m - 1}\, \sigma^2_B ,$$
# 
# with the **unbiased** batch variance $\frac{m}{m-1}\sigma^2_B$ (the running value estimates the variance of
# the whole population, while normalising the batch itself uses the biased one). $\rho$ is the `momentum`
# argument (default 0.1) — note that it weighs the *new* value, the opposite of an optimizer's momentum.
# With `momentum=None` PyTorch uses $\rho = 1/k$ at the $k$-th update, i.e. the plain average of all batch
# statistics so far. A counter `num_batches_tracked` counts the updates.
# 
# **Contract of `BatchNorm1d` and `BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)`**
# (two `nn.Module`s, as `nn.BatchNorm1d` / `nn.BatchNorm2d`; optional extra keywords `device=None,
# dtype=None` are allowed):
# 
# * Parameters `weight` (ones) and `bias` (zeros) of shape `(num_features,)` when `affine`, otherwise
#   registered as `None` (`self.register_parameter("weight", None)`).
# * Buffers `running_mean` (zeros), `running_var` (ones) and `num_batches_tracked` (`torch.tensor(0,
#   dtype=torch.long)`) when `track_running_stats`, otherwise registered as `None`
#   (`self.register_buffer("running_mean", None)`), so that `state_dict()` has torch's keys.
# * Input shapes: `(N, C)` or `(N, C, L)` for `BatchNorm1d`, `(N, C, H, W)` for `BatchNorm2d`; any other
#   number of dimensions raises `ValueError` (torch's message: `expected 2D or 3D input (got 4D input)`).
# * Training mode: compute the output with the module-level `BatchNormFunction.apply(x, self.weight,
#   self.bias, self.eps)` (call it by that name; the grader may substitute its own), and, when tracking,
#   add 1 to `num_batches_tracked` and update the running statistics as above (no gradient through them:
#   use `torch.no_grad()`).
# * Eval mode: normalise with the running statistics; without them (`track_running_stats=False`) use the
#   batch statistics, as in training.
# * Whenever batch statistics are used, a batch with only one value per channel raises `ValueError`
#   (torch: `Expected more than 1 value per channel when training, got input size ...`).

# In[7]:


import torch
import torch.nn.functional as F
from torch import nn
from torch.nn import BatchNorm1d as TorchBN1d


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        dims = (0,) if x.dim() == 2 else (0, 2)
        view = (1, -1) if x.dim() == 2 else (1, -1, 1)
        if self.training or not self.track_running_stats:
            if x.numel() // x.shape[1] < 2:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    f = 1.0 / self.num_batches_tracked.double() if self.momentum is None else self.momentum
                    self.running_mean.lerp_(x.mean(dims), f)
                    self.running_var.lerp_(x.var(dims, correction=1), f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        y = (x - self.running_mean.view(view)) / (self.running_var.view(view) + self.eps).sqrt()
        return y * self.weight.view(view) + self.bias.view(view) if self.affine else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


# In[8]:


# Public self-check: state_dict keys, a normalised training output, one running-statistics update,
# eval mode on a single example, and the error for a 4-D input.
torch.manual_seed(0)
_bn = BatchNorm1d(3)
assert list(_bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
_x = torch.randn(16, 3) * 2 + 5
_y = _bn(_x)
assert torch.allclose(_y.mean(0), torch.zeros(3), atol=1e-5)
assert torch.allclose(_bn.running_mean, 0.1 * _x.mean(0), atol=1e-6)
assert torch.allclose(_bn.running_var, 0.9 + 0.1 * _x.var(0, unbiased=True), atol=1e-5)
assert _bn.num_batches_tracked.item() == 1
_bn.eval()
assert _bn(_x[:1]).shape == (1, 3)
try:
    _bn(torch.randn(2, 3, 4, 4))
except ValueError:
    pass
else:
    raise AssertionError("BatchNorm1d should reject a 4-D input with ValueError")
# Device-portable: train and eval, forward and backward on the meta device; buffers follow .to().
_bn = BatchNorm1d(3).to("meta")
for _mode in (True, False):
    _bn.train(_mode)
    _bn(torch.ones(4, 3, device="meta", requires_grad=True)).sum().backward()
assert all(b.device.type == "meta" for b in _bn.buffers()), "register running statistics as buffers"
print("BatchNorm1d: public self-check passed")


# In[9]:


# my layer next to torch's (comparison only)
torch.manual_seed(0)
mine_cmp, ref_cmp = BatchNorm1d(5, momentum=None), TorchBN1d(5, momentum=None)
for _ in range(3):
    x_cmp = torch.randn(16, 5) * 3 + 1
    print("train diff", (mine_cmp(x_cmp) - ref_cmp(x_cmp)).abs().max().item())
print("running_var diff", (mine_cmp.running_var - ref_cmp.running_var).abs().max().item())
print("F.batch_norm diff", (BatchNormFunction.apply(x_cmp, None, None, 1e-5)
                            - F.batch_norm(x_cmp, None, None, training=True)).abs().max().item())


# In[10]:


import torch
from torch import nn


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        if self.training or not self.track_running_stats:
            if x.numel() // x.shape[1] < 2:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
                    f = 1.0 / self.num_batches_tracked.double() if self.momentum is None else self.momentum
                    self.running_mean.lerp_(x.mean((0, 2, 3)), f)
                    self.running_var.lerp_(x.var((0, 2, 3), correction=1), f)
            return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
        y = (x - self.running_mean[None, :, None, None]) / (self.running_var[None, :, None, None] + self.eps).sqrt()
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None] if self.affine else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


# In[11]:


# Public self-check: per-channel normalisation of a 4-D batch, running statistics, the rank check.
torch.manual_seed(0)
_bn = BatchNorm2d(2, momentum=None)
assert list(_bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
_x = torch.randn(4, 2, 3, 3) * 3 - 1
_y = _bn(_x)
assert _y.shape == _x.shape
assert torch.allclose(_y.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)
assert torch.allclose(_bn.running_mean, _x.mean(dim=(0, 2, 3)), atol=1e-5)  # momentum=None, first batch
try:
    _bn(torch.randn(4, 2))
except ValueError:
    pass
else:
    raise AssertionError("BatchNorm2d should reject a 2-D input with ValueError")
# Device-portable: train and eval, forward and backward on the meta device; buffers follow .to().
_bn = BatchNorm2d(3).to("meta")
for _mode in (True, False):
    _bn.train(_mode)
    _bn(torch.ones(4, 3, 2, 2, device="meta", requires_grad=True)).sum().backward()
assert all(b.device.type == "meta" for b in _bn.buffers()), "register running statistics as buffers"
print("BatchNorm2d: public self-check passed")


# ## 3. Experiments
# 
# The cells below are tagged `experiment`: the grader skips them, and they only run once your layers work.
# They use scikit-learn's digits data set (ships with scikit-learn, no download) and compare your layers
# with PyTorch's as a sanity check.

# ### 3.1 Sanity checks against PyTorch
# 
# Dropout's statistics, `gradcheck` of your backward pass, and your `BatchNorm1d` / `BatchNorm2d` against
# `nn.BatchNorm1d` / `nn.BatchNorm2d` over a few training steps and in eval mode. Differences should be at
# the level of float32 rounding (around `1e-6` or below).

# ### 3.2 Dropout against overfitting
# 
# Only 300 training digits, 30% of them with a random label, and a 64-256-256-10 MLP trained with Adam for
# 40 epochs: without dropout the network memorises the wrong labels and the validation loss climbs; with
# your `Dropout(p=0.5)` after each hidden layer it memorises more slowly and generalises better.

# ### 3.3 BatchNorm: faster training and a steadier input distribution
# 
# Two 4-hidden-layer tanh MLPs (width 64) trained with plain SGD ($\eta = 0.05$) for 20 epochs, one with your
# `BatchNorm1d` after every hidden linear layer. Left: learning curves. Middle and right: the mean and the
# standard deviation of what the third linear layer receives, recorded at every training step — the
# distribution that layer has to adapt to. With BatchNorm it stays put; without, it keeps drifting.

# ### 3.4 Train mode versus eval mode
# 
# The BatchNorm network from 3.3 after training: its running statistics against the statistics of the
# whole training set, and its predictions in eval mode (running statistics, one example at a time works)
# against train mode (statistics of whatever batch it is given — here validation batches of different
# sizes).

# ### 3.5 `BatchNorm2d` in a small convolutional network
# 
# The digits as 1×8×8 images, two 3×3 convolution blocks, with and without your `BatchNorm2d` after each
# convolution, plain SGD ($\eta = 0.05$), 8 epochs.

# ## 4. Questions to think about (not graded)
# 
# 1. Why would dividing by the keep probability at *test* time (instead of during training) give the same
#    expected outputs? Why do libraries prefer inverted dropout?
# 2. What does your `BatchNorm1d` do in train mode with a batch of identical examples? Why is that a
#    problem, and how does eval mode avoid it?
# 3. In 3.4, why does train-mode accuracy drop for small validation batches?
# 4. Where should `BatchNorm1d` go relative to `Dropout` and the activation? Try a few orders in 3.3.

# ### Before you submit: the policy self-check
# 
# The grader reads your code before it runs any of it. Save the notebook (Ctrl-S), then run the next cell: it applies the grader's own check to the cells the grader will run and prints each problem with its cell and line, or *no problems found*. (`check_submission.py` sits next to this notebook; `python check_submission.py 03_regularization.ipynb` in a terminal does the same, also for a `.py` export.)

# In[18]:


get_ipython().run_line_magic('run', 'check_submission.py 03_regularization.ipynb')


# ## Submitting
# 
# * Submit this notebook (`03_regularization.ipynb`) with your solution cells filled in. Keep the cells as
#   they are: do not delete, merge or re-tag them.
# * Or submit a Python file named **`regularization.py`**, exported with this command (in a terminal, in the
#   notebook's folder), which leaves out the cells tagged `experiment`:
# 
#   ```
#   jupyter nbconvert --to python --TagRemovePreprocessor.remove_cell_tags experiment --output regularization 03_regularization.ipynb
#   ```
# 
#   Why: everything outside functions and classes runs when the grader loads your module, and that
#   module-level code has a time budget (20 s of CPU time in all). Experiment code left in a `.py`
#   file (training runs, plots) spends that budget before any check runs; past it, every check ends
#   with *timeout*. (`--to script` or *Download as* keep the experiments.)
# * Graded code computes its results itself: calling or subclassing PyTorch's own implementation
#   (`F.dropout`, `torch.dropout`, `F.batch_norm`, `nn.BatchNorm*`, `nn.Dropout` and their kernels) scores 0
#   (*forbidden*). Code the submission policy does not allow (imports other than `torch`, `math`, `numpy`,
#   `matplotlib` and the like; `eval`, `exec` or `getattr` with a computed name; dunder attributes such as
#   `__dict__`; PyTorch internals other than `torch._foreach_*`; changing PyTorch's functions or classes)
#   scores 0 until a TA has read it (*review*). The self-check cell above shows both.
# * The grader runs only the code cells that are neither self-check cells nor tagged `experiment`, top to
#   bottom as one module, under a time limit: keep everything your solutions need (imports, helpers) in
#   those cells, and nothing slow.
# * Hidden checks cover every constructor argument (`p`; `eps`, `momentum` including `None`, `affine`,
#   `track_running_stats`), 2-D, 3-D and 4-D inputs, float32 and float64, exact dropout statistics, a
#   `gradcheck` of your backward pass, running statistics, eval mode, errors, and training a small
#   network. Each layer is checked on its own: the BatchNorm modules are graded with a reference
#   `BatchNormFunction` in place of yours.
# * Your feedback shows the checks not passed first, each with what differed (your value and the
#   expected one) and the smallest failing case as code that runs as printed: paste it into a new
#   cell at the end of your notebook (for a `.py`, run it in the folder of your file); it prints
#   your value and the expected one. Convergence checks draw your loss curve next to the
#   reference's on the same problem.
