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

# In[2]:


import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout: in training, zero each element with probability ``p``, scale the rest by ``1/(1-p)``."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        keep = torch.rand_like(x) >= self.p
        scale = 1.0 / (1.0 - self.p) if self.p < 1.0 else 0.0
        return x * keep * scale

    def extra_repr(self):
        return f"p={self.p}"


# In[3]:


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


# In[4]:


get_ipython().run_line_magic('pinfo', 'Dropout')


# In[5]:


get_ipython().system('ls')


# In[6]:


get_ipython().run_line_magic('timeit', 'Dropout(0.5)(torch.ones(10_000))')


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

# In[7]:


import torch


class BatchNormFunction(torch.autograd.Function):
    """Batch normalisation with batch statistics and a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, unbiased=False, keepdim=True)
        s = torch.rsqrt(var + eps)
        x_hat = (x - mean) * s
        y = x_hat if weight is None else x_hat * weight.view(shape)
        if bias is not None:
            y = y + bias.view(shape)
        ctx.save_for_backward(x_hat, s, weight)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, s, weight = ctx.saved_tensors
        dims = [0, *range(2, grad_y.dim())]
        shape = [1, -1] + [1] * (grad_y.dim() - 2)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            g = grad_y if weight is None else grad_y * weight.view(shape)
            grad_x = s * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = (grad_y * x_hat).sum(dims)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(dims)
        return grad_x, grad_w, grad_b, None


# In[8]:


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


# In[9]:


get_ipython().run_cell_magic('time', '', 'x_t = torch.randn(16, 4, 5, dtype=torch.float64, requires_grad=True)\nprint(torch.autograd.gradcheck(lambda t: BatchNormFunction.apply(t, None, None, 1e-5), (x_t,)))\n')


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

# In[10]:


import torch
from torch import nn


def init_batchnorm(layer, num_features, eps, momentum, affine, track_running_stats, device, dtype):
    """Parameters, buffers and attributes shared by BatchNorm1d and BatchNorm2d (torch's names)."""
    layer.num_features, layer.eps, layer.momentum = num_features, eps, momentum
    layer.affine, layer.track_running_stats = affine, track_running_stats
    kw = dict(device=device, dtype=dtype)
    if affine:
        layer.weight = nn.Parameter(torch.ones(num_features, **kw))
        layer.bias = nn.Parameter(torch.zeros(num_features, **kw))
    else:
        layer.register_parameter("weight", None)
        layer.register_parameter("bias", None)
    if track_running_stats:
        layer.register_buffer("running_mean", torch.zeros(num_features, **kw))
        layer.register_buffer("running_var", torch.ones(num_features, **kw))
        layer.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
    else:
        layer.register_buffer("running_mean", None)
        layer.register_buffer("running_var", None)
        layer.register_buffer("num_batches_tracked", None)


def batchnorm_forward(layer, x):
    shape = [1, -1] + [1] * (x.dim() - 2)
    if not layer.training and layer.track_running_stats:
        y = (x - layer.running_mean.view(shape)) * torch.rsqrt(layer.running_var.view(shape) + layer.eps)
        if layer.affine:
            y = y * layer.weight.view(shape) + layer.bias.view(shape)
        return y
    if x.numel() // x.shape[1] <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")
    if layer.training and layer.track_running_stats:
        with torch.no_grad():
            dims = [0, *range(2, x.dim())]
            layer.num_batches_tracked += 1
            rho = layer.momentum if layer.momentum is not None else 1.0 / layer.num_batches_tracked.double()
            layer.running_mean.mul_(1 - rho).add_(rho * x.mean(dims))
            layer.running_var.mul_(1 - rho).add_(rho * x.var(dims, unbiased=True))
    return BatchNormFunction.apply(x, layer.weight, layer.bias, layer.eps)


class BatchNorm1d(nn.Module):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs, with torch's parameters and buffers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        init_batchnorm(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        return batchnorm_forward(self, x)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


# In[11]:


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


# In[12]:


import torch
from torch import nn


class BatchNorm2d(nn.Module):
    """Batch normalisation of ``(N, C, H, W)`` inputs, with torch's parameters and buffers."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        init_batchnorm(self, num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        return batchnorm_forward(self, x)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


# In[13]:


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


# In[14]:


get_ipython().run_line_magic('time', 'y_t = BatchNorm2d(4)(torch.randn(8, 4, 6, 6))')
print(y_t.shape)
get_ipython().run_line_magic('pinfo2', 'nn.BatchNorm2d')


# ## 3. Experiments
# 
# The cells below are tagged `experiment`: the grader skips them, and they only run once your layers work.
# They use scikit-learn's digits data set (ships with scikit-learn, no download) and compare your layers
# with PyTorch's as a sanity check.

# In[15]:


import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

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


def train(model, optimizer, X, y, epochs, batch_size, on_step=None):
    # Plain mini-batch training; returns per-epoch training loss, validation loss and accuracy.
    gen = torch.Generator().manual_seed(0)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(X), generator=gen).split(batch_size):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            if on_step is not None:
                on_step()
        model.eval()
        with torch.no_grad():
            out = model(X_val)
        history["train_loss"].append(total / len(X))
        history["val_loss"].append(nn.functional.cross_entropy(out, y_val).item())
        history["val_acc"].append((out.argmax(1) == y_val).float().mean().item())
    return history


# ### 3.1 Sanity checks against PyTorch
# 
# Dropout's statistics, `gradcheck` of your backward pass, and your `BatchNorm1d` / `BatchNorm2d` against
# `nn.BatchNorm1d` / `nn.BatchNorm2d` over a few training steps and in eval mode. Differences should be at
# the level of float32 rounding (around `1e-6` or below).

# In[16]:


torch.manual_seed(0)
ones = torch.ones(100_000, device=device)
for p in (0.2, 0.5, 0.9):
    out = Dropout(p)(ones)
    print(f"Dropout(p={p}): dropped {(out == 0).float().mean().item():.3f}, mean output "
          f"{out.mean().item():.3f} (should be about {p} and 1)")

x64 = torch.randn(6, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
w64 = torch.randn(4, dtype=torch.float64, device=device, requires_grad=True)
b64 = torch.randn(4, dtype=torch.float64, device=device, requires_grad=True)
print("gradcheck with affine:   ", torch.autograd.gradcheck(
    lambda x, w, b: BatchNormFunction.apply(x, w, b, 1e-5), (x64, w64, b64)))
print("gradcheck without affine:", torch.autograd.gradcheck(
    lambda x: BatchNormFunction.apply(x, None, None, 1e-5), (x64,)))

pairs = [(BatchNorm1d, nn.BatchNorm1d, (16, 5)), (BatchNorm1d, nn.BatchNorm1d, (16, 5, 7)),
         (BatchNorm2d, nn.BatchNorm2d, (8, 5, 4, 4))]
for ours_cls, torch_cls, shape in pairs:
    for momentum in (0.1, None):
        ours, theirs = ours_cls(5, momentum=momentum).to(device), torch_cls(5, momentum=momentum).to(device)
        worst = 0.0
        for _ in range(3):
            x = (torch.randn(shape, device=device) * 3 + 1).requires_grad_()
            x_ref = x.detach().clone().requires_grad_()
            y, y_ref = ours(x), theirs(x_ref)
            (y * y.detach().sin()).sum().backward()
            (y_ref * y_ref.detach().sin()).sum().backward()
            worst = max(worst, (y - y_ref).abs().max().item(), (x.grad - x_ref.grad).abs().max().item(),
                        (ours.running_var - theirs.running_var).abs().max().item())
        ours.eval()
        theirs.eval()
        worst = max(worst, (ours(x) - theirs(x)).abs().max().item())
        print(f"{ours_cls.__name__} {str(shape):14s} momentum={momentum}: max |difference| = {worst:.1e}")


# ### 3.2 Dropout against overfitting
# 
# Only 300 training digits, 30% of them with a random label, and a 64-256-256-10 MLP trained with Adam for
# 40 epochs: without dropout the network memorises the wrong labels and the validation loss climbs; with
# your `Dropout(p=0.5)` after each hidden layer it memorises more slowly and generalises better.

# In[17]:


n_small = 300
noise_gen = torch.Generator().manual_seed(3)
y_noisy = y_train[:n_small].clone().cpu()
flipped = torch.rand(n_small, generator=noise_gen) < 0.3
y_noisy[flipped] = torch.randint(0, 10, (int(flipped.sum()),), generator=noise_gen)
y_noisy = y_noisy.to(device)

dropout_runs = {}
for p in (0.0, 0.5):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), Dropout(p),
                          nn.Linear(256, 256), nn.ReLU(), Dropout(p),
                          nn.Linear(256, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    dropout_runs[p] = train(model, opt, X_train[:n_small], y_noisy, epochs=40, batch_size=25)
    print(f"p = {p}: final validation loss {dropout_runs[p]['val_loss'][-1]:.3f}, "
          f"accuracy {dropout_runs[p]['val_acc'][-1]:.3f}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(13, 4))
for p, hist in dropout_runs.items():
    label = "no dropout" if p == 0 else f"Dropout(p={p})"
    line, = ax_loss.plot(hist["train_loss"], label=f"{label}: training")
    ax_loss.plot(hist["val_loss"], "--", color=line.get_color(), label=f"{label}: validation")
    ax_acc.plot(hist["val_acc"], color=line.get_color(), label=label)
ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="training (noisy labels) and validation loss")
ax_acc.set(xlabel="epoch", ylabel="validation accuracy")
ax_loss.legend(fontsize=8)
ax_acc.legend(fontsize=8)
plt.show()


# ### 3.3 BatchNorm: faster training and a steadier input distribution
# 
# Two 4-hidden-layer tanh MLPs (width 64) trained with plain SGD ($\eta = 0.05$) for 20 epochs, one with your
# `BatchNorm1d` after every hidden linear layer. Left: learning curves. Middle and right: the mean and the
# standard deviation of what the third linear layer receives, recorded at every training step — the
# distribution that layer has to adapt to. With BatchNorm it stays put; without, it keeps drifting.

# In[18]:


def deep_mlp(batchnorm):
    torch.manual_seed(0)
    layers, width = [], 64
    for _ in range(4):
        layers.append(nn.Linear(64, width))
        if batchnorm:
            layers.append(BatchNorm1d(width))
        layers.append(nn.Tanh())
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers).to(device)


bn_runs, inputs_seen = {}, {}
for batchnorm in (True, False):
    model = deep_mlp(batchnorm)
    third_linear = [m for m in model if isinstance(m, nn.Linear)][2]
    seen = []
    hook = third_linear.register_forward_pre_hook(
        lambda module, args, seen=seen: seen.append((args[0].mean().item(), args[0].std().item()))
        if module.training else None)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    bn_runs[batchnorm] = train(model, opt, X_train, y_train, epochs=20, batch_size=64)
    hook.remove()
    inputs_seen[batchnorm] = torch.tensor(seen)
    print(f"BatchNorm={batchnorm}: final training loss {bn_runs[batchnorm]['train_loss'][-1]:.3f}, "
          f"validation accuracy {bn_runs[batchnorm]['val_acc'][-1]:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(16, 4))
for batchnorm, hist in bn_runs.items():
    label = "with BatchNorm1d" if batchnorm else "without BatchNorm"
    line, = axes[0].semilogy(hist["train_loss"], label=f"{label}: training")
    axes[0].semilogy(hist["val_loss"], "--", color=line.get_color(), label=f"{label}: validation")
    axes[1].plot(inputs_seen[batchnorm][:, 0], lw=0.8, color=line.get_color(), label=label)
    axes[2].plot(inputs_seen[batchnorm][:, 1], lw=0.8, color=line.get_color(), label=label)
axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="learning curves")
axes[1].set(xlabel="training step", title="mean of the 3rd layer's input")
axes[2].set(xlabel="training step", title="std of the 3rd layer's input")
axes[0].legend(fontsize=8)
axes[2].legend(fontsize=8)
plt.show()


# ### 3.4 Train mode versus eval mode
# 
# The BatchNorm network from 3.3 after training: its running statistics against the statistics of the
# whole training set, and its predictions in eval mode (running statistics, one example at a time works)
# against train mode (statistics of whatever batch it is given — here validation batches of different
# sizes).

# In[19]:


model = deep_mlp(batchnorm=True)
train(model, torch.optim.SGD(model.parameters(), lr=0.05), X_train, y_train, epochs=20, batch_size=64)
first_bn = [m for m in model if isinstance(m, BatchNorm1d)][0]
with torch.no_grad():
    pre = model[0](X_train)  # what the first BatchNorm layer normalises, over the whole training set
print("first BatchNorm layer, first 4 channels")
print("  running mean     ", [round(v, 3) for v in first_bn.running_mean[:4].tolist()])
print("  training-set mean", [round(v, 3) for v in pre.mean(0)[:4].tolist()])
print("  running var      ", [round(v, 3) for v in first_bn.running_var[:4].tolist()])
print("  training-set var ", [round(v, 3) for v in pre.var(0)[:4].tolist()])

with torch.no_grad():
    model.eval()
    eval_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    single = model(X_val[:1])  # works in eval mode: no batch statistics needed
    model.train()  # train mode normalises with the statistics of each batch it is given
    for batch_size in (2, 8, 64):
        preds = torch.cat([model(X_val[i:i + batch_size]).argmax(1)
                           for i in range(0, len(X_val) - batch_size + 1, batch_size)])
        acc = (preds == y_val[:len(preds)]).float().mean().item()
        print(f"train-mode accuracy with validation batches of {batch_size:2d}: {acc:.3f}")
print(f"eval-mode accuracy: {eval_acc:.3f}; a single example gives logits of shape {tuple(single.shape)}")


# ### 3.5 `BatchNorm2d` in a small convolutional network
# 
# The digits as 1×8×8 images, two 3×3 convolution blocks, with and without your `BatchNorm2d` after each
# convolution, plain SGD ($\eta = 0.05$), 8 epochs.

# In[20]:


def conv_net(batchnorm):
    torch.manual_seed(0)
    norm = (lambda c: BatchNorm2d(c)) if batchnorm else (lambda c: nn.Identity())
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1), norm(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), norm(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    ).to(device)


fig, ax = plt.subplots(figsize=(7, 4))
for batchnorm in (True, False):
    model = conv_net(batchnorm)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    hist = train(model, opt, X_train, y_train, epochs=8, batch_size=64)
    label = "with BatchNorm2d" if batchnorm else "without BatchNorm"
    line, = ax.plot(hist["train_loss"], label=f"{label}: training")
    ax.plot(hist["val_loss"], "--", color=line.get_color(), label=f"{label}: validation")
    print(f"{label}: validation accuracy {hist['val_acc'][-1]:.3f}")
ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="small CNN on digits")
ax.legend(fontsize=8)
plt.show()


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

# In[21]:


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
