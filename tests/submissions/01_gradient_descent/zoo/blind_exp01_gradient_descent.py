#!/usr/bin/env python
# coding: utf-8

# # Assignment 1 · Gradient descent: stochastic, mini-batch, and when to stop
# 
# This notebook follows the first part of the lecture *Optimization techniques in deep learning*. You will
# build three small pieces of a training loop and then use them in experiments:
# 
# | graded name | what it is |
# |---|---|
# | `PowerDecayLR` | the step-size schedule $\eta_t = \eta_0 / t^{0.3}$ as a PyTorch learning-rate scheduler |
# | `minibatches` | random mini-batches of indices, each object once per epoch |
# | `fit` | mini-batch training with early stopping on the validation loss |
# 
# **How this notebook is organised.**
# 
# * *Solution cells* hold a signature and a docstring. Replace each `raise NotImplementedError(...)` line
#   with your code. Keep the names and signatures exactly as given.
# * Each solution cell is followed by a *self-check cell* (read-only). It runs a few quick public checks;
#   the real grading happens later with many more checks.
# * Cells tagged `experiment` (training runs and plots) use your code to make the lecture visible. They
#   are **not** run by the grader, so they may be slow-ish, use matplotlib and scikit-learn, and compare
#   with PyTorch's built-in classes.
# 
# **Rules for graded code.** Write the computation yourself with tensor operations. Delegating to PyTorch's
# own implementation scores zero for that item: no `torch.optim.lr_scheduler` classes other than the
# `LRScheduler` base class (so no `LambdaLR`, `MultiplicativeLR`, ...), no `torch.optim.SGD`/`Adam`/...
# or their functional forms inside your solution, and no imports of the course kit. Plain `torch`,
# `torch.nn`, `math` and `copy` are fine.

# In[1]:


# Imports every part of this notebook uses. Non-experiment cells must stay fast and free of side
# effects: the grader runs them (and only them) as one module.
import copy
import math

import torch
from torch import nn

# Experiments run on a GPU when there is one; everything also works on a laptop CPU in seconds.
device = "cuda" if torch.cuda.is_available() else "cpu"


# ## 1. Gradient descent and its stochastic version
# 
# Training a model $a(x; w)$ means minimising the empirical risk over the $\ell$ training objects,
# 
# $$Q(w) = \frac{1}{\ell} \sum_{i=1}^{\ell} L\bigl(y_i, a(x_i; w)\bigr).$$
# 
# **Gradient descent (GD)** starts from an initial guess $w^0$ and repeatedly moves against the gradient,
# 
# $$w^{t} = w^{t-1} - \eta\, \nabla Q(w^{t-1}),$$
# 
# so every single step needs the gradient of the loss on *all* $\ell$ objects.
# 
# **Stochastic gradient descent (SGD)** replaces the full gradient by the gradient on *one* object $i_t$
# drawn at random at every step:
# 
# 1. choose an initial approximation $w^0$;
# 2. repeat: draw an object $i_t$ at random and update
#    $$w^{t} = w^{t-1} - \eta_t\, \nabla L\bigl(y_{i_t}, a(x_{i_t}; w^{t-1})\bigr);$$
# 3. stop when the error on held-out data stops decreasing (section 4).
# 
# Why does this work, and what does it cost?
# 
# * **Unbiased estimate.** If $i_t$ is uniform over the training set, then
#   $\mathbb{E}_{i_t}\bigl[\nabla L(y_{i_t}, a(x_{i_t}; w))\bigr] = \nabla Q(w)$: on average, a stochastic step points
#   the same way as a full step, at $1/\ell$ of the price.
# * **The noise does not vanish at the optimum.** At a minimiser $w^\*$ the *average* gradient is zero,
#   but the gradient of one object almost never is. With a constant step size the iterates therefore keep
#   jumping around $w^\*$ in a cloud whose size grows with $\eta$.
# * **Hence smaller and smaller steps.** Shrinking $\eta_t$ over time shrinks that cloud and lets the
#   parameters settle. The lecture uses
#   $$\eta_t = \frac{0.1}{t^{0.3}}, \qquad t = 1, 2, 3, \dots$$
# * **Guarantees.** Convergence to the *global* minimum is only guaranteed for convex $Q$ (with a suitably
#   decaying step size). For the non-convex losses of neural networks we can only hope for a good local
#   minimum, which in practice is usually good enough.
# 
# > *Aside.* The classical sufficient conditions of Robbins and Monro ask for $\sum_t \eta_t = \infty$
# > (steps large enough to get anywhere) and $\sum_t \eta_t^2 < \infty$ (noise eventually averaged out).
# > For $\eta_t = c / t^{p}$ that means $1/2 < p \le 1$. The lecture's $p = 0.3$ decays more gently: a
# > pragmatic choice that keeps learning fast for longer, while still damping the noise.

