"""The ``fit`` row (01_gradient_descent): its contract, the fixed runs every fit line grades, how a
run is sent to the worker and recorded, and the same run of ``reference.fit`` on the trusted side.

Every fit line runs the student's ``fit`` with the trusted pieces of ``handlers/fit_harness.py`` (a
probe network, a recording loss, torch's SGD and LambdaLR, a stand-in ``minibatches``); the reference
runs with the very same pieces, so the two event logs (``RunLog``) have one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

import reference
import reference.training

from ..sandbox.standins.minibatches import StandInMinibatches
from ..sandbox.worker import operations as ops
from ..sandbox.worker.handlers import fit_harness as GD
from ..sandbox.worker.handlers.standins import substituted
from .compare import tensor_literal
from .interface import REQUIRED, InterfaceSpec
from .reproduce import block, show, student_import


@dataclass(frozen=True)
class FitSpec:
    """A graded training loop: its contract, the module students import it from, tolerances."""

    name: str
    module: str
    interface: InterfaceSpec
    book_rtol: float  # loss bookkeeping: float32 accumulation of float64 losses is fine
    book_atol: float
    state_rtol: float  # training trajectories in float64 (compare.TOLERANCES)
    state_atol: float


FIT = FitSpec(
    name="fit",
    module="gradient_descent",
    interface=InterfaceSpec(
        "fit", "function",
        "`def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, "
        "scheduler=None, generator=None)`",
        positional=("model", "loss_fn", "optimizer", "train", "val"),
        params=(("batch_size", REQUIRED), ("max_epochs", REQUIRED), ("patience", 1), ("scheduler", None),
                ("generator", None)),
    ),
    book_rtol=1e-6,
    book_atol=1e-9,
    state_rtol=1e-9,
    state_atol=1e-12,
)


def _grid(gen: torch.Generator, shape: tuple[int, ...], scale: float = 1.0) -> torch.Tensor:
    """Normal values rounded to multiples of 1/8 (exact in any float dtype, readable in feedback)."""
    return torch.round(torch.randn(shape, generator=gen, dtype=torch.float64) * scale * 8) / 8


@cache
def _tensors(
    setup: str, n_train: int, n_val: int, d: int, hidden: int, seed: int
) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X, Xv = _grid(gen, (n_train, d)), _grid(gen, (n_val, d))
    if setup == "probe":
        init = {
            "0.weight": _grid(gen, (hidden, d), 0.5),
            "0.bias": _grid(gen, (hidden,), 0.5),
            "3.weight": _grid(gen, (1, hidden), 0.5),
            "3.bias": _grid(gen, (1,), 0.5),
            "1.seen": torch.zeros((), dtype=torch.long),
        }
        y, yv = _grid(gen, (n_train,)), _grid(gen, (n_val,))
    else:  # the lecture's linear regression: y = X w* + b* + noise
        w, b = torch.tensor([1.5, -2.0, 0.5][:d], dtype=torch.float64), 0.25
        y = X @ w + b + _grid(gen, (n_train,), 0.1)
        yv = Xv @ w + b + _grid(gen, (n_val,), 0.1)
        init = {
            "0.weight": torch.zeros(1, d, dtype=torch.float64),
            "0.bias": torch.zeros(1, dtype=torch.float64),
        }
    out = {"X": X, "y": y, "Xv": Xv, "yv": yv}
    out.update({f"init/{k}": v for k, v in init.items()})
    # The validation set is recognised by its size: it must differ from every training batch size.
    return out


def case_of(**over) -> dict:
    """A fit setup: the probe network on 7 training / 5 validation objects, batches 3, 3, 1."""
    case = {
        "setup": "probe",
        "n_train": 7,
        "n_val": 5,
        "d": 2,
        "hidden": 3,
        "data_seed": 11,
        "lr": 0.1,
        "momentum": 0.9,
        "scheduler": {"kind": "gamma", "gamma": 0.8},
        "script": None,
        "fit_kwargs": {"batch_size": 3, "max_epochs": 3, "patience": 3},
        "seed": 5,
        "snap_steps": False,
        "pre_grad": False,
    }
    case.update(over)
    return case


def fit_tensors(case: dict) -> dict[str, torch.Tensor]:
    """The data and initial weights of a case (``X``, ``y``, ``Xv``, ``yv``, ``init/<key>``)."""
    return dict(_tensors(case["setup"], case["n_train"], case["n_val"], case["d"], case["hidden"],
                         case["data_seed"]))


def request(case: dict) -> ops.FitRun:
    """The ``fit_run`` request of a case."""
    fields = ("setup", "lr", "momentum", "scheduler", "script", "fit_kwargs", "seed", "snap_steps",
              "pre_grad")
    return ops.FitRun(**{k: case[k] for k in fields}, tensors=fit_tensors(case))


def validation_loss(setup: str, tensors: dict[str, torch.Tensor], state: dict[str, torch.Tensor],
                    mse: bool = False) -> float:
    """The loss (``fit_loss``; with ``mse``, the plain MSE) of one eval-mode no-grad forward pass over
    the validation set with ``state``."""
    model = GD.build_model(setup, tensors)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        pred = model(tensors["Xv"])
        if mse:
            return float(((pred.reshape(tensors["yv"].shape) - tensors["yv"]) ** 2).mean())
        return float(GD.fit_loss(pred, tensors["yv"]))


class RunLog:
    """One recorded ``fit`` run (the student's from the worker, or the reference's from here)."""

    def __init__(self, log: ops.FitLog) -> None:
        self.events = log.events
        self.result = log.result
        self.tensors = log.tensors

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["e"] == kind]

    def epochs(self) -> list[dict]:
        """One entry per validation pass (a run of consecutive validation loss calls): its first
        validation call and the training-batch losses (those backward went through) before it."""
        out, train, prev_val = [], [], False
        for ev in self.events:
            if ev["e"] != "loss":
                continue
            if ev["val"]:
                if not prev_val:
                    out.append({"train": train, "val": ev})
                    train = []
                prev_val = True
            else:
                prev_val = False
                if ev["bw"]:
                    train.append(ev)
        return out

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1 :]: v for k, v in self.tensors.items() if k.startswith(prefix + "/")}

    def values(self, key: str) -> list[float | None] | None:
        entry = self.result.get(key) if self.result.get("type") == "dict" else None
        return entry.get("values") if entry else None

    def best_epoch(self) -> float | None:
        return self.result.get("best_epoch", {}).get("value") if self.result.get("type") == "dict" else None


def reference_run(case: dict) -> RunLog:
    """reference.fit with the very same trusted pieces (its module-level minibatches is the stand-in)."""
    harness = GD.FitHarness(request(case), StandInMinibatches)
    with substituted(vars(reference.training), "minibatches", harness.minibatches):
        result = harness.run(reference.fit)
    return RunLog(harness.report(result))


@cache
def reference_cached(key: str) -> RunLog:
    return reference_run(CASES[key])


STATE = "{k: v.tolist() for k, v in model.state_dict().items()}"  # a model's state, printable


def state_literal(state: dict[str, torch.Tensor]) -> str:
    """The expected model state as the literal ``STATE`` prints for the student's model."""
    return "{" + ", ".join(f"{k!r}: {v.tolist()!r}" for k, v in state.items()) + "}"


