"""Deliberately wrong submissions: one realistic student bug each, as a mutation of a correct file.

Each `WrongSubmission` names a correct submission (`<assignment>/<base>`), an exact snippet `old` of it
(occurring exactly once) and the buggy replacement `new`. `mutated_source()` builds the wrong
submission's text; the kit's tests grade it and assert that it loses points on exactly the rubric
lines in `fails` and keeps every other line.

`fails` was predicted from the checks described in DESIGN.md and then calibrated against the engine
(tests/engine/: every entry loses exactly these lines). Comments next to an entry say why a line that
one might expect is, or is not, lost (how a check isolates its subject).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class WrongSubmission:
    assignment: str  # "01_gradient_descent" | "02_optimizers" | "03_regularization"
    name: str  # short slug, unique within the table
    base: str  # correct file it mutates, relative to tests/submissions/<assignment>/
    old: str  # exact snippet of the base, occurring exactly once
    new: str  # the buggy replacement
    fails: frozenset  # rubric check ids that must lose points; every other line keeps its points
    reason: str  # the plausible student bug, one sentence

    @property
    def base_path(self) -> Path:
        return HERE / self.assignment / self.base

    def mutated_source(self) -> str:
        text = self.base_path.read_text()
        count = text.count(self.old)
        if count != 1:
            raise ValueError(f"{self.name}: snippet occurs {count} times in {self.base}")
        return text.replace(self.old, self.new)


def _w(assignment, name, base, old, new, fails, reason):
    return WrongSubmission(assignment, name, base, old, new, frozenset(fails), reason)


GD, OPT, REG = "01_gradient_descent", "02_optimizers", "03_regularization"

KNOWN_WRONG: list[WrongSubmission] = [
    # ------------------------------------------------------------------ 01: PowerDecayLR
    _w(GD, "pdlr_t_is_step_count", "correct/loop.py",
       "        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]",
       "        return [base_lr / max(k, 1) ** self.power for base_lr in self.base_lrs]",
       {"PowerDecayLR.schedule"},
       "Uses t = k (guarded against 0) instead of t = k + 1, so the first decayed lr is still base_lr."),
    _w(GD, "pdlr_power_sign", "correct/loop.py",
       "        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]",
       "        return [base_lr * (k + 1) ** self.power for base_lr in self.base_lrs]",
       {"PowerDecayLR.schedule"},
       "Multiplies by (k + 1) ** power instead of dividing, so the learning rate grows."),
    _w(GD, "pdlr_first_group_lr", "correct/loop.py",
       "        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]",
       "        return [self.base_lrs[0] / (k + 1) ** self.power for _ in self.optimizer.param_groups]",
       {"PowerDecayLR.schedule"},
       "Decays the first group's base lr and gives it to every param group."),
    _w(GD, "pdlr_global_counter", "correct/loop.py",
       'class PowerDecayLR(LRScheduler):\n'
       '    """lr_k = base_lr / (k + 1) ** power after k calls of step() (the lecture\'s 0.1 / t^0.3)."""\n'
       '\n'
       '    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n'
       '        self.power = power  # must exist before the base class calls get_lr()\n'
       '        super().__init__(optimizer, last_epoch)\n'
       '\n'
       '    def get_lr(self):\n'
       '        k = self.last_epoch\n',
       'steps_done = 0  # how many times the schedule has been advanced\n'
       '\n'
       '\n'
       'class PowerDecayLR(LRScheduler):\n'
       '    """lr_k = base_lr / (k + 1) ** power after k calls of step() (the lecture\'s 0.1 / t^0.3)."""\n'
       '\n'
       '    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n'
       '        self.power = power  # must exist before the base class calls get_lr()\n'
       '        super().__init__(optimizer, last_epoch)\n'
       '\n'
       '    def get_lr(self):\n'
       '        global steps_done\n'
       '        k = steps_done\n'
       '        steps_done += 1\n',
       {"PowerDecayLR.schedule", "PowerDecayLR.state_dict_resume"},
       "Counts steps in a module-level variable, so a second scheduler (or a resumed one) continues "
       "the first one's count."),
    _w(GD, "pdlr_power_set_after_super", "correct/loop.py",
       "        self.power = power  # must exist before the base class calls get_lr()\n"
       "        super().__init__(optimizer, last_epoch)\n",
       "        super().__init__(optimizer, last_epoch)\n"
       "        self.power = power\n",
       {"PowerDecayLR.interface", "PowerDecayLR.schedule", "PowerDecayLR.state_dict_resume"},
       "Sets self.power after super().__init__(), which already calls get_lr(): AttributeError on construction."),
    _w(GD, "pdlr_plain_class", "correct/loop.py",
       'class PowerDecayLR(LRScheduler):\n'
       '    """lr_k = base_lr / (k + 1) ** power after k calls of step() (the lecture\'s 0.1 / t^0.3)."""\n'
       '\n'
       '    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n'
       '        self.power = power  # must exist before the base class calls get_lr()\n'
       '        super().__init__(optimizer, last_epoch)\n'
       '\n'
       '    def get_lr(self):\n'
       '        k = self.last_epoch\n'
       '        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]\n',
       'class PowerDecayLR:\n'
       '    """My own scheduler: lr_k = base_lr / (k + 1) ** power."""\n'
       '\n'
       '    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n'
       '        self.optimizer = optimizer\n'
       '        self.power = power\n'
       '        self.last_epoch = last_epoch + 1\n'
       '        self.base_lrs = [group["lr"] for group in optimizer.param_groups]\n'
       '\n'
       '    def step(self):\n'
       '        self.last_epoch += 1\n'
       '        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):\n'
       '            group["lr"] = base_lr / (self.last_epoch + 1) ** self.power\n',
       {"PowerDecayLR.interface", "PowerDecayLR.schedule", "PowerDecayLR.state_dict_resume"},
       "Writes a plain class with step() instead of subclassing LRScheduler: right lrs, but no "
       "state_dict()/load_state_dict()."),
    # ------------------------------------------------------------------ 01: minibatches
    _w(GD, "mb_drops_last_partial_batch", "correct/loop.py",
       "    for start in range(0, n, batch_size):\n",
       "    for start in range(0, n - batch_size + 1, batch_size):\n",
       {"minibatches.coverage", "minibatches.generator"},
       "Stops the loop early so the last, smaller batch is never yielded."),
    _w(GD, "mb_randperm_without_generator", "correct/loop.py",
       "        order = torch.randperm(n, generator=generator)\n",
       "        order = torch.randperm(n)\n",
       {"minibatches.generator"},
       "Forgets to pass the generator to torch.randperm, so the order comes from the global RNG."),
    _w(GD, "mb_yields_lists", "correct/loop.py",
       "        yield order[start:start + batch_size]\n",
       "        yield order[start:start + batch_size].tolist()\n",
       # minibatches.generator keeps its point: it compares the index values, which the lists carry
       {"minibatches.coverage"},
       "Yields Python lists of ints instead of 1-D long tensors."),
    _w(GD, "mb_always_shuffles", "correct/loop.py",
       "    if shuffle:\n"
       "        order = torch.randperm(n, generator=generator)\n"
       "    else:\n"
       "        order = torch.arange(n)\n",
       "    order = torch.randperm(n, generator=generator)\n",
       {"minibatches.coverage"},
       "Ignores shuffle=False and always shuffles."),
    _w(GD, "mb_no_value_error", "correct/loop.py",
       "    if batch_size < 1:\n"
       '        raise ValueError(f"batch_size must be at least 1, got {batch_size}")\n',
       "",
       {"minibatches.interface"},
       "No check of batch_size (range() only happens to raise for 0; a negative size yields nothing)."),
    # ------------------------------------------------------------------ 01: fit
    _w(GD, "fit_keyword_only_missing", "correct/loop.py",
       "def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1,\n",
       "def fit(model, loss_fn, optimizer, train, val, batch_size=32, max_epochs=100, patience=1,\n",
       {"fit.interface"},
       "Makes batch_size/max_epochs positional with made-up defaults instead of required keyword-only."),
    _w(GD, "fit_train_mode_once", "correct/loop.py",
       "    for epoch in range(max_epochs):\n"
       "        model.train()\n",
       "    model.train()\n"
       "    for epoch in range(max_epochs):\n",
       # loss_bookkeeping is judged against the student's own batch losses, so only the loop is wrong
       {"fit.training_loop"},
       "Calls model.train() once before the loop, so every epoch after the first trains in eval mode."),
    _w(GD, "fit_no_eval_mode", "correct/loop.py",
       "        model.eval()\n"
       "        with torch.no_grad():\n",
       "        with torch.no_grad():\n",
       # fit.training_loop keeps its points: gradients, lrs and parameters of the training steps are unchanged
       {"fit.loss_bookkeeping"},
       "Never switches to eval mode, so the validation loss is computed with dropout/batch statistics."),
    _w(GD, "fit_val_with_grad", "correct/loop.py",
       "        with torch.no_grad():\n"
       "            val_loss = loss_fn(model(X_val), y_val).item()\n",
       "        val_loss = loss_fn(model(X_val), y_val).item()\n",
       # the checks recognise the validation pass by its data, not by grad mode: only the bookkeeping
       # line (an eval-mode, no-grad pass) notices
       {"fit.loss_bookkeeping"},
       "Computes the validation loss with autograd enabled (no torch.no_grad())."),
    _w(GD, "fit_unweighted_train_loss", "correct/loop.py",
       "            total += loss.item() * len(idx)\n"
       "            seen += len(idx)\n",
       "            total += loss.item()\n"
       "            seen += 1\n",
       {"fit.loss_bookkeeping"},
       "Averages the batch losses without weighting by batch size (wrong when the last batch is smaller)."),
    _w(GD, "fit_scheduler_per_epoch", "correct/loop.py",
       "            optimizer.step()\n"
       "            if scheduler is not None:\n"
       "                scheduler.step()\n"
       "            total += loss.item() * len(idx)\n"
       "            seen += len(idx)\n",
       "            optimizer.step()\n"
       "            total += loss.item() * len(idx)\n"
       "            seen += len(idx)\n"
       "        if scheduler is not None:\n"
       "            scheduler.step()\n",
       # fit.loss_bookkeeping keeps its points: it is judged against the student's own batch losses
       {"fit.training_loop"},
       "Steps the scheduler once per epoch instead of once per optimizer step."),
    _w(GD, "fit_no_zero_grad", "correct/loop.py",
       "            optimizer.zero_grad()\n",
       "",
       # accumulated gradients blow the regression problem up
       {"fit.training_loop", "fit.convergence"},
       "Never zeroes the gradients, so they accumulate across batches."),
    _w(GD, "fit_shuffle_false", "correct/loop.py",
       "        for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):\n",
       "        for idx in minibatches(len(X), batch_size, shuffle=False, generator=generator):\n",
       {"fit.training_loop"},
       "Iterates the training set in a fixed order (shuffle=False)."),
    _w(GD, "fit_best_state_alias", "correct/loop.py",
       "            best_state = copy.deepcopy(model.state_dict())\n",
       "            best_state = model.state_dict()\n",
       {"fit.best_weights"},
       "Keeps model.state_dict() without copying: its tensors alias the live weights."),
    _w(GD, "fit_no_restore", "correct/loop.py",
       "    if best_state is not None:\n"
       "        model.load_state_dict(best_state)\n",
       "",
       {"fit.best_weights"},
       "Saves the best weights but never loads them back."),
    _w(GD, "fit_patience_off_by_one", "correct/loop.py",
       "            if epochs_without_improvement >= patience:\n",
       "            if epochs_without_improvement > patience:\n",
       # fit.best_weights keeps its points: the weights restored are those of the reported best epoch
       {"fit.early_stopping"},
       "Waits patience + 1 epochs without improvement before stopping."),
    _w(GD, "fit_non_strict_improvement", "correct/loop.py",
       "        if best_state is None or val_loss < best_loss:\n",
       "        if best_state is None or val_loss <= best_loss:\n",
       {"fit.early_stopping"},
       "Counts an equal validation loss as an improvement (<= instead of <)."),
    _w(GD, "fit_counter_not_reset", "correct/functional.py",
       "        elif epoch - best_epoch >= patience:\n",
       "        elif epoch >= patience:\n",
       {"fit.early_stopping"},
       "Counts every epoch since the start instead of the epochs since the last improvement."),
    # ------------------------------------------------------------------ 02: SGD
    _w(OPT, "sgd_lr_required", "correct/loop.py",
       "    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,\n",
       "    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,\n",
       {"SGD.interface"},
       "Copies the lecture's signature where lr is a required parameter (torch now defaults it to 1e-3)."),
    _w(OPT, "sgd_no_nesterov_check", "correct/loop.py",
       "        if nesterov and (momentum <= 0 or dampening != 0):\n"
       '            raise ValueError("Nesterov momentum requires a momentum and zero dampening")\n',
       "",
       {"SGD.errors"},
       "Accepts nesterov=True without momentum or with dampening."),
    _w(OPT, "sgd_sign_error", "correct/loop.py",
       "                p.add_(d_p, alpha=-lr)\n",
       "                p.add_(d_p, alpha=lr)\n",
       {"SGD.step_defaults", "SGD.step_hyperparams", "SGD.param_groups", "SGD.state_dict_resume",
        "SGD.closure", "SGD.convergence"},
       "Adds the gradient instead of subtracting it (gradient ascent)."),
    _w(OPT, "sgd_dampening_on_first_step", "correct/loop.py",
       "                    if buf is None:\n"
       "                        # first step: the buffer is the gradient itself (no dampening)\n"
       "                        buf = d_p.detach().clone()\n"
       '                        state["momentum_buffer"] = buf\n'
       "                    else:\n"
       "                        buf.mul_(momentum).add_(d_p, alpha=1 - dampening)\n",
       "                    if buf is None:\n"
       "                        buf = torch.zeros_like(p)\n"
       '                        state["momentum_buffer"] = buf\n'
       "                    buf.mul_(momentum).add_(d_p, alpha=1 - dampening)\n",
       {"SGD.step_hyperparams"},
       "Starts the momentum buffer at zero, so the first step is already dampened."),
    _w(OPT, "sgd_nesterov_swapped", "correct/loop.py",
       "                        d_p = d_p.add(buf, alpha=momentum)\n",
       "                        d_p = buf.add(d_p, alpha=momentum)\n",
       {"SGD.step_hyperparams"},
       "Nesterov look-ahead written as buf + mu * g instead of g + mu * buf."),
    _w(OPT, "sgd_momentum_not_applied", "correct/loop.py",
       "                    if nesterov:\n"
       "                        d_p = d_p.add(buf, alpha=momentum)\n"
       "                    else:\n"
       "                        d_p = buf\n",
       "                    if nesterov:\n"
       "                        d_p = d_p.add(buf, alpha=momentum)\n",
       {"SGD.step_hyperparams", "SGD.convergence"},
       "Updates the momentum buffer but still steps along the raw gradient."),
    _w(OPT, "sgd_maximize_after_weight_decay", "correct/loop.py",
       "                d_p = -p.grad if maximize else p.grad\n"
       "                if weight_decay != 0:\n"
       "                    d_p = d_p.add(p, alpha=weight_decay)\n"
       "\n"
       "                if momentum != 0:\n",
       "                d_p = p.grad\n"
       "                if weight_decay != 0:\n"
       "                    d_p = d_p.add(p, alpha=weight_decay)\n"
       "                if maximize:\n"
       "                    d_p = -d_p\n"
       "\n"
       "                if momentum != 0:\n",
       {"SGD.step_hyperparams"},
       "Negates for maximize after adding weight decay, so the decay pushes the weights up."),
    _w(OPT, "sgd_lr_from_defaults", "correct/loop.py",
       '            lr = group["lr"]\n'
       '            momentum = group["momentum"]\n'
       '            dampening = group["dampening"]\n',
       '            lr = self.defaults["lr"]\n'
       '            momentum = group["momentum"]\n'
       '            dampening = group["dampening"]\n',
       {"SGD.param_groups", "SGD.step_hyperparams"},
       "Reads lr from self.defaults, so per-group lrs and scheduler changes are ignored."),
    _w(OPT, "sgd_none_grad_not_skipped", "correct/loop.py",
       "            for p in group[\"params\"]:\n"
       "                if p.grad is None:\n"
       "                    continue\n"
       "                d_p = -p.grad if maximize else p.grad\n",
       "            for p in group[\"params\"]:\n"
       "                d_p = -p.grad if maximize else p.grad\n",
       # SGD.param_groups / state_dict_resume / closure keep their points: they give every param a grad
       {"SGD.step_hyperparams"},
       "Does not skip parameters whose .grad is None (TypeError on None)."),
    _w(OPT, "sgd_buffers_outside_state", "correct/loop.py",
       "                    state = self.state[p]\n"
       '                    buf = state.get("momentum_buffer")\n',
       '                    if not hasattr(self, "velocity"):\n'
       "                        self.velocity = {}\n"
       "                    state = self.velocity.setdefault(p, {})\n"
       '                    buf = state.get("momentum_buffer")\n',
       {"SGD.state_dict_resume"},
       "Keeps the momentum buffers in an attribute dict that state_dict() does not save."),
    _w(OPT, "sgd_no_return_loss", "correct/loop.py",
       "                p.add_(d_p, alpha=-lr)\n"
       "        return loss\n",
       "                p.add_(d_p, alpha=-lr)\n",
       {"SGD.closure"},
       "step(closure) evaluates the closure but returns None."),
    # ------------------------------------------------------------------ 02: Adagrad
    _w(OPT, "adagrad_eps_default", "correct/loop.py",
       "                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):\n",
       "                 initial_accumulator_value=0.0, eps=1e-8, *, maximize=False):\n",
       # the grader passes every hyper-parameter explicitly, so only the signature shows it
       {"Adagrad.interface"},
       "Copies Adam's eps default (1e-8) instead of Adagrad's 1e-10."),
    _w(OPT, "adagrad_no_initial_acc_check", "correct/loop.py",
       "        if initial_accumulator_value < 0.0:\n"
       '            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")\n',
       "",
       {"Adagrad.errors"},
       "Forgets the ValueError for a negative initial_accumulator_value."),
    _w(OPT, "adagrad_lr_decay_off_by_one", "correct/loop.py",
       "                clr = lr / (1 + (step - 1) * lr_decay)\n",
       "                clr = lr / (1 + step * lr_decay)\n",
       {"Adagrad.step_hyperparams"},
       "Decays the lr with t instead of t - 1, so the first step is already decayed."),
    _w(OPT, "adagrad_eps_inside_sqrt", "correct/loop.py",
       '                std = state["sum"].sqrt().add_(eps)\n',
       '                std = state["sum"].add(eps).sqrt()\n',
       # visible even with the default eps=1e-10 once a gradient is ~1e-5 or smaller
       {"Adagrad.step_defaults", "Adagrad.step_hyperparams"},
       "Follows the lecture's sqrt(G + eps) instead of torch's sqrt(G) + eps."),
    _w(OPT, "adagrad_initial_acc_ignored", "correct/loop.py",
       '                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])\n',
       '                    state["sum"] = torch.zeros_like(p)\n',
       {"Adagrad.step_hyperparams"},
       "Always starts the accumulator at zero."),
    # (Reading initial_accumulator_value from the constructor defaults is torch's own behaviour: it is in
    # known_equivalent.py since issue 11.)
    _w(OPT, "adagrad_update_before_accumulate", "correct/loop.py",
       '                state["sum"].addcmul_(grad, grad, value=1)\n'
       '                std = state["sum"].sqrt().add_(eps)\n',
       '                std = state["sum"].sqrt().add_(eps)\n'
       '                state["sum"].addcmul_(grad, grad, value=1)\n',
       {"Adagrad.step_defaults", "Adagrad.step_hyperparams", "Adagrad.convergence"},
       "Divides by the accumulator before adding the current squared gradient (first step divides by eps)."),
    _w(OPT, "adagrad_state_outside_state", "correct/loop.py",
       "                state = self.state[p]\n"
       "                if len(state) == 0:\n"
       '                    state["step"] = 0\n'
       '                    state["sum"] = torch.full_like(',
       '                if not hasattr(self, "accumulators"):\n'
       "                    self.accumulators = {}\n"
       "                state = self.accumulators.setdefault(p, {})\n"
       "                if len(state) == 0:\n"
       '                    state["step"] = 0\n'
       '                    state["sum"] = torch.full_like(',
       {"Adagrad.state_dict_resume"},
       "Keeps step counts and accumulators in an attribute dict that state_dict() does not save."),
    _w(OPT, "adagrad_closure_without_grad", "correct/loop.py",
       "                        maximize=maximize)\n"
       "        super().__init__(params, defaults)\n"
       "\n"
       "    @torch.no_grad()\n"
       "    def step(self, closure=None):\n"
       "        loss = None\n"
       "        if closure is not None:\n"
       "            with torch.enable_grad():\n"
       "                loss = closure()\n",
       "                        maximize=maximize)\n"
       "        super().__init__(params, defaults)\n"
       "\n"
       "    @torch.no_grad()\n"
       "    def step(self, closure=None):\n"
       "        loss = None\n"
       "        if closure is not None:\n"
       "            loss = closure()\n",
       {"Adagrad.closure"},
       "Calls the closure inside the no_grad step, so its backward() has nothing to differentiate."),
    # ------------------------------------------------------------------ 02: RMSprop
    _w(OPT, "rmsprop_lecture_alpha_default", "correct/loop.py",
       "    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,\n",
       "    def __init__(self, params, lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.0,\n",
       # the grader passes every hyper-parameter explicitly, so only the signature shows it
       {"RMSprop.interface"},
       "Takes the lecture's alpha ~ 0.9 as the default instead of torch's 0.99."),
    _w(OPT, "rmsprop_no_alpha_check", "correct/loop.py",
       "        if alpha < 0.0:\n"
       '            raise ValueError(f"Invalid alpha value: {alpha}")\n',
       "",
       {"RMSprop.errors"},
       "Forgets the ValueError for a negative alpha."),
    _w(OPT, "rmsprop_alpha_swapped", "correct/loop.py",
       "                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)\n",
       "                square_avg.mul_(1 - alpha).addcmul_(grad, grad, value=alpha)\n",
       # with 1 - alpha = 0.01 weight on the history the steps are ~sign(g) * lr and it stalls on Rosenbrock
       {"RMSprop.step_defaults", "RMSprop.step_hyperparams", "RMSprop.convergence"},
       "Swaps alpha and 1 - alpha in the moving average of squared gradients."),
    _w(OPT, "rmsprop_eps_inside_sqrt", "correct/functional.py",
       '                    denom = v.sqrt() + group["eps"]\n',
       '                    denom = (v + group["eps"]).sqrt()\n',
       {"RMSprop.step_defaults", "RMSprop.step_hyperparams"},
       "Follows the lecture's sqrt(G + eps) instead of torch's sqrt(G) + eps."),
    _w(OPT, "rmsprop_centered_not_subtracted", "correct/loop.py",
       "                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()\n",
       "                    avg = square_avg.sqrt()\n",
       {"RMSprop.step_hyperparams"},
       "centered=True tracks the gradient average but never subtracts its square."),
    _w(OPT, "rmsprop_alpha_from_defaults", "correct/loop.py",
       '            alpha = group["alpha"]\n',
       '            alpha = self.defaults["alpha"]\n',
       {"RMSprop.param_groups"},
       "Reads alpha from self.defaults instead of the param group."),
    # ------------------------------------------------------------------ 02: Adam
    _w(OPT, "adam_keras_eps_default", "correct/loop.py",
       "    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,\n",
       "    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.0,\n",
       # the grader passes every hyper-parameter explicitly, so only the signature shows it
       {"Adam.interface"},
       "Takes Keras' default epsilon (1e-7) instead of torch's 1e-8."),
    _w(OPT, "adam_no_beta_checks", "correct/loop.py",
       "        if not 0.0 <= betas[0] < 1.0:\n"
       '            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")\n'
       "        if not 0.0 <= betas[1] < 1.0:\n"
       '            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")\n',
       "",
       {"Adam.errors"},
       "Accepts betas outside [0, 1)."),
    _w(OPT, "adam_no_bias_correction", "correct/loop.py",
       "                bias_correction1 = 1 - beta1 ** step\n"
       "                bias_correction2 = 1 - beta2 ** step\n",
       "                bias_correction1 = 1.0\n"
       "                bias_correction2 = 1.0\n",
       {"Adam.step_defaults", "Adam.step_hyperparams"},
       "Leaves out the bias correction of both moments."),
    _w(OPT, "adam_bias_correction_off_by_one", "correct/loop.py",
       "                bias_correction1 = 1 - beta1 ** step\n"
       "                bias_correction2 = 1 - beta2 ** step\n",
       "                bias_correction1 = 1 - beta1 ** (step + 1)\n"
       "                bias_correction2 = 1 - beta2 ** (step + 1)\n",
       {"Adam.step_defaults", "Adam.step_hyperparams"},
       "Uses t + 1 in the bias corrections (the step counter was already incremented)."),
    _w(OPT, "adam_eps_inside_sqrt", "correct/loop.py",
       "                    denom = max_exp_avg_sq.sqrt() / math.sqrt(bias_correction2)\n"
       "                else:\n"
       "                    denom = exp_avg_sq.sqrt() / math.sqrt(bias_correction2)\n"
       "                denom.add_(eps)\n",
       "                    denom = (max_exp_avg_sq / bias_correction2 + eps).sqrt()\n"
       "                else:\n"
       "                    denom = (exp_avg_sq / bias_correction2 + eps).sqrt()\n",
       {"Adam.step_defaults", "Adam.step_hyperparams"},
       "Follows the lecture's sqrt(v_hat + eps) instead of torch's sqrt(v_hat) + eps."),
    _w(OPT, "adam_lecture_recursion", "correct/loop.py",
       "                exp_avg.lerp_(grad, 1 - beta1)\n"
       "                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)\n"
       "\n"
       "                bias_correction1 = 1 - beta1 ** step\n"
       "                bias_correction2 = 1 - beta2 ** step\n"
       "                step_size = lr / bias_correction1\n"
       "\n"
       "                if amsgrad:\n"
       '                    max_exp_avg_sq = state["max_exp_avg_sq"]\n'
       "                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)\n"
       "                    denom = max_exp_avg_sq.sqrt() / math.sqrt(bias_correction2)\n"
       "                else:\n"
       "                    denom = exp_avg_sq.sqrt() / math.sqrt(bias_correction2)\n",
       "                # lecture: m_t = (b1 m_{t-1} + (1 - b1) g) / (1 - b1^t), the same for v\n"
       "                exp_avg.lerp_(grad, 1 - beta1).div_(1 - beta1 ** step)\n"
       "                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2).div_(1 - beta2 ** step)\n"
       "                step_size = lr\n"
       "\n"
       "                if amsgrad:\n"
       '                    max_exp_avg_sq = state["max_exp_avg_sq"]\n'
       "                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)\n"
       "                    denom = max_exp_avg_sq.sqrt()\n"
       "                else:\n"
       "                    denom = exp_avg_sq.sqrt()\n",
       {"Adam.step_defaults", "Adam.step_hyperparams", "Adam.convergence"},
       "Stores the bias-corrected moments (the lecture's formula), so the correction compounds from step 2."),
    _w(OPT, "adam_amsgrad_max_of_corrected", "correct/loop.py",
       "                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)\n"
       "                    denom = max_exp_avg_sq.sqrt() / math.sqrt(bias_correction2)\n",
       "                    torch.maximum(max_exp_avg_sq, exp_avg_sq / bias_correction2, out=max_exp_avg_sq)\n"
       "                    denom = max_exp_avg_sq.sqrt()\n",
       {"Adam.step_hyperparams"},
       "AMSGrad keeps the maximum of the bias-corrected v instead of the raw v."),
    _w(OPT, "adam_decoupled_weight_decay", "correct/loop.py",
       '                step = state["step"]\n'
       "                if weight_decay != 0:\n"
       "                    grad = grad.add(p, alpha=weight_decay)\n",
       '                step = state["step"]\n'
       "                if weight_decay != 0:\n"
       "                    p.mul_(1 - lr * weight_decay)\n",
       {"Adam.step_hyperparams"},
       "Applies AdamW's decoupled decay instead of the L2 term added to the gradient."),
    _w(OPT, "adam_betas_from_defaults", "correct/loop.py",
       '            beta1, beta2 = group["betas"]\n',
       '            beta1, beta2 = self.defaults["betas"]\n',
       {"Adam.param_groups"},
       "Reads betas from self.defaults instead of the param group."),
    _w(OPT, "adam_global_step_counter", "correct/loop.py",
       "        for group in self.param_groups:\n"
       '            lr = group["lr"]\n'
       '            beta1, beta2 = group["betas"]\n'
       '            eps = group["eps"]\n'
       '            weight_decay = group["weight_decay"]\n'
       '            amsgrad = group["amsgrad"]\n'
       '            maximize = group["maximize"]\n'
       "\n"
       '            for p in group["params"]:\n'
       "                if p.grad is None:\n"
       "                    continue\n"
       "                grad = -p.grad if maximize else p.grad\n"
       "                state = self.state[p]\n"
       "                if len(state) == 0:\n"
       '                    state["step"] = 0\n'
       '                    state["exp_avg"] = torch.zeros_like(p)\n'
       '                    state["exp_avg_sq"] = torch.zeros_like(p)\n'
       '                if amsgrad and "max_exp_avg_sq" not in state:\n'
       '                    state["max_exp_avg_sq"] = torch.zeros_like(p)\n'
       "\n"
       '                state["step"] += 1\n'
       '                step = state["step"]\n',
       '        self.t = getattr(self, "t", 0) + 1  # one Adam step\n'
       "        for group in self.param_groups:\n"
       '            lr = group["lr"]\n'
       '            beta1, beta2 = group["betas"]\n'
       '            eps = group["eps"]\n'
       '            weight_decay = group["weight_decay"]\n'
       '            amsgrad = group["amsgrad"]\n'
       '            maximize = group["maximize"]\n'
       "\n"
       '            for p in group["params"]:\n'
       "                if p.grad is None:\n"
       "                    continue\n"
       "                grad = -p.grad if maximize else p.grad\n"
       "                state = self.state[p]\n"
       "                if len(state) == 0:\n"
       '                    state["exp_avg"] = torch.zeros_like(p)\n'
       '                    state["exp_avg_sq"] = torch.zeros_like(p)\n'
       '                if amsgrad and "max_exp_avg_sq" not in state:\n'
       '                    state["max_exp_avg_sq"] = torch.zeros_like(p)\n'
       "\n"
       "                step = self.t\n",
       {"Adam.step_hyperparams", "Adam.state_dict_resume"},
       "Counts steps once per optimizer in self.t: wrong for parameters that skipped a step (None grad) "
       "and lost by state_dict()."),
    # shared helper: one bug in the base class of every optimizer
    _w(OPT, "shared_closure_after_update", "correct/foreach.py",
       "        loss = None\n"
       "        if closure is not None:\n"
       "            with torch.enable_grad():\n"
       "                loss = closure()\n"
       "        for group in self.param_groups:\n"
       '            params = [p for p in group["params"] if p.grad is not None]\n'
       "            if not params:\n"
       "                continue\n"
       "            states = []\n"
       "            for p in params:\n"
       "                if len(self.state[p]) == 0:  # a param added after __init__\n"
       "                    self._init_state(self.state[p], p, group)\n"
       "                states.append(self.state[p])\n"
       "            self._update(group, params, self._grads(group, params), states)\n"
       "        return loss\n",
       "        for group in self.param_groups:\n"
       '            params = [p for p in group["params"] if p.grad is not None]\n'
       "            if not params:\n"
       "                continue\n"
       "            states = []\n"
       "            for p in params:\n"
       "                if len(self.state[p]) == 0:  # a param added after __init__\n"
       "                    self._init_state(self.state[p], p, group)\n"
       "                states.append(self.state[p])\n"
       "            self._update(group, params, self._grads(group, params), states)\n"
       "        loss = None\n"
       "        if closure is not None:\n"
       "            with torch.enable_grad():\n"
       "                loss = closure()  # loss at the new weights\n"
       "        return loss\n",
       {"SGD.closure", "Adagrad.closure", "RMSprop.closure", "Adam.closure"},
       "Evaluates the closure after the update (in the shared base class), so the step uses stale gradients."),
    # ------------------------------------------------------------------ 03: Dropout
    _w(REG, "dropout_no_value_error", "correct/loop.py",
       "        if p < 0 or p > 1:\n"
       '            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")\n',
       "",
       {"Dropout.interface"},
       "Does not validate p."),
    _w(REG, "dropout_lecture_keep_probability", "correct/loop.py",
       "        keep = torch.rand_like(x) >= self.p\n"
       "        return x * keep / (1 - self.p)\n",
       "        keep = torch.rand_like(x) < self.p\n"
       "        return x * keep / self.p\n",
       {"Dropout.train_values", "Dropout.statistics"},
       "Uses the lecture's convention (p = keep probability, divide by p) although p here is the drop probability."),
    _w(REG, "dropout_not_rescaled", "correct/loop.py",
       "        return x * keep / (1 - self.p)\n",
       "        return x * keep\n",
       # the network trains at the wrong scale: once dropout is off, its validation loss is ~4x the reference's
       {"Dropout.train_values", "Dropout.convergence"},
       "Drops units but does not rescale the kept ones by 1 / (1 - p)."),
    _w(REG, "dropout_one_mask_per_batch", "correct/loop.py",
       "        keep = torch.rand_like(x) >= self.p\n",
       "        keep = torch.rand_like(x[0]) >= self.p\n",
       {"Dropout.statistics"},
       "Draws one mask for a single sample and broadcasts it over the whole batch."),
    _w(REG, "dropout_mask_reused", "correct/loop.py",
       "        keep = torch.rand_like(x) >= self.p\n",
       '        if getattr(self, "mask", None) is None or self.mask.shape != x.shape:\n'
       "            self.mask = torch.rand_like(x) >= self.p\n"
       "        keep = self.mask\n",
       {"Dropout.statistics"},
       "Caches the mask and reuses it on every call with the same shape."),
    _w(REG, "dropout_active_in_eval", "correct/loop.py",
       "        if not self.training or self.p == 0:\n",
       "        if self.p == 0:\n",
       # Dropout.convergence keeps its point: the noisier validation loss stays within its threshold
       {"Dropout.eval"},
       "Ignores self.training, so dropout is also applied in eval mode."),
    _w(REG, "dropout_p1_nan", "correct/loop.py",
       "        if self.p == 1:\n"
       "            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients\n",
       "",
       {"Dropout.train_values"},
       "No special case for p = 1: 0 * x / 0 gives NaN instead of zeros."),
    _w(REG, "dropout_keep_prob_confused", "correct/classes.py",
       "            mask = input.new_empty(input.shape).bernoulli_(keep)\n",
       "            mask = input.new_empty(input.shape).bernoulli_(self.p)\n",
       {"Dropout.train_values", "Dropout.statistics"},
       "Draws the mask with probability p of keeping a unit although the scaling assumes 1 - p."),
    # ------------------------------------------------------------------ 03: BatchNormFunction
    _w(REG, "bnf_not_staticmethod", "correct/loop.py",
       "    @staticmethod\n"
       "    def backward(ctx, grad_out):\n",
       "    def backward(ctx, grad_out):\n",
       {"BatchNormFunction.interface"},
       "Forgets @staticmethod on backward (autograd still finds it through the class)."),
    _w(REG, "bnf_unbiased_variance", "correct/loop.py",
       "        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased\n",
       "        var = x.var(dim=dims, keepdim=True)\n",
       {"BatchNormFunction.forward", "BatchNormFunction.backward"},
       "Normalizes with torch.var's default unbiased variance instead of the biased one."),
    _w(REG, "bnf_eps_outside_sqrt", "correct/loop.py",
       "        inv_std = 1.0 / torch.sqrt(var + eps)\n",
       "        inv_std = 1.0 / (torch.sqrt(var) + eps)\n",
       {"BatchNormFunction.forward", "BatchNormFunction.backward"},
       "Adds eps to the standard deviation instead of to the variance."),
    _w(REG, "bnf_returns_stats", "correct/loop.py",
       "        ctx.has_bias = bias is not None\n"
       "        return y\n",
       "        ctx.has_bias = bias is not None\n"
       "        return y, mean, var\n",
       # .device: the layer's forward/backward raises on the CPU too, so no portability point
       {"BatchNormFunction.forward", "BatchNormFunction.backward", "BatchNormFunction.device"},
       "Returns the batch statistics along with y (to reuse them for the running averages)."),
    _w(REG, "bnf_backward_no_variance_term", "correct/loop.py",
       "        grad_x = inv_std / m * (m * g - sum_g - x_hat * sum_g_xhat)\n",
       "        grad_x = inv_std / m * (m * g - sum_g)\n",
       {"BatchNormFunction.backward"},
       "Forgets the gradient path through the batch variance."),
    _w(REG, "bnf_param_grads_over_batch_only", "correct/loop.py",
       "        grad_weight = (grad_out * x_hat).sum(dim=dims) if weight is not None else None\n"
       "        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias else None\n",
       "        grad_weight = (grad_out * x_hat).sum(dim=0) if weight is not None else None\n"
       "        grad_bias = grad_out.sum(dim=0) if ctx.has_bias else None\n",
       {"BatchNormFunction.backward"},  # the device line's 2-D runs pass: the 3-D ones raise on the CPU too
       "Sums the weight/bias gradients over the batch dim only (wrong shape for 3-D and 4-D inputs)."),
    _w(REG, "bnf_backward_three_grads", "correct/loop.py",
       "        return grad_x, grad_weight, grad_bias, None\n",
       "        return grad_x, grad_weight, grad_bias\n",
       {"BatchNormFunction.backward", "BatchNormFunction.device"},  # backward raises on every device
       "Returns no gradient slot for eps, so autograd rejects the number of gradients."),
    # ------------------------------------------------------------------ 03: BatchNorm1d
    _w(REG, "bn1d_assert_rank", "correct/loop.py",
       "        if x.dim() != 2 and x.dim() != 3:\n"
       '            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")\n',
       '        assert x.dim() in (2, 3), "BatchNorm1d needs a 2D or 3D input"\n',
       {"BatchNorm1d.errors"},
       "Checks the input rank with assert (AssertionError) instead of raising ValueError."),
    _w(REG, "bn1d_no_single_value_check", "correct/loop.py",
       "        if x.numel() // x.shape[1] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n',
       "",
       {"BatchNorm1d.errors"},
       "No error for one value per channel: the unbiased running variance silently becomes NaN."),
    _w(REG, "bn1d_biased_running_var", "correct/loop.py",
       "                batch_var = x.var(dim=dims, unbiased=True)\n",
       "                batch_var = x.var(dim=dims, unbiased=False)\n",
       {"BatchNorm1d.running_stats"},
       "Updates running_var with the biased batch variance."),
    _w(REG, "bn1d_momentum_reversed", "correct/loop.py",
       "                batch_var = x.var(dim=dims, unbiased=True)\n"
       "                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n"
       "                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n",
       "                batch_var = x.var(dim=dims, unbiased=True)\n"
       "                self.running_mean.mul_(factor).add_(batch_mean, alpha=1 - factor)\n"
       "                self.running_var.mul_(factor).add_(batch_var, alpha=1 - factor)\n",
       {"BatchNorm1d.running_stats"},
       "Uses the optimizer meaning of momentum: running = m * running + (1 - m) * batch."),
    _w(REG, "bn1d_stats_over_batch_dim_only", "correct/loop.py",
       "                batch_mean = x.mean(dim=dims)\n"
       "                batch_var = x.var(dim=dims, unbiased=True)\n",
       "                batch_mean = x.mean(dim=0)\n"
       "                batch_var = x.var(dim=0, unbiased=True)\n",
       {"BatchNorm1d.running_stats", "BatchNorm1d.train_forward"},
       "Computes the running statistics over dim 0 only, which breaks (N, C, L) inputs in training."),
    _w(REG, "bn1d_counter_only_for_cumulative", "correct/loop.py",
       "        if x.numel() // x.shape[1] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            self.num_batches_tracked += 1\n"
       "            if self.momentum is None:\n"
       "                factor = 1.0 / self.num_batches_tracked.item()\n",
       "        if x.numel() // x.shape[1] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            if self.momentum is None:\n"
       "                self.num_batches_tracked += 1\n"
       "                factor = 1.0 / self.num_batches_tracked.item()\n",
       {"BatchNorm1d.running_stats"},
       "Increments num_batches_tracked only when momentum is None (where it is needed)."),
    _w(REG, "bn1d_momentum_none_ignored", "correct/loop.py",
       "        if x.numel() // x.shape[1] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            self.num_batches_tracked += 1\n"
       "            if self.momentum is None:\n"
       "                factor = 1.0 / self.num_batches_tracked.item()\n"
       "            else:\n"
       "                factor = self.momentum\n",
       "        if x.numel() // x.shape[1] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            self.num_batches_tracked += 1\n"
       "            factor = self.momentum or 0.1\n",
       {"BatchNorm1d.running_stats"},
       "Falls back to 0.1 for momentum=None instead of the cumulative average 1 / num_batches_tracked."),
    _w(REG, "bn1d_eval_batch_stats", "correct/loop.py",
       "            x_hat = (x - self.running_mean.view(shape)) / torch.sqrt(self.running_var.view(shape) + self.eps)\n",
       "            x_hat = (x - x.mean(dim=dims, keepdim=True)) / torch.sqrt(x.var(dim=dims, unbiased=False, keepdim=True) + self.eps)\n",
       # BatchNorm1d.convergence keeps its points: the large validation batch has nearly the running stats
       {"BatchNorm1d.eval"},
       "Copies the training formula into eval mode, normalizing with the batch statistics."),
    # ------------------------------------------------------------------ 03: BatchNorm2d
    _w(REG, "bn2d_accepts_3d", "correct/loop.py",
       "        if x.dim() != 4:\n",
       "        if x.dim() not in (3, 4):\n",
       {"BatchNorm2d.errors"},
       "Also accepts 3-D input (a single image), which then fails with an IndexError instead of a ValueError."),
    _w(REG, "bn2d_cumulative_count_plus_one", "correct/loop.py",
       "        if x.shape[0] * x.shape[2] * x.shape[3] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            self.num_batches_tracked += 1\n"
       "            if self.momentum is None:\n"
       "                factor = 1.0 / self.num_batches_tracked.item()\n",
       "        if x.shape[0] * x.shape[2] * x.shape[3] == 1:\n"
       '            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")\n'
       "\n"
       "        if self.training and self.track_running_stats:\n"
       "            self.num_batches_tracked += 1\n"
       "            if self.momentum is None:\n"
       "                factor = 1.0 / (self.num_batches_tracked.item() + 1)\n",
       {"BatchNorm2d.running_stats"},
       "Adds one to the batch count for the cumulative average after already incrementing it."),
    _w(REG, "bn2d_eval_without_eps", "correct/loop.py",
       "            std = torch.sqrt(self.running_var.view(1, C, 1, 1) + self.eps)\n",
       "            std = torch.sqrt(self.running_var.view(1, C, 1, 1))\n",
       {"BatchNorm2d.eval"},
       "Forgets eps when normalizing with the running variance in eval mode."),
    _w(REG, "bn2d_affine_false_keeps_params", "correct/classes.py",
       "        if self.affine:\n"
       "            self.weight = nn.Parameter(torch.empty(num_features))\n"
       "            self.bias = nn.Parameter(torch.empty(num_features))\n"
       "        else:\n"
       '            self.register_parameter("weight", None)\n'
       '            self.register_parameter("bias", None)\n',
       "        self.weight = nn.Parameter(torch.ones(num_features))\n"
       "        self.bias = nn.Parameter(torch.zeros(num_features))\n",
       # shared base class: BatchNorm1d.interface fails the same way
       {"BatchNorm1d.interface", "BatchNorm2d.interface"},
       "Creates weight and bias even when affine=False (extra parameters and state_dict keys)."),
    _w(REG, "bn_shared_biased_running_var", "correct/classes.py",
       "        var, mean = torch.var_mean(xs, dim=1, unbiased=True)\n",
       "        var, mean = torch.var_mean(xs, dim=1, unbiased=False)\n",
       {"BatchNorm1d.running_stats", "BatchNorm2d.running_stats"},
       "Updates running_var with the biased variance in the base class shared by both layers."),
    _w(REG, "bn_shared_eval_ignores_untracked", "correct/classes.py",
       "        batch_stats = self.training or (self.running_mean is None and self.running_var is None)\n",
       "        batch_stats = self.training\n",
       # .errors: in eval without running statistics one value per channel raises no ValueError
       {"BatchNorm1d.eval", "BatchNorm2d.eval", "BatchNorm1d.errors", "BatchNorm2d.errors"},
       "Eval always uses the running buffers, which do not exist when track_running_stats=False."),
]

