"""Trusted pieces around the student's ``fit`` (01_gradient_descent), shared by both sides.

The worker runs the student's ``fit`` with these pieces and the grader runs ``reference.fit`` with the
very same ones, so the two runs produce records of one shape that the grader compares. Nothing here
is an expected value: the pieces are torch code that *record* what ``fit`` did with them:

- ``Probe``: a layer whose output depends on train/eval mode (x 1.25 in training, identity in eval),
  with a buffer that counts training forwards (so a state_dict has a buffer that changes every batch);
- ``RecordingSGD``: ``torch.optim.SGD`` that records the lr, the gradients and the state at each step
  and every ``zero_grad``;
- ``RecordingLambdaLR``: ``torch.optim.lr_scheduler.LambdaLR`` that records each ``step()``;
- ``RecordingLoss``: mean squared error that records every call (train or validation, grad mode,
  train/eval mode, the value, whether ``backward`` went through it) and can replace the validation
  loss by a scripted value (so discrete outcomes like ``best_epoch`` cannot be flipped by float noise);
- the stand-in ``minibatches`` (DESIGN's contract, recording its calls; its class comes from the
  trusted side, ``autograder/sandbox/standins/minibatches.py``, and is passed in), substituted for the
  student's own ``minibatches`` while their ``fit`` runs.

A validation call is recognised by the length of its target (the validation set's size is chosen
different from every training batch size).

Self-contained on purpose: torch, the standard library and this package only.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import nn

from .. import operations as ops

MAX_EVENTS = 5000  # a runaway loop in student code stops being recorded here
MAX_STEP_SNAPSHOTS = 400
MAX_VAL_SNAPSHOTS = 200


class Probe(nn.Module):
    """x * 1.25 in training mode, x in eval mode; ``seen`` counts training forwards."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.seen += 1
            return 1.25 * x
        return x


class Net(nn.Sequential):
    """``nn.Sequential`` that records ``model.zero_grad()`` (an accepted way to clear gradients)."""

    recorder: Recorder | None = None

    def zero_grad(self, set_to_none: bool = True) -> None:
        if self.recorder is not None:
            self.recorder.log({"e": "zero", "by": "model"})
        super().zero_grad(set_to_none)


class Recorder:
    """An ordered event log (JSON) plus named tensors (snapshots)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.events: list[dict[str, Any]] = []
        self.tensors: dict[str, torch.Tensor] = {}
        self.overflow = False
        self.steps = 0

    def log(self, event: dict[str, Any]) -> dict[str, Any]:
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        else:
            self.overflow = True
        return event

    def snapshot(self, prefix: str) -> None:
        for key, value in self.model.state_dict().items():
            self.tensors[f"{prefix}/{key}"] = value.detach().clone()


class RecordingSGD(torch.optim.SGD):
    """torch.optim.SGD (trusted) recording each step:
    the lr of every group, the gradients it saw (``grad{t}/<name>``, absent for None) and the model's
    state after the step (``step{t}/<key>``)."""

    def __init__(self, model: nn.Module, recorder: Recorder, snap_steps: bool, **kwargs: Any) -> None:
        super().__init__(model.parameters(), **kwargs)
        self._names = {id(p): name for name, p in model.named_parameters()}
        self._recorder = recorder
        self._snap = snap_steps

    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        rec = self._recorder
        t = rec.steps
        rec.steps += 1
        rec.log({"e": "step", "t": t, "lr": [float(g["lr"]) for g in self.param_groups]})
        snap = self._snap and t < MAX_STEP_SNAPSHOTS
        if snap:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        rec.tensors[f"grad{t}/{self._names[id(p)]}"] = p.grad.detach().clone()
        out = super().step(closure)
        if snap:
            rec.snapshot(f"step{t}")
        return out

    def zero_grad(self, set_to_none: bool = True) -> None:
        self._recorder.log({"e": "zero", "by": "optimizer"})
        super().zero_grad(set_to_none)


class RecordingLambdaLR(torch.optim.lr_scheduler.LambdaLR):
    """torch's LambdaLR; records every ``step()`` after construction."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr_lambda, recorder: Recorder) -> None:  # noqa: ANN001
        self._recorder = None
        super().__init__(optimizer, lr_lambda)
        self._recorder = recorder

    def step(self, epoch=None) -> None:  # noqa: ANN001 - torch's signature
        super().step(epoch)
        if self._recorder is not None:
            self._recorder.log({"e": "sched"})