# The loss every fit run trains with (``fit_harness.fit_loss``): MSE plus a small term in the prediction
# alone, so a loss_fn called with its arguments swapped changes the numbers.
_LOSS = f"((pred.reshape(target.shape) - target) ** 2).mean() + {GD.PRED_WEIGHT} * pred.mean()"


def _loss_lines(case: dict) -> list[str]:
    """The snippet's loss function (``fit_loss``) that notes how each validation loss was computed, or
    the case's scripted validation losses."""
    lines: list[str] = []
    if case["script"] is None:
        lines += [
            "validation = []  # how each validation loss was computed: (grad enabled, training mode)",
            "batches = []  # the targets of each training batch, in order",
            "",
            "",
            "def loss_fn(pred, target):",
            "    if target is y_val:",
            "        validation.append((torch.is_grad_enabled(), model.training))",
            "    else:",
            "        batches.append(target.tolist())",
            "    return " + _LOSS,
            "",
            "",
        ]
    else:
        lines += [
            f"scripted = iter({case['script']!r})  # the validation loss after each epoch",
            "batches = []  # the targets of each training batch, in order",
            "",
            "",
            "def loss_fn(pred, target):",
            "    if target is not y_val:",
            "        batches.append(target.tolist())",
            "    loss = " + _LOSS,
            "    return torch.tensor(next(scripted), dtype=loss.dtype) if target is y_val else loss",
            "",
            "",
        ]
    return lines


def expected_batches(case: dict, epochs: int) -> list:
    """The targets of each training batch as DESIGN.md orders them: per epoch, torch.randperm(n) from the
    generator fit was given, split into batch_size chunks."""
    if case["seed"] is None:
        return []
    y, bs = fit_tensors(case)["y"], case["fit_kwargs"]["batch_size"]
    gen = torch.Generator().manual_seed(case["seed"])
    perms = [torch.randperm(len(y), generator=gen) for _ in range(epochs)]
    return [y[chunk].tolist() for perm in perms for chunk in perm.split(bs)]