# ------------------------------------------------------------------ bugs added while calibrating the checks
# (each closes a gap: without them some rubric line would be lost by no entry of the table)

KNOWN_WRONG += [
    _w(GD, 'scheduler_wrong_default', 'correct/loop.py',
       'def __init__(self, optimizer, power=0.3, last_epoch=-1):',
       'def __init__(self, optimizer, power=0.5, last_epoch=-1):',
       {'PowerDecayLR.interface'},
       "Copies the lecture's other exponent and defaults power to 0.5 instead of 0.3."),
    _w(GD, 'scheduler_t_off_by_one', 'correct/loop.py',
       'return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]',
       'return [base_lr / (k + 2) ** self.power for base_lr in self.base_lrs]',
       {'PowerDecayLR.schedule'},
       'Counts t from 2 (k + 2) so even the first step already decays.'),
    _w(GD, 'scheduler_state_dict_drops_step', 'correct/loop.py',
       '    def get_lr(self):\n        k = self.last_epoch',
       "    def state_dict(self):\n        return {'power': self.power}\n\n    def get_lr(self):\n        k = self.last_epoch",
       {'PowerDecayLR.state_dict_resume'},
       'Keeps its own step counter out of state_dict(), so a resumed schedule restarts.'),
    _w(GD, 'scheduler_counter_outside_state', 'correct/loop.py',
       '        super().__init__(optimizer, last_epoch)\n\n    def get_lr(self):\n        k = self.last_epoch\n',
       "        PowerDecayLR.t = -1  # counts get_lr calls, but not in the scheduler's state\n        super().__init__(optimizer, last_epoch)\n\n    def get_lr(self):\n        PowerDecayLR.t += 1\n        k = PowerDecayLR.t\n",
       {'PowerDecayLR.schedule', 'PowerDecayLR.state_dict_resume'},
       "Counts steps in an attribute excluded from the scheduler's state, so resuming loses it."),
    _w(GD, 'minibatches_shuffle_default_false', 'correct/loop.py',
       'def minibatches(n, batch_size, *, shuffle=True, generator=None):',
       'def minibatches(n, batch_size, *, shuffle=False, generator=None):',
       {'minibatches.interface'},
       'Defaults shuffle to False, so plain calls never shuffle.'),
    _w(GD, 'minibatches_float_indices', 'correct/loop.py',
       '        order = torch.arange(n)\n',
       '        order = torch.arange(n, dtype=torch.float32)\n',
       {'minibatches.coverage'},
       'Builds indices with torch.arange(float(n)), giving float tensors that cannot index.'),
    _w(GD, 'minibatches_reseeds_every_call', 'correct/functional.py',
       'perm = torch.randperm(n, generator=generator) if shuffle',
       'perm = torch.randperm(n, generator=torch.Generator().manual_seed(generator.initial_seed() if generator else 0)) if shuffle',
       {'minibatches.generator'},
       'Re-seeds the generator on every call, so every epoch sees the same order.'),
    _w(GD, 'fit_wrong_patience_default', 'correct/loop.py',
       'max_epochs, patience=1,\n',
       'max_epochs, patience=2,\n',
       {'fit.interface'},
       'Defaults patience to 3 instead of 1.'),
    _w(GD, 'fit_tensor_losses', 'correct/loop.py',
       'val_loss = loss_fn(model(X_val), y_val).item()',
       'val_loss = loss_fn(model(X_val), y_val)',
       {'fit.interface'},
       'Stores the loss tensors themselves in the history instead of Python floats.'),
    _w(GD, 'fit_ignores_generator', 'correct/loop.py',
       'for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):',
       'for idx in minibatches(len(X), batch_size):',
       {'fit.training_loop'},
       'Calls minibatches without passing the generator, so runs are not reproducible.'),
    _w(GD, 'fit_own_batches', 'correct/functional.py',
       'for batch in minibatches(len(X), batch_size, shuffle=True, generator=generator):',
       'for batch in torch.randperm(len(X), generator=generator).split(batch_size):',
       {'fit.training_loop'},
       'Slices batches itself instead of calling the module-level minibatches.'),
    _w(GD, 'fit_post_step_train_loss', 'correct/loop.py',
       'total += loss.item() * len(idx)',
       'total += loss_fn(model(X[idx]), y[idx]).item() * len(idx)',
       {'fit.loss_bookkeeping'},
       'Recomputes each batch loss after optimizer.step() for the history.'),
    _w(GD, 'fit_restores_parameters_only', 'correct/loop.py',
       '        model.load_state_dict(best_state)\n',
       '        with torch.no_grad():\n            for name, p in model.named_parameters():\n                p.copy_(best_state[name])\n',
       {'fit.best_weights'},
       'Saves and restores only named_parameters, so buffers keep their last values.'),
    _w(REG, 'dropout_detached', 'correct/loop.py',
       '        return x * keep / (1 - self.p)\n',
       '        return x.detach() * keep / (1 - self.p)\n',
       {'Dropout.train_values'},  # a detached output is not backpropagated by the device line
       'Detaches the input before masking, so no gradient flows through dropout.'),
    _w(REG, 'bnf_forward_drops_bias', 'correct/loop.py',
       '        if bias is not None:\n            y = y + bias.view(shape)\n',
       '',
       {'BatchNormFunction.forward'},
       'Forgets to add the bias in the forward pass.'),
    _w(REG, 'bn2d_default_eps_in_training', 'correct/loop.py',
       '                batch_var = x.var(dim=(0, 2, 3), unbiased=True)\n                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n\n        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)\n',
       '                batch_var = x.var(dim=(0, 2, 3), unbiased=True)\n                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n\n        return BatchNormFunction.apply(x, self.weight, self.bias, 1e-5)\n',
       {'BatchNorm2d.train_forward', 'BatchNorm2d.eval'},
       'Passes the literal 1e-5 instead of self.eps to the function in training.'),
    _w(REG, 'bn1d_running_stats_never_written', 'correct/loop.py',
       '                batch_var = x.var(dim=dims, unbiased=True)\n                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n',
       '                batch_var = x.var(dim=dims, unbiased=True)\n                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n                self.running_var.mul(1 - factor).add(batch_var, alpha=factor)  # not in place\n',
       {'BatchNorm1d.convergence', 'BatchNorm1d.running_stats'},
       'Uses out-of-place mul/add on the running variance, so the buffer never changes.'),
]

