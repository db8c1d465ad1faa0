"""01_gradient_descent graded end to end: the independently written correct submissions get full marks,
a stub scores nothing, and each realistic single bug loses points in exactly the rubric lines it
should (one graded name only: fit runs with a trusted stand-in for minibatches, so its bugs stay in
minibatches, and so on)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.engine import grade_submission
from autograder.results import student_record
from autograder.rubric import load_rubric
from autograder.sandbox.runner import Zygote

try:  # the shared table of known single-bug submissions (when it exists)
    from tests.submissions.known_wrong import KNOWN_WRONG
except ImportError:  # pragma: no cover - the table is written separately
    KNOWN_WRONG = []

ASSIGNMENT = "01_gradient_descent"
SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / ASSIGNMENT
RUBRIC = load_rubric(ASSIGNMENT)
pytestmark = pytest.mark.gradient_descent


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def grade(path: Path, zygote) -> dict:
    return student_record(grade_submission(path, ASSIGNMENT, zygote), RUBRIC)


def lost_items(record: dict) -> dict[str, str]:
    return {
        i["id"]: f"{i['status']}: {i['feedback'][-400:]}" for i in record["items"] if i["status"] != "passed"
    }


@pytest.mark.parametrize("path", sorted((SUBMISSIONS / "correct").glob("*.py")), ids=lambda p: p.stem)
def test_correct_submission_gets_full_marks(path, zygote):
    record = grade(path, zygote)
    assert lost_items(record) == {}
    assert record["score"] == RUBRIC.max_score


STUB = """
import torch
from torch.optim.lr_scheduler import LRScheduler


class PowerDecayLR(LRScheduler):
    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        raise NotImplementedError()

    def get_lr(self):
        raise NotImplementedError()


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    raise NotImplementedError()


def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, scheduler=None,
        generator=None):
    raise NotImplementedError()