# ## 2. The step-size schedule as a PyTorch scheduler: `PowerDecayLR`
# 
# In PyTorch the learning rate lives in the optimizer (`optimizer.param_groups[i]["lr"]`), and a
# *scheduler* rewrites it. Every scheduler derives from `torch.optim.lr_scheduler.LRScheduler`, whose
# machinery works like this:
# 
# * The constructor `LRScheduler.__init__(optimizer, last_epoch)` stores each group's starting learning
#   rate in `self.base_lrs`, sets `self.last_epoch = last_epoch` (default `-1`), and then calls
#   `self.step()` once.
# * `step()` adds one to `self.last_epoch`, calls **your** `get_lr()` and writes the returned list (one
#   learning rate per param group) into the optimizer.
# 
# So right after construction `last_epoch` is `0`; after `k` calls of `scheduler.step()` it is `k`. With
# $t = k + 1$, the lecture's schedule is
# 
# $$\eta = \frac{\eta_0}{(k + 1)^{p}}, \qquad \eta_0 = \text{the group's base learning rate}, \; p = \texttt{power}.$$
# 
# **Contract of `PowerDecayLR(optimizer, power=0.3, last_epoch=-1)`.**
# 
# * Subclass `LRScheduler` and implement `__init__` and `get_lr`.
# * Right after construction every group's lr equals its base lr; after `k` calls of `scheduler.step()`
#   it is `base_lr / (k + 1) ** power` — the same numbers as
#   `LambdaLR(optimizer, lambda k: (k + 1) ** -power)` (which you may *not* use).
# * Store `power` as an attribute **before** calling `super().__init__(...)`, because the base constructor
#   already calls `get_lr()`.
# * Keep all state in plain attributes: the inherited `state_dict()`/`load_state_dict()` save and restore
#   `self.__dict__`, so a restored scheduler continues the schedule where it stopped.
# * Work for every param group, each with its own base learning rate.

# In[2]:


import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    """Polynomially decaying learning rate: ``lr = base_lr / (k + 1) ** power`` after ``k`` steps.

    With ``base_lr = 0.1`` and ``power = 0.3`` this is the lecture's ``eta_t = 0.1 / t ** 0.3``
    with ``t = k + 1``. Call ``scheduler.step()`` once after every ``optimizer.step()``.

    Args:
        optimizer: the wrapped optimizer; each param group keeps its own base learning rate.
        power: the exponent ``p`` of the decay (``0.3`` in the lecture).
        last_epoch: index of the last step, ``-1`` for a fresh schedule (see ``LRScheduler``).
    """

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Return the learning rate of every param group for step ``self.last_epoch``."""
        t = self.last_epoch + 1
        return [base_lr / t ** self.power for base_lr in self.base_lrs]


# In[3]:


# Public self-check: learning rates of the first few steps for one param group.
_w = torch.zeros(2, requires_grad=True)
_opt = torch.optim.SGD([_w], lr=0.1)  # torch's SGD only drives the scheduler here
_sched = PowerDecayLR(_opt, power=0.3)
assert isinstance(_sched, torch.optim.lr_scheduler.LRScheduler)
for _k in range(4):
    assert math.isclose(_opt.param_groups[0]["lr"], 0.1 / (_k + 1) ** 0.3, rel_tol=1e-9), _k
    _opt.step()
    _sched.step()
print("PowerDecayLR: public self-check passed")


# My own look at the first learning rates (two param groups):

# In[4]:


w_demo = torch.zeros(2, requires_grad=True)
opt_demo = torch.optim.SGD([{"params": [w_demo], "lr": 0.1},
                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 1.0}])
sched_demo = PowerDecayLR(opt_demo, power=0.3)
lrs_demo = []
for _ in range(5):
    lrs_demo.append([round(g["lr"], 5) for g in opt_demo.param_groups])
    opt_demo.step()
    sched_demo.step()
display(lrs_demo)
print("state_dict:", sched_demo.state_dict())


# ## 3. Mini-batch gradient descent: `minibatches`
# 
# One object per step gives a very noisy direction, and a modern processor is badly used by a single
# object. **Mini-batch GD** averages the gradient over $n$ random objects:
# 
# 1. choose an initial approximation $w^0$;
# 2. repeat: draw a set of $n$ random objects $(x_{t,1}, y_{t,1}), \dots, (x_{t,n}, y_{t,n})$ and update
#    $$w^{t} = w^{t-1} - \eta_t\, \frac{1}{n} \sum_{j=1}^{n} \nabla L\bigl(y_{t,j}, a(x_{t,j}; w^{t-1})\bigr);$$
# 3. stop when the error on held-out data stops decreasing.
# 
# In practice "random objects" is implemented by shuffling the data once per **epoch** (one pass over the
# training set) and cutting the shuffled order into consecutive batches. Every object is then used exactly
# once per epoch, and the batch gradient is still an unbiased estimate of $\nabla Q$.
# 
# **Contract of `minibatches(n, batch_size, *, shuffle=True, generator=None)`.**
# 
# * Returns an iterable (a generator is fine) of 1-D `torch.long` index tensors.
# * Together the batches cover `range(n)` exactly once, in the order of
#   `torch.randperm(n, generator=generator)` when `shuffle=True` (draw **one** permutation per call, with
#   the given generator, or torch's global generator when `generator` is `None`), and in the order of
#   `torch.arange(n)` when `shuffle=False`.
# * Every batch holds `batch_size` indices, except possibly the last one, which holds the rest.
# * Raise `ValueError` when `batch_size < 1`, already when `minibatches(...)` is called (not only when the
#   first batch is requested: hint, validate first, then return a generator expression).

# In[5]:


import torch


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    """Split the indices ``0 .. n-1`` into consecutive mini-batches.

    Args:
        n: number of objects.
        batch_size: indices per batch (the last batch may be smaller); must be at least 1.
        shuffle: use the order of ``torch.randperm(n, generator=generator)``; otherwise ``0, 1, ..., n-1``.
        generator: optional ``torch.Generator`` for the permutation (torch's global RNG when ``None``).

    Returns:
        An iterable of 1-D ``torch.long`` tensors that together contain every index exactly once.

    Raises:
        ValueError: if ``batch_size < 1`` (raised by the call itself).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return (order[i:i + batch_size] for i in range(0, n, batch_size))


# In[6]:


# Public self-check: sizes and coverage without shuffling, and the error for a bad batch size.
_batches = list(minibatches(7, 3, shuffle=False))
assert [b.tolist() for b in _batches] == [[0, 1, 2], [3, 4, 5], [6]]
assert all(b.dtype == torch.long and b.dim() == 1 for b in _batches)
assert sorted(torch.cat(list(minibatches(10, 4))).tolist()) == list(range(10))
try:
    minibatches(5, 0)
except ValueError:
    pass
else:
    raise AssertionError("minibatches(5, 0) should raise ValueError")
print("minibatches: public self-check passed")


# In[7]:


batches_demo = list(minibatches(10, 4, generator=torch.Generator().manual_seed(0)))
display(batches_demo)
print([len(b) for b in batches_demo])


# ### How large should a batch be?
# 
# The batch size trades *noise* against *cost per step*:
# 
# * **Cost.** On vector hardware a step on a few dozen objects costs barely more than a step on one: the
#   work is done in parallel (the experiment below measures it). Per processed object, tiny batches waste
#   most of the machine.
# * **Noise.** Averaging $n$ independent gradients divides the variance of the estimate by $n$. A little
#   noise is useful, though: small batches make many cheap, up-to-date updates per epoch and tend to find
#   solutions that generalise well.
# * **What experiments say.** Typical batch sizes are in the tens or hundreds. A systematic study on
#   CIFAR-10/100 and ImageNet (Masters & Luschi, 2018) found that the range of learning rates that train
#   stably shrinks as the batch grows, and that the best test results came from batches of 2 to 32.
#   Yann LeCun summarised it as "friends don't let friends use mini-batches larger than 32".
# * **Large batches can work** if the step size is chosen with care: scale the learning rate with the
#   batch size and warm it up (Goyal et al., 2017), or keep the step size and *increase the batch size*
#   during training instead of decaying the step (Smith et al., 2018).
# * **Powers of two** (16, 32, 64, ...) are the customary choice because memory and GPU kernels are
#   organised in blocks of such sizes; the effect on speed is often small, so treat it as a convention.

# ## 4. Early stopping: `fit`
# 
# Training error keeps falling as long as we train, but the error on *unseen* data typically falls, flattens
# and then rises again as the model starts to memorise the training set. **Early stopping** watches the
# loss on a held-out validation set after every epoch, keeps the weights of the best epoch, and stops once
# the validation loss has not improved for `patience` epochs in a row.
# 
# **Contract of `fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None, generator=None)`.**
# 
# `train` and `val` are pairs `(X, y)` of tensors. For each epoch `e = 0, 1, 2, ...`:
# 
# 1. `model.train()`; then for every `idx` in
#    `minibatches(len(X), batch_size, shuffle=True, generator=generator)` — call the module-level
#    `minibatches` by that name, the grader may swap in its own: `optimizer.zero_grad()`,
#    `loss = loss_fn(model(X[idx]), y[idx])`, `loss.backward()`, `optimizer.step()`, and then
#    `scheduler.step()` if a scheduler was given (once per optimizer step, not once per epoch).
# 2. `train_loss[e]` is the batch-size-weighted mean of the batch losses of the epoch, each taken as computed
#    in the forward pass (before its step), as a Python `float`.
# 3. `model.eval()`; `val_loss[e]` is the loss of **one** forward pass over the whole validation set under
#    `torch.no_grad()`, as a Python `float`.
# 4. Bookkeeping: an epoch *improves* if its validation loss is **strictly** lower than the best so far.
#    `best_epoch` is the first epoch with the lowest validation loss. Stop as soon as `patience` (>= 1)
#    epochs in a row brought no improvement, or after `max_epochs` epochs.
# 
# Return `{"train_loss": [...], "val_loss": [...], "best_epoch": int}` with one entry per epoch that was
# run. Before returning, give the model back the **full** `state_dict()` (parameters *and* buffers) it had
# at the end of `best_epoch`: save a deep copy (`copy.deepcopy(model.state_dict())`; the tensors of a plain
# `state_dict()` change as training goes on) and restore it with `model.load_state_dict(...)`.

# In[8]:


import copy
import math

import torch


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    """Mini-batch training with early stopping on the validation loss.

    Args:
        model: an ``nn.Module``.
        loss_fn: ``loss_fn(prediction, target)`` returning a scalar mean loss.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters.
        train, val: pairs ``(X, y)`` of tensors.
        batch_size: objects per mini-batch (batches come from the module-level ``minibatches``).
        max_epochs: upper limit on the number of epochs.
        patience: stop after this many epochs in a row without a strict improvement (>= 1).
        scheduler: optional learning-rate scheduler, stepped once after every optimizer step.
        generator: optional ``torch.Generator`` passed on to ``minibatches``.

    Returns:
        ``{"train_loss": [float, ...], "val_loss": [float, ...], "best_epoch": int}``; the model ends
        with the weights (and buffers) it had at the end of ``best_epoch``.
    """
    X, y = train
    X_val, y_val = val
    history = {"train_loss": [], "val_loss": [], "best_epoch": 0}
    best_loss, best_state, bad_epochs = math.inf, None, 0
    for epoch in range(max_epochs):
        model.train()
        total = 0.0
        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
        history["train_loss"].append(total / len(X))
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(X_val), y_val).item()
        history["val_loss"].append(val_loss)
        if val_loss < best_loss:
            best_loss, bad_epochs = val_loss, 0
            history["best_epoch"] = epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    model.load_state_dict(best_state)
    return history