KNOWN_WRONG += [
    _w(OPT, "rmsprop_state_outside_self_state", "correct/loop.py",
       '                square_avg = state["square_avg"]\n',
       '                square_avg = self.defaults.setdefault("square_avgs", {}).setdefault(id(p), torch.zeros_like(p))\n',
       {"RMSprop.state_dict_resume"},
       "Keeps the running average in a dict of its own (in self.defaults) keyed by id(p), which state_dict() does not save."),
    _w(OPT, "adam_first_moment_not_in_place", "correct/loop.py",
       "                exp_avg.lerp_(grad, 1 - beta1)\n",
       "                exp_avg = exp_avg.lerp(grad, 1 - beta1)  # the state keeps its zeros\n",
       {"Adam.step_defaults", "Adam.step_hyperparams", "Adam.convergence"},
       "Updates the first moment out of place, so the stored average never accumulates and steps shrink 10x."),
]

# Issue 11: bugs that only show when the training loop drives the optimizer as a real one does (lr
# changed by a scheduler, grads refilled in place, p.grad read after the step), at edge values of the
# hyper-parameters, or at the boundary of the valid range.
KNOWN_WRONG += [
    _w(OPT, "sgd_weight_decay_into_grad", "correct/loop.py",
       "                if weight_decay != 0:\n"
       "                    d_p = d_p.add(p, alpha=weight_decay)\n",
       "                if weight_decay != 0:\n"
       "                    d_p = d_p.add_(p, alpha=weight_decay)  # saves a copy\n",
       {"SGD.step_hyperparams"},
       "Adds the weight decay to the gradient in place, so p.grad is changed by step()."),
    _w(OPT, "sgd_buffer_is_the_grad", "correct/loop.py",
       "                        buf = d_p.detach().clone()\n",
       "                        buf = d_p.detach()\n",
       {"SGD.step_hyperparams"},
       "Makes the first momentum buffer p.grad itself, not a copy: wrong once grads are zeroed in place."),
    _w(OPT, "sgd_lecture_momentum", "correct/loop.py",
       "                    if buf is None:\n"
       "                        # first step: the buffer is the gradient itself (no dampening)\n"
       "                        buf = d_p.detach().clone()\n"
       '                        state["momentum_buffer"] = buf\n'
       "                    else:\n"
       "                        buf.mul_(momentum).add_(d_p, alpha=1 - dampening)\n"
       "                    if nesterov:\n"
       "                        d_p = d_p.add(buf, alpha=momentum)\n"
       "                    else:\n"
       "                        d_p = buf\n"
       "\n"
       "                p.add_(d_p, alpha=-lr)\n",
       "                    # the lecture's form: h = mu * h + lr * g, then p = p - h\n"
       "                    if buf is None:\n"
       "                        buf = d_p.mul(lr)\n"
       '                        state["momentum_buffer"] = buf\n'
       "                    else:\n"
       "                        buf.mul_(momentum).add_(d_p, alpha=lr * (1 - dampening))\n"
       "                    if nesterov:\n"
       "                        p.sub_(d_p.mul(lr).add(buf, alpha=momentum))\n"
       "                    else:\n"
       "                        p.sub_(buf)\n"
       "                    continue\n"
       "\n"
       "                p.add_(d_p, alpha=-lr)\n",
       {"SGD.step_hyperparams"},
       "Keeps the lecture's velocity h = mu*h + lr*g: equal to torch only while lr never changes."),
    _w(OPT, "sgd_zero_lr_refused", "correct/loop.py",
       "        if lr < 0.0:\n"
       '            raise ValueError(f"Invalid learning rate: {lr}")\n'
       "        if momentum < 0.0:\n",
       "        if lr <= 0.0:\n"
       '            raise ValueError(f"Invalid learning rate: {lr}")\n'
       "        if momentum < 0.0:\n",
       {"SGD.errors"},
       "Refuses lr=0, which torch accepts (a frozen group, or a warm-up starting at 0)."),
    _w(OPT, "adam_zero_beta_refused", "correct/loop.py",
       "        if not 0.0 <= betas[1] < 1.0:\n",
       "        if not 0.0 < betas[1] < 1.0:\n",
       {"Adam.errors"},
       "Refuses beta2=0 (a second moment of the last gradient only), which torch accepts."),
    _w(OPT, "rmsprop_decay_only_below_one", "correct/loop.py",
       "                if weight_decay != 0:\n"
       "                    grad = grad.add(p, alpha=weight_decay)\n"
       "\n"
       "                square_avg",
       "                if 0 < weight_decay < 1:  # a decay is a fraction\n"
       "                    grad = grad.add(p, alpha=weight_decay)\n"
       "\n"
       "                square_avg",
       {"RMSprop.step_hyperparams"},
       "Applies weight decay only when it is below 1, so weight_decay=1.0 is silently ignored."),
    _w(OPT, "adagrad_maximize_negates_grad", "correct/loop.py",
       "                grad = -p.grad if maximize else p.grad\n"
       "                if weight_decay != 0:\n"
       "                    grad = grad.add(p, alpha=weight_decay)\n"
       "\n"
       "                clr",
       "                grad = p.grad.neg_() if maximize else p.grad\n"
       "                if weight_decay != 0:\n"
       "                    grad = grad.add(p, alpha=weight_decay)\n"
       "\n"
       "                clr",
       {"Adagrad.step_hyperparams"},
       "Negates p.grad in place for maximize, so the gradient the training loop sees is flipped."),
]

