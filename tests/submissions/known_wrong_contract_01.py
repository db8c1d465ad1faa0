"""Known-wrong rows for the contract of assignment 01: (name, base, old, new, fails, reason) as in
known_wrong.py's `_w`, the assignment implied. Each violates one clause of the released notebook's
contract (autograder/grading/rubric/contracts/) and loses exactly the lines in `fails`."""

_INIT = (
    "    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n"
    "        self.power = power  # must exist before the base class calls get_lr()\n"
    "        super().__init__(optimizer, last_epoch)\n"
)
_GET_LR = (
    "    def get_lr(self):\n"
    "        k = self.last_epoch\n"
    "        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]\n"
)
_BATCH = (
    "            optimizer.zero_grad()\n"
    "            loss = loss_fn(model(X[idx]), y[idx])\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
)

ROWS: list[tuple] = [
    # ------------------------------------------------------------------ PowerDecayLR
    ("sched_ignores_last_epoch", "correct/loop.py",
     "        super().__init__(optimizer, last_epoch)\n",
     "        super().__init__(optimizer, -1)  # a scheduler always starts at the beginning\n",
     {"PowerDecayLR.schedule"},
     "Passes -1 instead of last_epoch to LRScheduler.__init__, so a scheduler built to resume restarts "
     "from the base lr."),
    ("sched_own_step_counter", "correct/loop.py",
     _INIT + "\n" + _GET_LR,
     "    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n"
     "        self.power = power\n"
     "        self.t = 0  # how many times get_lr has run\n"
     "        super().__init__(optimizer, last_epoch)\n"
     "\n"
     "    def get_lr(self):\n"
     "        self.t += 1\n"
     "        return [base_lr / self.t ** self.power for base_lr in self.base_lrs]\n",
     {"PowerDecayLR.schedule"},
     "Counts its own steps in get_lr instead of reading self.last_epoch, so a scheduler built with "
     "last_epoch=k restarts the schedule."),
    ("sched_chainable_form", "correct/loop.py",
     _GET_LR,
     "    def get_lr(self):\n"
     "        k = self.last_epoch\n"
     "        if k == 0:\n"
     "            return [group['lr'] for group in self.optimizer.param_groups]\n"
     "        return [group['lr'] * (k / (k + 1)) ** self.power for group in self.optimizer.param_groups]\n",
     {"PowerDecayLR.schedule"},
     "Chains the decay onto the current group['lr'] (lr * (k / (k + 1)) ** power) instead of the closed "
     "form from initial_lr: wrong after a resume with last_epoch >= 0 or an lr changed in between."),
    ("sched_class_default_power", "correct/loop.py",
     _INIT,
     "    power = 0.5  # the default exponent\n"
     "\n"
     "    def __init__(self, optimizer, power=None, last_epoch=-1):\n"
     "        if power is not None:\n"
     "            self.power = power\n"
     "        super().__init__(optimizer, last_epoch)\n",
     {"PowerDecayLR.interface"},
     "Keeps the default power in a class attribute, 0.5 instead of 0.3, and defaults the argument to None."),
    ("sched_none_default_power", "correct/loop.py",
     _INIT,
     "    def __init__(self, optimizer, power=None, last_epoch=-1):\n"
     "        self.power = 0.5 if power is None else power  # the default exponent\n"
     "        super().__init__(optimizer, last_epoch)\n",
     {"PowerDecayLR.interface"},
     "Defaults power to None and treats a missing power as 0.5: the default schedule decays too fast."),
    # ------------------------------------------------------------------ minibatches
    ("mb_rejects_empty", "correct/loop.py",
     "    if batch_size < 1:\n",
     "    if batch_size < 1 or n < 1:\n",
     {"minibatches.coverage"},
     "Raises ValueError for n = 0 (and says batch_size is wrong) instead of giving no indices."),
    ("mb_fresh_permutation_per_batch", "correct/loop.py",
     "        yield order[start:start + batch_size]\n",
     "        if shuffle:\n"
     "            order = torch.randperm(n, generator=generator)  # reshuffle for every batch\n"
     "        yield order[start:start + batch_size]\n",
     {"minibatches.coverage", "minibatches.generator"},
     "Draws a new permutation for every batch, so batches overlap and miss indices."),
    # ------------------------------------------------------------------ fit
    ("fit_counter_never_reset", "correct/loop.py",
     "            best_state = copy.deepcopy(model.state_dict())\n"
     "            epochs_without_improvement = 0\n",
     "            best_state = copy.deepcopy(model.state_dict())\n",
     {"fit.early_stopping"},
     "Never resets the no-improvement counter after an improvement: stops after `patience` bad epochs "
     "in total, not in a row."),
    ("fit_zero_grad_late", "correct/loop.py",
     _BATCH,
     "            loss = loss_fn(model(X[idx]), y[idx])\n"
     "            loss.backward()\n"
     "            optimizer.step()\n"
     "            optimizer.zero_grad()  # clean up for the next batch\n",
     {"fit.training_loop"},
     "Calls zero_grad after optimizer.step(): gradients the model already holds when fit is called leak "
     "into the first step."),
    ("fit_best_epoch_one_based", "correct/loop.py",
     '            history["best_epoch"] = epoch\n',
     '            history["best_epoch"] = epoch + 1  # epochs are counted from 1\n',
     {"fit.early_stopping"},
     "Reports best_epoch counted from 1 although epochs count from 0."),
    ("fit_best_state_shallow_copy", "correct/loop.py",
     "            best_state = copy.deepcopy(model.state_dict())\n",
     "            best_state = copy.copy(model.state_dict())  # a copy of the dict\n",
     {"fit.best_weights"},
     "Copies the state_dict's dict but not its tensors, which keep changing with the live weights."),
    ("fit_stops_one_early", "correct/loop.py",
     "            if epochs_without_improvement >= patience:\n",
     "            if epochs_without_improvement >= patience - 1:\n",
     {"fit.early_stopping"},
     "Stops one epoch too early: after patience - 1 epochs without improvement (the same as correct "
     "for patience=1 only)."),
    # Once listed as equivalent rewrites; the contract now says why they are not (closed form from
    # initial_lr and last_epoch; zero_grad before the forward pass, the model may hold gradients).
    ("sched_chainable_from_group_lr", "correct/loop.py",
     "        k = self.last_epoch\n        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]\n",
     "        k = self.last_epoch\n        groups = self.optimizer.param_groups\n        if k == 0:\n"
     "            return [group['lr'] for group in groups]\n"
     "        return [group['lr'] * (k / (k + 1)) ** self.power for group in groups]\n",
     {"PowerDecayLR.schedule"},
     "A chainable get_lr that multiplies the group's current lr by (k / (k + 1)) ** power: wrong once "
     "something else set the lr, or when built with last_epoch >= 0."),
    ("fit_model_zero_grad_after_step", "correct/loop.py",
     "            optimizer.zero_grad()\n            loss = loss_fn(model(X[idx]), y[idx])\n"
     "            loss.backward()\n            optimizer.step()\n",
     "            loss = loss_fn(model(X[idx]), y[idx])\n            loss.backward()\n"
     "            optimizer.step()\n            model.zero_grad()\n",
     {"fit.training_loop"},
     "Clears gradients after the step with model.zero_grad(): gradients the model held when fit was "
     "called leak into the first step."),
]