def make_scheduler(spec: dict | None, optimizer: torch.optim.Optimizer, recorder: Recorder):
    """``{"kind": "gamma", "gamma": g}``: lr = base * g**k; ``{"kind": "power", "power": p}``: the
    lecture's base / (k + 1)**p (torch's LambdaLR either way)."""
    if not spec:
        return None
    if spec["kind"] == "gamma":
        gamma = float(spec["gamma"])
        return RecordingLambdaLR(optimizer, lambda k: gamma**k, recorder)
    if spec["kind"] == "power":
        power = float(spec["power"])
        return RecordingLambdaLR(optimizer, lambda k: (k + 1) ** -power, recorder)
    raise ValueError(f"unknown scheduler {spec!r}")


# The loss is not symmetric in its arguments (an MSE plus a term in the prediction alone): a fit that
# calls loss_fn(target, pred) computes other losses and other gradients.
PRED_WEIGHT = 0.1


# The gradient every parameter holds when ``fit`` is called with ``pre_grad``.
PRE_GRAD = 0.25


def fit_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mean((pred - target)**2) + PRED_WEIGHT * mean(pred)``, the loss every fit run trains with."""
    return ((pred.reshape(target.shape) - target) ** 2).mean() + PRED_WEIGHT * pred.mean()


class RecordingLoss:
    """``fit_loss`` (an MSE plus a small term in the prediction) that records every call.

    ``script``: validation phase e (a run of consecutive validation calls) returns ``script[e]``
    (the last entry beyond the script) instead of the real value, as a constant tensor."""

    def __init__(self, recorder: Recorder, model: nn.Module, n_val: int, script: list[float] | None) -> None:
        self.recorder = recorder
        self.model = model
        self.n_val = n_val
        self.script = script
        self.phase = -1
        self._prev_val = False

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        is_val = isinstance(target, torch.Tensor) and target.dim() >= 1 and target.shape[0] == self.n_val
        loss = fit_loss(pred, target)
        event: dict[str, Any] = {
            "e": "loss",
            "val": is_val,
            "n": int(target.shape[0]) if target.dim() else 1,
            "grad": torch.is_grad_enabled(),
            "training": bool(self.model.training),
            "bw": False,
        }
        if is_val:
            if not self._prev_val:
                self.phase += 1
                if self.phase < MAX_VAL_SNAPSHOTS:
                    self.recorder.snapshot(f"val{self.phase}")
            event["phase"] = self.phase
            if self.script is not None:  # a constant: not even a NaN from a diverged model changes it
                loss = torch.full(
                    (), float(self.script[min(self.phase, len(self.script) - 1)]), dtype=loss.dtype
                )
        self._prev_val = is_val
        event["value"] = float(loss.detach())
        self.recorder.log(event)
        if loss.requires_grad:

            def mark(_grad: torch.Tensor, event: dict = event) -> None:
                event["bw"] = True

            loss.register_hook(mark)
        return loss


def build_model(setup: str, tensors: dict[str, torch.Tensor]) -> Net:
    """``probe``: Linear(d, h) -> Probe -> Tanh -> Linear(h, 1); ``linear``: Linear(d, 1); float64,
    weights from ``init/<key>``."""
    d = tensors["X"].shape[1]
    if setup == "probe":
        h = tensors["init/0.weight"].shape[0]
        model = Net(nn.Linear(d, h), Probe(), nn.Tanh(), nn.Linear(h, 1))
    elif setup == "linear":
        model = Net(nn.Linear(d, 1))
    else:
        raise ValueError(f"unknown setup {setup!r}")
    model = model.double()
    model.load_state_dict({k[len("init/") :]: v for k, v in tensors.items() if k.startswith("init/")})
    return model


class FitHarness:
    """One ``fit`` run: model, recording loss, optimizer, scheduler, data and generator, built from an
    ``operations.FitRun`` request (tensors ``X``, ``y``, ``Xv``, ``yv``, ``init/<key>``): ``setup``,
    ``lr``, ``momentum``, ``scheduler`` (see make_scheduler), ``script``, ``fit_kwargs`` (batch_size,
    max_epochs, patience), ``seed`` (None: no generator is passed), ``snap_steps`` (record the state
    after every optimizer step), ``pre_grad`` (the model already holds gradients, ``PRE_GRAD`` in every
    entry, when ``fit`` is called). ``minibatches``: the stand-in's class (``StandInMinibatches``)."""

    def __init__(self, req: ops.FitRun, minibatches: type) -> None:
        self.req = req
        tensors = req.tensors
        self.X, self.y, self.Xv, self.yv = (tensors[k].clone() for k in ("X", "y", "Xv", "yv"))
        self.model = build_model(req.setup, tensors)
        if req.pre_grad:  # gradients left over from earlier work: fit must clear them before its first step
            for p in self.model.parameters():
                p.grad = torch.full_like(p, PRE_GRAD)
        self.recorder = Recorder(self.model)
        self.model.recorder = self.recorder
        self.loss_fn = RecordingLoss(self.recorder, self.model, self.Xv.shape[0], req.script)
        self.optimizer = RecordingSGD(
            self.model, self.recorder, bool(req.snap_steps), lr=req.lr, momentum=req.momentum
        )
        self.scheduler = make_scheduler(req.scheduler, self.optimizer, self.recorder)
        self.generator = None if req.seed is None else torch.Generator().manual_seed(int(req.seed))
        self.minibatches = minibatches(self.recorder, self.generator)

    def run(self, fit) -> Any:  # noqa: ANN001 - the function under test
        kwargs = dict(self.req.fit_kwargs)
        if self.scheduler is not None:
            kwargs["scheduler"] = self.scheduler
        if self.generator is not None:
            kwargs["generator"] = self.generator
        return fit(self.model, self.loss_fn, self.optimizer, (self.X, self.y), (self.Xv, self.yv), **kwargs)

    def report(self, result: Any) -> ops.FitLog:
        """The event log, a description of ``fit``'s return value, and tensors (snapshots, final state)."""
        tensors = dict(self.recorder.tensors)
        for key, t in self.model.state_dict().items():
            tensors[f"final/{key}"] = t.detach().clone()
        return ops.FitLog(self.recorder.events, self.recorder.overflow, describe_result(result), tensors)