# In[9]:


# Public self-check: a tiny regression problem, the shape of the result, and the restored weights.
torch.manual_seed(0)
_X = torch.randn(32, 3)
_y = _X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1
_model = nn.Linear(3, 1)
_hist = fit(_model, lambda out, target: ((out.squeeze(1) - target) ** 2).mean(),
            torch.optim.SGD(_model.parameters(), lr=0.05), (_X[:24], _y[:24]), (_X[24:], _y[24:]),
            batch_size=8, max_epochs=5, patience=2)
assert set(_hist) >= {"train_loss", "val_loss", "best_epoch"}
assert len(_hist["train_loss"]) == len(_hist["val_loss"]) <= 5
assert all(isinstance(v, float) for v in _hist["train_loss"] + _hist["val_loss"])
assert _hist["val_loss"][_hist["best_epoch"]] == min(_hist["val_loss"])
with torch.no_grad():
    _restored = ((_model(_X[24:]).squeeze(1) - _y[24:]) ** 2).mean().item()
assert math.isclose(_restored, min(_hist["val_loss"]), rel_tol=1e-5), "weights of best_epoch not restored"
print("fit: public self-check passed")


# In[10]:


from tqdm.auto import tqdm

torch.manual_seed(1)
X_demo = torch.randn(40, 3)
y_demo = X_demo @ torch.tensor([1.0, -1.0, 2.0])
for bs_demo in tqdm([4, 8, 16], desc="batch sizes"):
    model_demo = nn.Linear(3, 1)
    hist_demo = fit(model_demo, lambda out, t: ((out.squeeze(1) - t) ** 2).mean(),
                    torch.optim.SGD(model_demo.parameters(), lr=0.05), (X_demo[:30], y_demo[:30]),
                    (X_demo[30:], y_demo[30:]), batch_size=bs_demo, max_epochs=5, patience=2)
    print(bs_demo, hist_demo["best_epoch"], [round(v, 4) for v in hist_demo["val_loss"]])