KNOWN_WRONG += [
    _w(REG, "dropout_p1_detached_zeros", "correct/loop.py",
       "            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients\n",
       "            return torch.zeros_like(x)\n",
       {"Dropout.train_values"},
       "Returns torch.zeros_like(x) for p = 1: right values, but loss.backward() then raises."),
]

KNOWN_WRONG += [
    _w(REG, "bnf_bias_grad_follows_weight_flag", "correct/loop.py",
       "        grad_weight = (grad_out * x_hat).sum(dim=dims) if weight is not None else None\n"
       "        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias else None\n",
       "        grad_weight = (grad_out * x_hat).sum(dim=dims) if ctx.needs_input_grad[1] else None\n"
       "        grad_bias = grad_out.sum(dim=dims) if ctx.needs_input_grad[1] else None\n",
       {"BatchNormFunction.backward"},
       "Skips the bias gradient by reading the weight's entry of ctx.needs_input_grad (copy-paste)."),
    _w(REG, "bn1d_running_stats_with_grad", "correct/loop.py",
       "            with torch.no_grad():\n"
       "                batch_mean = x.mean(dim=dims)\n"
       "                batch_var = x.var(dim=dims, unbiased=True)\n"
       "                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n"
       "                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n",
       "            batch_mean = x.mean(dim=dims)\n"
       "            batch_var = x.var(dim=dims, unbiased=True)\n"
       "            self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)\n"
       "            self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)\n",
       {"BatchNorm1d.running_stats"},
       "Updates the running statistics with grad enabled: right values, but the buffers keep x's graph."),
    _w(REG, "bn1d_momentum_zero_is_none", "correct/loop.py",
       "            if self.momentum is None:\n"
       "                factor = 1.0 / self.num_batches_tracked.item()\n"
       "            else:\n"
       "                factor = self.momentum\n"
       "            with torch.no_grad():\n"
       "                batch_mean = x.mean(dim=dims)\n",
       "            factor = self.momentum or 1.0 / self.num_batches_tracked.item()\n"
       "            with torch.no_grad():\n"
       "                batch_mean = x.mean(dim=dims)\n",
       {"BatchNorm1d.running_stats"},
       "Writes `momentum or 1/k`, so momentum=0.0 (frozen statistics) becomes a cumulative average."),
]