def _number(x: Any) -> float | None:
    try:
        if isinstance(x, torch.Tensor):
            return float(x.detach().reshape(()).item()) if x.numel() == 1 else None
        if isinstance(x, numbers.Real):
            return float(x)
    except Exception:  # noqa: BLE001 - a hostile value is simply not a number
        return None
    return None


def describe_result(result: Any) -> dict[str, Any]:
    """What ``fit`` returned, as plain JSON: types and numbers only."""
    if not isinstance(result, dict):
        return {"type": type(result).__name__}
    out: dict[str, Any] = {"type": "dict", "keys": sorted(str(k) for k in list(result)[:50])}
    for key in ("train_loss", "val_loss"):
        v = result.get(key)
        entry: dict[str, Any] = {"type": type(v).__name__}
        items = None
        if isinstance(v, (list, tuple)):
            items = list(v)[:1000]
        elif isinstance(v, torch.Tensor) and v.dim() == 1:  # the wrong type (interface), still readable
            items = list(v.detach()[:1000])
        if items is not None:
            entry["values"] = [_number(x) for x in items]
            entry["types"] = sorted({type(x).__name__ for x in items})
            entry["floats"] = all(isinstance(x, float) for x in items)
        out[key] = entry
    b = result.get("best_epoch")
    out["best_epoch"] = {
        "type": type(b).__name__,
        "int": isinstance(b, numbers.Integral) and not isinstance(b, bool),
        "value": _number(b),
    }
    return out