# ## 5. Experiments
# 
# The cells below are tagged `experiment` (see the cell's tags in the property inspector): the grader
# skips them. They use your `PowerDecayLR`, `minibatches` and `fit`, so they only run once those work.
# PyTorch's own `torch.optim.SGD` moves the weights here; implementing optimizers is the next assignment.
# 
# We use scikit-learn's *digits* data set (1797 grey-scale 8×8 images of handwritten digits; it ships
# with scikit-learn, no download) and a small synthetic regression problem.

# ### 5.1 GD versus SGD on a two-parameter problem
# 
# Least squares with two weights, so that we can draw the loss surface: full-batch GD, SGD with one random
# object per step and a constant step, and SGD with the lecture's schedule $\eta_t = 0.1/t^{0.3}$ (your
# `PowerDecayLR`, with objects drawn by your `minibatches(n, 1)`). The right panel measures progress per
# *object processed*: a GD step costs as much as $\ell = 200$ SGD steps.

# What to look for: SGD gets close to the minimum after a few hundred *objects*, long before GD has finished
# its first few steps in the same budget. With a constant step SGD then hovers in a noise cloud around
# $w^\*$ (the gap stops shrinking); the decaying step keeps shrinking the cloud. GD converges steadily, but
# each of its steps costs a full pass over the data.

# ### 5.2 Learning curves for batch sizes 1, 10 and 100
# 
# Softmax regression on digits, trained with your `fit` for 6 epochs (no early stopping:
# `patience=max_epochs`) and plain SGD with $\eta = 0.01$, for batch sizes 1, 10 and 100. Two extra runs:
# batch size 1 with the lecture's schedule $\eta_t = 0.1/t^{0.3}$, and batch size 100 with the step scaled
# up 100 times (the *linear scaling rule*). Left: validation loss per epoch (same data seen); right: per
# optimizer step.

