"""The 20 submissions of the comparison: three correct notebooks and 17 with one realistic bug each.

Every bug is one of the single bugs of ``tests/submissions/known_wrong.py`` (``mirrors`` names the
entry, ``reason`` is its description), rewritten as an exact ``old -> new`` replacement in the code
of one solution cell of ``solutions/<id>/<id>.ipynb`` (``cell`` is that cell's nbgrader ``grade_id``;
``old`` occurs there exactly once). The bugs were chosen before either tool was run: about two per
graded name, spread over the kinds of mistakes the table lists (formula, hyper-parameter handling,
state, bookkeeping). ``generate.py`` turns this table into notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

GD, OPT, REG = "01_gradient_descent", "02_optimizers", "03_regularization"


@dataclass(frozen=True)
class Submission:
    assignment: str
    student: str  # the student id in both tools (file stem for the kit, folder name for nbgrader)
    cell: str | None = None  # grade_id of the solution cell the bug is in; None for a correct one
    old: str = ""
    new: str = ""
    reason: str = "correct: the solution code as it is"
    mirrors: str | None = None  # the KNOWN_WRONG entry this bug is

    @property
    def buggy(self) -> bool:
        return self.cell is not None


def _bug(assignment, name, cell, old, new, reason):
    return Submission(assignment, name, cell, old, new, reason, mirrors=name)


SUBMISSIONS: list[Submission] = [
    # ------------------------------------------------------------------ 01_gradient_descent
    Submission(GD, "correct"),
    _bug(GD, "pdlr_first_group_lr", "PowerDecayLR",
         "        return [base_lr * factor for base_lr in self.base_lrs]",
         "        return [self.base_lrs[0] * factor for _ in self.optimizer.param_groups]",
         "Decays the first group's base lr and gives it to every param group."),
    _bug(GD, "mb_drops_last_partial_batch", "minibatches",
         "for start in range(0, n, batch_size))",
         "for start in range(0, n - batch_size + 1, batch_size))",
         "Stops the loop early so the last, smaller batch is never yielded."),
    _bug(GD, "mb_randperm_without_generator", "minibatches",
         "order = torch.randperm(n, generator=generator) if shuffle",
         "order = torch.randperm(n) if shuffle",
         "Forgets to pass the generator to torch.randperm, so the order comes from the global RNG."),
    _bug(GD, "fit_scheduler_per_epoch", "fit",
         "            optimizer.step()\n"
         "            if scheduler is not None:\n"
         "                scheduler.step()\n",
         "            optimizer.step()\n",
         "Steps the scheduler once per epoch instead of once per optimizer step."),
    _bug(GD, "fit_patience_off_by_one", "fit",
         "            if epochs_without_gain >= patience:\n",
         "            if epochs_without_gain > patience:\n",
         "Waits patience + 1 epochs without improvement before stopping."),
    _bug(GD, "fit_unweighted_train_loss", "fit",
         "            # Weight by the batch size so a short last batch counts for what it holds.\n"
         "            loss_sum += loss.item() * len(idx)\n"
         "            seen += len(idx)\n",
         "            loss_sum += loss.item()\n"
         "            seen += 1\n",
         "Averages the batch losses without weighting by batch size (wrong when the last batch is smaller)."),
    # ------------------------------------------------------------------ 02_optimizers
    Submission(OPT, "correct"),
    _bug(OPT, "sgd_dampening_on_first_step", "SGD",
         "                    if buf is None:  # first step: the buffer starts as the gradient itself\n"
         "                        buf = g.detach().clone()\n"
         '                        state["momentum_buffer"] = buf\n'
         "                    else:\n"
         "                        buf.mul_(mu).add_(g, alpha=1 - tau)\n",
         "                    if buf is None:\n"
         "                        buf = torch.zeros_like(p)\n"
         '                        state["momentum_buffer"] = buf\n'
         "                    buf.mul_(mu).add_(g, alpha=1 - tau)\n",
         "Starts the momentum buffer at zero, so the first step is already dampened."),
    _bug(OPT, "sgd_buffers_outside_state", "SGD",
         "                    state = self.state[p]\n",
         '                    if not hasattr(self, "velocity"):\n'
         "                        self.velocity = {}\n"
         "                    state = self.velocity.setdefault(p, {})\n",
         "Keeps the momentum buffers in an attribute dict that state_dict() does not save."),
    _bug(OPT, "adagrad_lr_decay_off_by_one", "Adagrad",
         '(1 + (state["step"] - 1) * group["lr_decay"])',
         '(1 + state["step"] * group["lr_decay"])',
         "Decays the lr with t instead of t - 1, so the first step is already decayed."),
    _bug(OPT, "rmsprop_centered_not_subtracted", "RMSprop",
         "                    denom = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()\n",
         "                    denom = square_avg.sqrt()\n",
         "centered=True tracks the gradient average but never subtracts its square."),
    _bug(OPT, "adam_eps_inside_sqrt", "Adam",
         '                denom = (second.sqrt() / bias_correction2_sqrt).add_(group["eps"])\n',
         '                denom = (second / bias_correction2_sqrt ** 2 + group["eps"]).sqrt()\n',
         "Follows the lecture's sqrt(v_hat + eps) instead of torch's sqrt(v_hat) + eps."),
    _bug(OPT, "adam_betas_from_defaults", "Adam",
         '            beta1, beta2 = group["betas"]\n',
         '            beta1, beta2 = self.defaults["betas"]\n',
         "Reads betas from self.defaults instead of the param group."),
    # ------------------------------------------------------------------ 03_regularization
    Submission(REG, "correct"),
    _bug(REG, "dropout_lecture_keep_probability", "Dropout",
         "        keep = 1.0 - self.p\n",
         "        keep = self.p  # the lecture's p is the probability of keeping a unit\n",
         "Uses the lecture's convention (p = keep probability, divide by p) although p here is the "
         "drop probability."),
    _bug(REG, "dropout_mask_reused", "Dropout",
         "        mask = torch.rand_like(x) < keep"
         "  # a fresh Bernoulli(1 - p) mask per call and per element\n",
         '        if getattr(self, "mask", None) is None or self.mask.shape != x.shape:\n'
         "            self.mask = torch.rand_like(x) < keep\n"
         "        mask = self.mask\n",
         "Caches the mask and reuses it on every call with the same shape."),
    _bug(REG, "bnf_backward_no_variance_term", "BatchNormFunction",
         "            grad_x = inv_std * (g - g.mean(dim=dims, keepdim=True)\n"
         "                                - x_hat * (g * x_hat).mean(dim=dims, keepdim=True))\n",
         "            grad_x = inv_std * (g - g.mean(dim=dims, keepdim=True))\n",
         "Forgets the gradient path through the batch variance."),
    _bug(REG, "bn1d_momentum_none_ignored", "BatchNorm1d",
         "            rho = 1.0 / self.num_batches_tracked.item()"
         " if self.momentum is None else self.momentum\n",
         "            rho = 0.1 if self.momentum is None else self.momentum\n",
         "Falls back to 0.1 for momentum=None instead of the cumulative average 1 / num_batches_tracked."),
    _bug(REG, "bn2d_eval_without_eps", "BatchNorm2d",
         "            inv_std = torch.rsqrt(self.running_var.reshape(shape) + self.eps)\n",
         "            inv_std = torch.rsqrt(self.running_var.reshape(shape))\n",
         "Forgets eps when normalizing with the running variance in eval mode."),
]