def snippet(case: dict, got: str = "", expected: str = "") -> str:
    """The run as a reproducer, ending by printing ``got`` (an expression of the run) and ``expected``
    (a literal: torch has no fit of its own)."""
    t = fit_tensors(case)
    kw = case["fit_kwargs"]
    lines = ["import sys", ""] if "minibatches_calls" in got else []
    lines += ["import torch", "from torch import nn", student_import(FIT.module, "fit"), "", ""]
    if case["setup"] == "probe":
        lines += [
            "class Probe(nn.Module):  # x 1.25 in training, identity in eval mode; counts training batches",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.register_buffer('seen', torch.zeros((), dtype=torch.long))",
            "",
            "    def forward(self, x):",
            "        if self.training:",
            "            self.seen += 1",
            "            return 1.25 * x",
            "        return x",
            "",
            "",
            f"model = nn.Sequential(nn.Linear({case['d']}, {case['hidden']}), Probe(), nn.Tanh(), "
            f"nn.Linear({case['hidden']}, 1)).double()",
        ]
    else:
        lines.append(f"model = nn.Sequential(nn.Linear({case['d']}, 1)).double()")
    init = ", ".join(f"{k[5:]!r}: {tensor_literal(v)}" for k, v in t.items() if k.startswith("init/"))
    lines.append(f"model.load_state_dict({{{init}}})")
    if case.get("pre_grad"):
        lines += ["for p in model.parameters():  # gradients left over from earlier work, before fit",
                  f"    p.grad = torch.full_like(p, {GD.PRE_GRAD!r})"]
    for name, label in (("X", "X"), ("y", "y"), ("Xv", "X_val"), ("yv", "y_val")):
        lines.append(f"{label} = {tensor_literal(t[name], max_elements=256)}")
    lines.append(
        f"opt = torch.optim.SGD(model.parameters(), lr={case['lr']!r}, momentum={case['momentum']!r})"
    )
    sched = case["scheduler"]
    if sched and sched["kind"] == "gamma":
        lines.append(f"sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: {sched['gamma']!r} ** k)")
    elif sched:
        lines.append(
            f"sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: (k + 1) ** -{sched['power']!r})"
        )
    lines += _loss_lines(case)
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    extra = (", scheduler=sched" if sched else "") + (
        f", generator=torch.Generator().manual_seed({case['seed']})" if case["seed"] is not None else ""
    )
    if "minibatches_calls" in got:  # only where the check counts them
        lines += ["# count the calls of minibatches where fit looks it up (your module or the notebook)",
                  "home = sys.modules.get(fit.__module__)",
                  "names = vars(home) if home is not None else globals()",
                  "minibatches_calls = []",
                  "if 'minibatches' in names:",
                  "    original = names['minibatches']",
                  "    def counted(*a, **k):",
                  "        minibatches_calls.append(1)",
                  "        return original(*a, **k)",
                  "    names['minibatches'] = counted"]
    lines += [f"out = fit(model, loss_fn, opt, (X, y), (X_val, y_val), {args}{extra})"]
    if got:
        lines.append(show(got, expected))
    return block(*lines)


def scripted_snippet(case: dict, got: str, expected: str) -> str:
    """A scripted run as a short reproducer: any small model and data, the validation losses read from
    the script (what early stopping decides on), printing ``got`` and ``expected``."""
    kw = ", ".join(f"{k}={v!r}" for k, v in case["fit_kwargs"].items())
    n, nv, d = case["n_train"], case["n_val"], case["d"]
    return block(
        "import torch",
        "from torch import nn",
        student_import(FIT.module, "fit"),
        "",
        "torch.manual_seed(0)",
        f"model = nn.Linear({d}, 1).double()  # any model: the validation losses are scripted",
        f"X, y = torch.randn({n}, {d}, dtype=torch.float64), torch.randn({n}, 1, dtype=torch.float64)",
        f"X_val = torch.randn({nv}, {d}, dtype=torch.float64)",
        f"y_val = torch.randn({nv}, 1, dtype=torch.float64)",
        f"scripted = iter({case['script']!r})  # the validation loss after each epoch",
        "",
        "",
        "def loss_fn(pred, target):",
        "    loss = ((pred - target) ** 2).mean()",
        "    return torch.tensor(next(scripted), dtype=loss.dtype) if target is y_val else loss",
        "",
        "",
        f"opt = torch.optim.SGD(model.parameters(), lr={case['lr']!r})",
        f"out = fit(model, loss_fn, opt, (X, y), (X_val, y_val), {kw})",
        show(got, expected),
    )


# --- the cases (fixed: every fit line runs the same code on every submission) ----------------------------

CASES: dict[str, dict] = {
    # Validation losses scripted to keep decreasing: all 3 epochs run and nothing is restored away. The
    # model already holds gradients when fit is called: zero_grad belongs before the first backward too.
    "loop": case_of(script=[3.0, 2.0, 1.0], snap_steps=True, pre_grad=True),
    "interface": case_of(script=[3.0, 2.0], fit_kwargs={"batch_size": 3, "max_epochs": 2, "patience": 2}),
    "bookkeeping": case_of(),
    "best_middle": case_of(
        script=[4.0, 2.0, 3.0, 3.0], fit_kwargs={"batch_size": 3, "max_epochs": 4, "patience": 10}
    ),
    "best_first": case_of(
        script=[2.0, 3.0, 3.0], fit_kwargs={"batch_size": 3, "max_epochs": 3, "patience": 10}
    ),
    # The lecture's mini-batch SGD with eta_t = 0.1 / t^0.3 on a small linear regression.
    "convergence": case_of(
        setup="linear",
        n_train=64,
        n_val=20,
        d=3,
        hidden=0,
        data_seed=3,
        lr=0.1,
        momentum=0.0,
        scheduler={"kind": "power", "power": 0.3},
        fit_kwargs={"batch_size": 8, "max_epochs": 20, "patience": 3},
        seed=2,
    ),
}