# With the same small step, progress *per step* hardly depends on the batch size (right panel: the curves
# continue each other), so per epoch the small batches win, because they make 100 times more steps. But
# the steps of size-100 batches are computed far more efficiently (next experiment), and scaling their
# step size up recovers much of the gap. The lecture's decaying schedule lets batch size 1 start with a
# larger step and still settle down.

# ### 5.3 What a step costs as the batch grows
# 
# Time per optimizer step of a small MLP for batch sizes $1, 2, 4, \dots, 512$. (Timings are noisy and
# depend on your machine.)

# ### 5.4 Early stopping
# 
# An over-sized MLP trained on only 100 digits, of which about a fifth carry a wrong label, memorises its
# training set. We train it once for 100 epochs (`patience=100`, so it never stops) to see the whole
# validation curve, and once with `patience=10`: your `fit` should stop about 10 epochs after the minimum
# of the validation loss and return the weights of the best epoch.

# ## 6. Questions to think about (not graded)
# 
# 1. Why must `fit` deep-copy the `state_dict`? What would go wrong with `best = model.state_dict()`?
# 2. In 5.1, how does the size of SGD's noise cloud change if you halve the constant step size?
# 3. The lecture's schedule uses $p = 0.3$. Try $p = 0.6$ and $p = 1$ in 5.1: what happens early and late?
# 4. In 5.2, why do the curves of different batch sizes nearly coincide when plotted per step?

# ### Before you submit: the policy self-check
# 
# The grader reads your code before it runs any of it. Save the notebook (Ctrl-S), then run the next cell: it applies the grader's own check to the cells the grader will run and prints each problem with its cell and line, or *no problems found*. (`check_submission.py` sits next to this notebook; `python check_submission.py 01_gradient_descent.ipynb` in a terminal does the same, also for a `.py` export.)

# In[16]:


get_ipython().run_line_magic('run', 'check_submission.py 01_gradient_descent.ipynb')


# ## Submitting
# 
# * Submit this notebook (`01_gradient_descent.ipynb`) with your solution cells filled in. Keep the cells
#   as they are: do not delete, merge or re-tag them.
# * Or submit a Python file named **`gradient_descent.py`**, exported with this command (in a terminal, in the
#   notebook's folder), which leaves out the cells tagged `experiment`:
# 
#   ```
#   jupyter nbconvert --to python --TagRemovePreprocessor.remove_cell_tags experiment --output gradient_descent 01_gradient_descent.ipynb
#   ```
# 
#   Why: everything outside functions and classes runs when the grader loads your module, and that
#   module-level code has a time budget (20 s of CPU time in all). Experiment code left in a `.py`
#   file (training runs, plots) spends that budget before any check runs; past it, every check ends
#   with *timeout*. (`--to script` or *Download as* keep the experiments.)
# * Graded code computes its results itself: calling or subclassing PyTorch's own implementation
#   (`torch.optim.lr_scheduler` classes other than `LRScheduler`, such as `LambdaLR`) scores 0
#   (*forbidden*). Code the submission policy does not allow (imports other than `torch`, `math`, `numpy`,
#   `matplotlib` and the like; `eval`, `exec` or `getattr` with a computed name; dunder attributes such as
#   `__dict__`; PyTorch internals other than `torch._foreach_*`; changing PyTorch's functions or classes)
#   scores 0 until a TA has read it (*review*). The self-check cell above shows both.
# * The grader runs only the code cells that are neither self-check cells nor tagged `experiment`, top to
#   bottom as one module, under a time limit: keep everything your solutions need (imports, helpers) in
#   those cells, and nothing slow.
# * Hidden checks go well beyond the self-checks: they cover every argument and hyper-parameter, several
#   param groups, saving and restoring state, and edge cases such as a short last batch.
# * Your feedback shows the checks not passed first, each with what differed (your value and the
#   expected one) and the smallest failing case as code that runs as printed: paste it into a new
#   cell at the end of your notebook (for a `.py`, run it in the folder of your file); it prints
#   your value and the expected one. Convergence checks draw your loss curve next to the
#   reference's on the same problem.