KNOWN_WRONG += [
    _w(GD, "mb_raises_only_when_iterated", "correct/loop.py",
       '        raise ValueError(f"batch_size must be at least 1, got {batch_size}")\n'
       "    return _batches(n, batch_size, shuffle, generator)\n"
       "\n"
       "\n"
       "def _batches(n, batch_size, shuffle, generator):\n",
       '        raise ValueError(f"batch_size must be at least 1, got {batch_size}")\n',
       {"minibatches.interface"},
       "Checks batch_size inside a generator function, so the ValueError only comes on iteration."),
    _w(GD, "fit_train_loss_arguments_swapped", "correct/loop.py",
       "            loss = loss_fn(model(X[idx]), y[idx])\n",
       "            loss = loss_fn(y[idx], model(X[idx]))\n",
       {"fit.training_loop"},
       "Calls loss_fn(target, prediction) in training, the reverse of torch's loss_fn(input, target)."),
    _w(GD, "fit_val_loss_arguments_swapped", "correct/loop.py",
       "            val_loss = loss_fn(model(X_val), y_val).item()\n",
       "            val_loss = loss_fn(y_val, model(X_val)).item()\n",
       {"fit.loss_bookkeeping"},
       "Calls loss_fn(target, prediction) for the validation loss."),
]