"""


def test_stub_scores_zero_on_every_line(zygote, tmp_path):
    path = tmp_path / "gradient_descent.py"
    path.write_text(STUB)
    record = grade(path, zygote)
    assert record["score"] == 0
    assert {i["id"] for i in record["items"] if i["score"] > 0} == set()


@dataclass(frozen=True)
class Bug:
    """One realistic bug: ``old`` (occurring once in ``base``, relative to the assignment's folder)
    replaced by ``new``; ``fails`` the rubric lines it must lose (exactly those)."""

    name: str
    base: str
    old: str
    new: str
    fails: tuple[str, ...]
    dup_of: str = ""  # the same bug in the shared KNOWN_WRONG table: graded once, from there


BUGS = [
    # --- PowerDecayLR
    Bug(
        "scheduler_wrong_default",
        "correct/loop.py",
        "def __init__(self, optimizer, power=0.3, last_epoch=-1):",
        "def __init__(self, optimizer, power=0.5, last_epoch=-1):",
        ("PowerDecayLR.interface",),
    ),
    Bug(
        "scheduler_t_off_by_one",
        "correct/loop.py",
        "return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]",
        "return [base_lr / (k + 2) ** self.power for base_lr in self.base_lrs]",
        ("PowerDecayLR.schedule",),
    ),
    Bug(
        "scheduler_first_group_only",
        "correct/loop.py",
        "return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]",
        "return [self.base_lrs[0] / (k + 1) ** self.power for base_lr in self.base_lrs]",
        ("PowerDecayLR.schedule",),
        dup_of="pdlr_first_group_lr",
    ),
    Bug(
        "scheduler_multiplies",
        "correct/functional.py",
        "return math.pow(k + 1, -self.power)",
        "return math.pow(k + 1, self.power)",
        ("PowerDecayLR.schedule",),
        dup_of="pdlr_power_sign",
    ),
    Bug(
        "scheduler_state_dict_drops_step",
        "correct/loop.py",
        "    def get_lr(self):\n        k = self.last_epoch",
        "    def state_dict(self):\n        return {'power': self.power}\n\n"
        "    def get_lr(self):\n        k = self.last_epoch",
        ("PowerDecayLR.state_dict_resume",),
    ),
    Bug(
        "scheduler_counter_outside_state",
        "correct/loop.py",
        "        super().__init__(optimizer, last_epoch)\n\n"
        "    def get_lr(self):\n        k = self.last_epoch\n",
        "        PowerDecayLR.t = -1  # counts get_lr calls, but not in the scheduler's state\n"
        "        super().__init__(optimizer, last_epoch)\n\n"
        "    def get_lr(self):\n        PowerDecayLR.t += 1\n"
        "        k = PowerDecayLR.t\n",
        ("PowerDecayLR.state_dict_resume",),
    ),
    # --- minibatches
    Bug(
        "minibatches_shuffle_default_false",
        "correct/loop.py",
        "def minibatches(n, batch_size, *, shuffle=True, generator=None):",
        "def minibatches(n, batch_size, *, shuffle=False, generator=None):",
        ("minibatches.interface",),
    ),
    Bug(
        "minibatches_no_check",
        "correct/loop.py",
        "    if batch_size < 1:\n"
        '        raise ValueError(f"batch_size must be at least 1, got {batch_size}")\n',
        "",
        ("minibatches.interface",),
        dup_of="mb_no_value_error",
    ),
    Bug(
        "minibatches_float_indices",
        "correct/loop.py",
        "        order = torch.arange(n)\n",
        "        order = torch.arange(n, dtype=torch.float32)\n",
        ("minibatches.coverage",),
    ),
    Bug(
        "minibatches_drop_last_partial",
        "correct/classes.py",
        "    cuts = list(range(batch_size, n, batch_size))",
        "    cuts = list(range(batch_size, n, batch_size))\n"
        "    if n % batch_size:\n        indices = indices[: n - n % batch_size]",
        ("minibatches.coverage", "minibatches.generator"),
        dup_of="mb_drops_last_partial_batch",
    ),
    Bug(
        "minibatches_ignores_generator",
        "correct/loop.py",
        "order = torch.randperm(n, generator=generator)",
        "order = torch.randperm(n)",
        ("minibatches.generator",),
        dup_of="mb_randperm_without_generator",
    ),
    Bug(
        "minibatches_reseeds_every_call",
        "correct/functional.py",
        "perm = torch.randperm(n, generator=generator) if shuffle",
        "perm = torch.randperm(n, generator=torch.Generator()"
        ".manual_seed(generator.initial_seed() if generator "
        "else 0)) if shuffle",
        ("minibatches.generator",),
    ),
    # --- fit
    Bug(
        "fit_wrong_patience_default",
        "correct/loop.py",
        "max_epochs, patience=1,\n",
        "max_epochs, patience=2,\n",
        ("fit.interface",),
    ),
    Bug(
        "fit_tensor_losses",
        "correct/loop.py",
        "val_loss = loss_fn(model(X_val), y_val).item()",
        "val_loss = loss_fn(model(X_val), y_val)",
        ("fit.interface",),
    ),
    Bug(
        "fit_no_zero_grad",
        "correct/loop.py",
        "            optimizer.zero_grad()\n",
        "",
        ("fit.training_loop", "fit.convergence"),
        dup_of="fit_no_zero_grad",
    ),
    Bug(
        "fit_scheduler_per_epoch",
        "correct/loop.py",
        "            if scheduler is not None:\n                scheduler.step()\n"
        "            total += loss.item() * len(idx)\n"
        "            seen += len(idx)\n",
        "            total += loss.item() * len(idx)\n            seen += len(idx)\n"
        "        if scheduler is not None:\n"
        "            scheduler.step()\n",
        ("fit.training_loop",),
        dup_of="fit_scheduler_per_epoch",
    ),
    Bug(
        "fit_train_mode_once",
        "correct/loop.py",
        "    for epoch in range(max_epochs):\n        model.train()\n",
        "    model.train()\n    for epoch in range(max_epochs):\n",
        ("fit.training_loop",),
        dup_of="fit_train_mode_once",
    ),
    Bug(
        "fit_ignores_generator",
        "correct/loop.py",
        "for idx in minibatches(len(X), batch_size, shuffle=True, generator=generator):",
        "for idx in minibatches(len(X), batch_size):",
        ("fit.training_loop",),
    ),
    Bug(
        "fit_own_batches",
        "correct/functional.py",
        "for batch in minibatches(len(X), batch_size, shuffle=True, generator=generator):",
        "for batch in torch.randperm(len(X), generator=generator).split(batch_size):",
        ("fit.training_loop",),
    ),
    Bug(
        "fit_no_eval",
        "correct/loop.py",
        "        model.eval()\n",
        "",
        ("fit.loss_bookkeeping",),
        dup_of="fit_no_eval_mode",
    ),
    Bug(
        "fit_unweighted_train_loss",
        "correct/loop.py",
        "total += loss.item() * len(idx)\n            seen += len(idx)",
        "total += loss.item()\n            seen += 1",
        ("fit.loss_bookkeeping",),
        dup_of="fit_unweighted_train_loss",
    ),
    Bug(
        "fit_post_step_train_loss",
        "correct/loop.py",
        "total += loss.item() * len(idx)",
        "total += loss_fn(model(X[idx]), y[idx]).item() * len(idx)",
        ("fit.loss_bookkeeping",),
    ),
    Bug(
        "fit_val_with_grad",
        "correct/classes.py",
        "        with torch.no_grad():\n            val_loss = loss_fn(model(X_val), y_val).item()",
        "        if True:\n            val_loss = loss_fn(model(X_val), y_val).item()",
        ("fit.loss_bookkeeping",),
        dup_of="fit_val_with_grad",
    ),
    Bug(
        "fit_ties_improve",
        "correct/loop.py",
        "if best_state is None or val_loss < best_loss:",
        "if best_state is None or val_loss <= best_loss:",
        ("fit.early_stopping",),
        dup_of="fit_non_strict_improvement",
    ),
    Bug(
        "fit_patience_off_by_one",
        "correct/loop.py",
        "if epochs_without_improvement >= patience:",
        "if epochs_without_improvement > patience:",
        ("fit.early_stopping",),
        dup_of="fit_patience_off_by_one",
    ),
    Bug(
        "fit_shallow_state_copy",
        "correct/loop.py",
        "best_state = copy.deepcopy(model.state_dict())",
        "best_state = model.state_dict()",
        ("fit.best_weights",),
        dup_of="fit_best_state_alias",
    ),
    Bug(
        "fit_restores_parameters_only",
        "correct/loop.py",
        "        model.load_state_dict(best_state)\n",
        "        with torch.no_grad():\n            for name, p in model.named_parameters():\n"
        "                p.copy_(best_state[name])\n",
        ("fit.best_weights",),
    ),
    Bug(
        "fit_no_restore",
        "correct/functional.py",
        "        model.load_state_dict(best_weights)\n",
        "        pass\n",
        ("fit.best_weights",),
        dup_of="fit_no_restore",
    ),
]


# Equivalent rewrites a student may write: they must keep full marks (guards against over-strict checks).
CORRECT_VARIANTS = [
    Bug(
        "chainable_scheduler",
        "correct/loop.py",
        "        k = self.last_epoch\n"
        "        return [base_lr / (k + 1) ** self.power for base_lr in self.base_lrs]\n",
        "        k = self.last_epoch\n        groups = self.optimizer.param_groups\n        if k == 0:\n"
        "            return [group['lr'] for group in groups]\n"
        "        return [group['lr'] * (k / (k + 1)) ** self.power for group in groups]\n",
        (),
    ),
    Bug(
        "scheduler_overrides_step",
        "correct/loop.py",
        "    def get_lr(self):\n        k = self.last_epoch\n",
        "    def step(self, epoch=None):\n        self.last_epoch += 1\n"
        "        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):\n"
        "            group['lr'] = base_lr * (self.last_epoch + 1) ** -self.power\n"
        "        self._last_lr = [group['lr'] for group in self.optimizer.param_groups]\n\n"
        "    def get_lr(self):\n        k = self.last_epoch\n",
        (),
    ),
    Bug(
        "minibatches_split",
        "correct/loop.py",
        "    for start in range(0, n, batch_size):\n        yield order[start:start + batch_size]\n",
        "    yield from order.split(batch_size)  # n = 0: one empty batch, which is fine\n",
        (),
    ),
    Bug(
        "fit_zero_grad_after_step_model_zero_grad",
        "correct/loop.py",
        "            optimizer.zero_grad()\n            loss = loss_fn(model(X[idx]), y[idx])\n"
        "            loss.backward()\n            optimizer.step()\n",
        "            loss = loss_fn(model(X[idx]), y[idx])\n"
        "            loss.backward()\n            optimizer.step()\n            model.zero_grad()\n",
        (),
    ),
    Bug(
        "fit_inference_mode_and_deepcopied_model",
        "correct/loop.py",
        "        with torch.no_grad():\n            val_loss = loss_fn(model(X_val), y_val).item()\n",
        "        with torch.inference_mode():\n            val_loss = loss_fn(model(X_val), y_val).item()\n",
        (),
    ),
    Bug(
        "fit_best_model_copy",
        "correct/classes.py",
        "            self.best_state = copy.deepcopy(model.state_dict())\n",
        "            self.best_state = copy.deepcopy(model).state_dict()\n",
        (),
    ),
    Bug(
        "fit_float32_accumulator",
        "correct/loop.py",
        "            total += loss.item() * len(idx)\n            seen += len(idx)\n"
        '        history["train_loss"].append(total / seen)\n',
        "            total = total + loss.detach().float() * len(idx)\n            seen += len(idx)\n"
        '        history["train_loss"].append(float(total / seen))\n',
        (),
    ),
]


KNOWN = [w for w in KNOWN_WRONG if w.assignment == ASSIGNMENT]


def _variants():
    known = {w.name for w in KNOWN}
    for bug in BUGS + CORRECT_VARIANTS:
        if bug.dup_of not in known:
            yield pytest.param(bug.base, bug.old, bug.new, bug.fails, id=bug.name)
    for w in KNOWN:
        yield pytest.param(w.base, w.old, w.new, tuple(w.fails), id=f"known_wrong-{w.name}")


def test_every_rubric_line_is_lost_by_some_bug():
    lost = {line for bug in BUGS for line in bug.fails} | {line for w in KNOWN for line in w.fails}
    assert {line.id for line in RUBRIC.lines} <= lost


@pytest.mark.parametrize(("base", "old", "new", "fails"), list(_variants()))
def test_single_bug_loses_exactly_its_lines(base, old, new, fails, zygote, tmp_path):
    text = (SUBMISSIONS / base).read_text()
    assert text.count(old) == 1, "the snippet must occur exactly once in the base file"
    path = tmp_path / "gradient_descent.py"
    path.write_text(text.replace(old, new))
    record = grade(path, zygote)
    lost = {i["id"] for i in record["items"] if i["score"] < i["max_score"]}
    assert lost == set(fails), lost_items(record)
    # Every failure comes with feedback a student can act on.
    for item in record["items"]:
        if item["id"] in lost:
            assert item["feedback"].strip()
            assert not re.search(r"Traceback|kitworker", item["feedback"])
