"""Equivalent rewrites a student may write: each is a correct file with one snippet rewritten in another
style, and must keep full marks. They guard the checks against being stricter than DESIGN.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EquivalentSubmission:
    assignment: str
    name: str
    base: str  # correct file it rewrites, relative to tests/submissions/<assignment>/
    old: str  # exact snippet of the base, occurring exactly once
    new: str  # the equivalent rewrite
    style: str  # what the rewrite does differently


GD = "01_gradient_descent"

KNOWN_EQUIVALENT: list[EquivalentSubmission] = [
    EquivalentSubmission(
        GD,
        "scheduler_overrides_step",
        "correct/loop.py",
        "    def get_lr(self):\n        k = self.last_epoch\n",
        "    def step(self, epoch=None):\n        self.last_epoch += 1\n        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):\n            group['lr'] = base_lr * (self.last_epoch + 1) ** -self.power\n        self._last_lr = [group['lr'] for group in self.optimizer.param_groups]\n\n    def get_lr(self):\n        k = self.last_epoch\n",
        "overrides step() and sets each group's lr in closed form",
    ),
    EquivalentSubmission(
        GD,
        "minibatches_split",
        "correct/loop.py",
        "    for start in range(0, n, batch_size):\n        yield order[start:start + batch_size]\n",
        "    yield from order.split(batch_size)  # n = 0: one empty batch, which is fine\n",
        "splits the permutation with Tensor.split instead of a slicing loop",
    ),
    EquivalentSubmission(
        GD,
        "fit_inference_mode_and_deepcopied_model",
        "correct/loop.py",
        "        with torch.no_grad():\n            val_loss = loss_fn(model(X_val), y_val).item()\n",
        "        with torch.inference_mode():\n            val_loss = loss_fn(model(X_val), y_val).item()\n",
        "validates under torch.inference_mode() instead of no_grad",
    ),
    EquivalentSubmission(
        GD,
        "fit_best_model_copy",
        "correct/classes.py",
        "            self.best_state = copy.deepcopy(model.state_dict())\n",
        "            self.best_state = copy.deepcopy(model).state_dict()\n",
        "deep-copies the whole model and keeps its state_dict",
    ),
    EquivalentSubmission(
        GD,
        "fit_float32_accumulator",
        "correct/loop.py",
        '            total += loss.item() * len(idx)\n            seen += len(idx)\n        history["train_loss"].append(total / seen)\n',
        '            total = total + loss.detach().float() * len(idx)\n            seen += len(idx)\n        history["train_loss"].append(float(total / seen))\n',
        "accumulates the epoch loss in a float32 tensor",
    ),
    EquivalentSubmission(
        "02_optimizers",
        "sgd_int_defaults_as_torch_writes_them",
        "correct/loop.py",
        "    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,\n"
        "                 nesterov=False, *, maximize=False):\n",
        "    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,\n"
        "                 nesterov=False, *, maximize=False):\n",
        "integer defaults, as torch.optim.SGD's signature writes momentum=0 (equal by value)",
    ),
]

# Torch's own signatures and conventions (issue 11): what a student copying torch writes keeps full marks.
KNOWN_EQUIVALENT += [
    EquivalentSubmission(
        "03_regularization",
        "dropout_torch_signature",
        "correct/loop.py",
        "    def __init__(self, p=0.5):\n",
        "    def __init__(self, p=0.5, inplace=False):\n",
        "torch.nn.Dropout's signature, with its trailing inplace=False",
    ),
    EquivalentSubmission(
        "03_regularization",
        "bn1d_torch_signature",
        "correct/loop.py",
        "class BatchNorm1d(nn.Module):\n"
        "    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):\n",
        "class BatchNorm1d(nn.Module):\n"
        "    def __init__(self, num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,\n"
        "                 device=None, dtype=None):\n"
        "        self._build(num_features, eps, momentum, affine, track_running_stats)\n"
        "        self.to(device=device, dtype=dtype)  # the factory keywords, honoured as torch does\n"
        "\n"
        "    def _build(self, num_features, eps, momentum, affine, track_running_stats):\n",
        "torch.nn.BatchNorm1d's signature: eps written 1e-05, trailing device=None, dtype=None (honoured)",
    ),
    EquivalentSubmission(
        "03_regularization",
        "dropout_p1_where",
        "correct/loop.py",
        "            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients\n",
        "            return torch.where(torch.zeros_like(x, dtype=torch.bool), x, 0.0)\n",
        "p=1 as torch.where with an all-False mask: zeros with a graph",
    ),
    EquivalentSubmission(
        "02_optimizers",
        "adam_beta_range_with_ints",
        "correct/loop.py",
        "        if not 0.0 <= betas[1] < 1.0:\n",
        "        if not (0 <= betas[1] and betas[1] < 1):\n",
        "the beta range written with ints and two comparisons",
    ),
    EquivalentSubmission(
        "02_optimizers",
        "adagrad_initial_accumulator_from_constructor",
        "correct/loop.py",
        '                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])\n',
        '                    state["sum"] = torch.full_like(p, self.defaults["initial_accumulator_value"])\n',
        "initial_accumulator_value from the constructor only, as torch.optim.Adagrad reads it",
    ),
]