# The device line: code that is right on the CPU but cannot run where the data lives.
KNOWN_WRONG += [
    _w(OPT, "rmsprop_state_on_cpu", "correct/loop.py",
       '                    state["square_avg"] = torch.zeros_like(p)\n',
       '                    state["square_avg"] = torch.zeros(p.shape, dtype=p.dtype)\n',
       {"RMSprop.device"},
       "Creates the running average with torch.zeros(p.shape): on the CPU even for GPU parameters."),
    _w(OPT, "sgd_host_sync_for_logging", "correct/loop.py",
       "                d_p = -p.grad if maximize else p.grad\n",
       "                d_p = -p.grad if maximize else p.grad\n"
       "                self.last_grad_norm = float(d_p.norm())  # for my training plots\n",
       {"SGD.device"},
       "Reads the gradient norm with float() in every step: a host sync that stalls the GPU."),
    _w(REG, "dropout_mask_on_cpu", "correct/loop.py",
       "        keep = torch.rand_like(x) >= self.p\n",
       "        keep = torch.rand(x.shape) >= self.p\n",
       {"Dropout.device"},
       "Draws the mask with torch.rand(x.shape), on the CPU whatever the input's device."),
]

KNOWN_WRONG += [
    _w(OPT, "adagrad_sum_on_cpu", "correct/loop.py",
       '                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])\n',
       '                    state["sum"] = torch.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype)\n',
       {"Adagrad.device"},
       "Creates the accumulator with torch.full(p.shape, ...): on the CPU whatever the parameter's device."),
    _w(OPT, "adam_nan_guard_syncs", "correct/loop.py",
       "            amsgrad = group[\"amsgrad\"]\n"
       "            maximize = group[\"maximize\"]\n"
       "\n"
       "            for p in group[\"params\"]:\n"
       "                if p.grad is None:\n"
       "                    continue\n",
       "            amsgrad = group[\"amsgrad\"]\n"
       "            maximize = group[\"maximize\"]\n"
       "\n"
       "            for p in group[\"params\"]:\n"
       "                if p.grad is None:\n"
       "                    continue\n"
       "                if not torch.isfinite(p.grad).all():  # guard against NaN gradients\n"
       '                    raise ValueError("non-finite gradient")\n',
       {"Adam.device"},
       "Guards against NaN gradients with an `if` on a tensor: a host sync in every step."),
    _w(REG, "bnf_variance_assert_syncs", "correct/loop.py",
       "        inv_std = 1.0 / torch.sqrt(var + eps)\n",
       "        assert (var >= 0).all(), \"negative variance\"\n"
       "        inv_std = 1.0 / torch.sqrt(var + eps)\n",
       {"BatchNormFunction.device"},
       "Asserts on a tensor in forward: the assert reads the value on the host (a sync)."),
    _w(REG, "bn1d_nan_guard_syncs", "correct/loop.py",
       "        if x.dim() != 2 and x.dim() != 3:\n",
       "        if torch.isnan(x).any():\n"
       '            raise ValueError("NaN in the input")\n'
       "        if x.dim() != 2 and x.dim() != 3:\n",
       {"BatchNorm1d.device"},
       "Checks the input for NaN with an `if` on a tensor: a host sync in every forward."),
    _w(REG, "bn2d_nan_guard_syncs", "correct/loop.py",
       "        if x.dim() != 4:\n",
       "        if torch.isnan(x).any():\n"
       '            raise ValueError("NaN in the input")\n'
       "        if x.dim() != 4:\n",
       {"BatchNorm2d.device"},
       "Checks the input for NaN with an `if` on a tensor: a host sync in every forward."),
]

KNOWN_WRONG += [
    _w(OPT, "adagrad_lr_decay_from_defaults", "correct/loop.py",
       '            lr_decay = group["lr_decay"]\n',
       '            lr_decay = self.defaults["lr_decay"]\n',
       {"Adagrad.param_groups"},
       "Reads lr_decay from self.defaults, so a group's own lr_decay is ignored."),
]

# Contract coverage (issue 20): bugs that violate one clause of 01's or 03's contract each, written as a
# student would; tables of (assignment-free) rows, one module per assignment so they grow independently.
from .known_wrong_contract_01 import ROWS as _ROWS_01  # noqa: E402
from .known_wrong_contract_03 import ROWS as _ROWS_03  # noqa: E402

KNOWN_WRONG += [_w(GD, *row) for row in _ROWS_01] + [_w(REG, *row) for row in _ROWS_03]
