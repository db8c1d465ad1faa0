"""The optimizer table: one ``OptimizerSpec`` row per graded optimizer (torch's ``OptimizerInfo`` idea),
the one model of each optimizer that the grader's checks (``optimizers.py``) and the reference tests
(``tests/reference/optim_table.py``, which extends each row with torch's own tolerances) share.

A row holds the optimizer's identity (reference class, torch's class), its contract (parameters and
defaults, which ones are keyword-only), its hyper-parameter spaces (``strategies``: the grader's short
lists and the tests' full ranges), the invalid inputs (``ErrorInput``: keywords, the exception, torch's
message), documented convention gaps, the hand-picked cases every grade tries, and the lecture's
convergence problem. Adding an optimizer means adding a row (and its rubric lines).

Tolerances: a student's trajectory is compared with the reference at ``compare.TOLERANCES``
(calibrated on several correct submissions, the same for every row); the reference is compared with
torch at torch's own test tolerances (the tests' extension of the row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st

import reference

from . import strategies as S
from .interface import InterfaceSpec


@dataclass(frozen=True)
class ErrorInput:
    """Constructor keywords that must raise ``error`` (torch's message matches ``regex``)."""

    kwargs: dict[str, Any]
    error: type[Exception]
    regex: str
    desc: str


def negative(name: str, message: str, value: float) -> ErrorInput:
    """A negative hyper-parameter, refused with torch's ``message`` (``{}`` is the value)."""
    return ErrorInput({name: value}, ValueError, message.format(value), f"negative {name}")


@dataclass(frozen=True)
class ConventionGap:
    """A documented difference from torch: per-group keys a comparison with torch must leave alone,
    and that the grader never varies per group (constructor-only, as optax fixes them at init)."""

    frozen_group_keys: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Convergence:
    """One of the lecture's problems; ``runs`` are (label, kwargs); the student's final loss must be
    within ``factor`` of the reference's (plus ``slack``) for every run."""

    problem: str
    data: Callable[[], dict[str, torch.Tensor]]
    runs: tuple[tuple[str, dict], ...]
    steps: int
    factor: float = 10.0
    slack: float = 1e-6
    story: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    reference: type
    torch_cls: type
    signature: tuple[tuple[str, object], ...]  # (name, default) after ``params``, in torch's order
    kwargs: Callable[[], st.SearchStrategy[dict]]  # the grader's hyper-parameter space
    hparams: Callable[[], st.SearchStrategy[dict]]  # the whole valid range (reference tests)
    errors: tuple[ErrorInput, ...]
    convergence: Convergence
    # Boundary values torch accepts (each constructs without error): a check written `<=` for `<`
    # refuses them. Checked against torch itself by tests/reference.
    accepted: tuple[dict, ...] = ()
    explicit: tuple[dict, ...] = ()  # hand-picked cases every grade tries (one per hyper-parameter)
    # The device line's configurations besides the defaults: those that create more state.
    device_configs: tuple[dict, ...] = ()
    keyword_only: tuple[str, ...] = ("maximize",)
    linked: tuple[tuple[str, ...], ...] = ()  # hyper-parameters a param group overrides together
    gaps: tuple[ConventionGap, ...] = ()

    @property
    def design_signature(self) -> str:
        """DESIGN.md's parameters as Python writes them: ``params, lr=0.001, ..., *, maximize=False``."""
        plain = [f"{n}={d!r}" for n, d in self.signature if n not in self.keyword_only]
        star = [f"{n}={d!r}" for n, d in self.signature if n in self.keyword_only]
        return ", ".join(["params", *plain, *(["*", *star] if star else [])])

    @property
    def interface(self) -> InterfaceSpec:
        expected = ", ".join(["params"] + [f"{n}={d!r}" for n, d in self.signature])
        return InterfaceSpec(
            self.name, "class", f"`{self.name}({expected})` as in torch.optim",
            base="torch.optim.optimizer.Optimizer", base_label="torch.optim.Optimizer",
            positional=("params",), params=self.signature,
        )

    @property
    def frozen_group_keys(self) -> tuple[str, ...]:
        return tuple(key for gap in self.gaps for key in gap.frozen_group_keys)

    def spelled_out(self, kwargs: dict) -> dict:
        """Every hyper-parameter spelled out, as DESIGN.md promises students: a wrong default (even a
        required ``lr``) then costs the interface line only."""
        return {**dict(self.signature), **kwargs}


# --- the lecture's problems (data built here, in the trusted process) -------------------------------


def zigzag() -> dict[str, torch.Tensor]:
    # Curvatures 1 and 50: plain gradient descent zig-zags across the narrow valley.
    return {
        "h": torch.tensor([1.0, 50.0], dtype=torch.float64),
        "c": torch.tensor([1.0, -1.0], dtype=torch.float64),
        "init": torch.tensor([-4.0, 1.5], dtype=torch.float64),
    }


def rosenbrock() -> dict[str, torch.Tensor]:
    return {
        "ab": torch.tensor([1.0, 100.0], dtype=torch.float64),
        "init": torch.tensor([-1.5, 2.0], dtype=torch.float64),
    }


def sparse() -> dict[str, torch.Tensor]:
    # Feature 0 is popular (every other sample), feature 1 rare (one sample in ten): the lecture's table.
    n = 40
    X = torch.zeros(n, 2, dtype=torch.float64)
    X[::2, 0] = 1.0
    X[::10, 1] = 1.0
    w_true = torch.tensor([1.0, 2.0], dtype=torch.float64)
    return {"X": X, "y": X @ w_true, "init": torch.zeros(2, dtype=torch.float64)}


# --- the rows -------------------------------------------------------------------------------------------

LR, EPS, WD = r"Invalid learning rate: {}", r"Invalid epsilon value: {}", r"Invalid weight_decay value: {}"
NESTEROV = "Nesterov momentum requires a momentum and zero dampening"

SGD = OptimizerSpec(
    name="SGD",
    reference=reference.SGD,
    torch_cls=torch.optim.SGD,
    signature=(("lr", 1e-3), ("momentum", 0.0), ("dampening", 0.0), ("weight_decay", 0.0),
               ("nesterov", False), ("maximize", False)),
    kwargs=S.sgd_kwargs,
    hparams=S.sgd_hparams,
    errors=(
        negative("lr", LR, -0.1),
        negative("momentum", r"Invalid momentum value: {}", -0.5),
        negative("weight_decay", WD, -1.0),
        ErrorInput({"nesterov": True}, ValueError, NESTEROV, "nesterov without momentum"),
        ErrorInput({"nesterov": True, "momentum": 0.9, "dampening": 0.5}, ValueError, NESTEROV,
                   "nesterov with dampening"),
    ),
    accepted=({"lr": 0.0}, {"momentum": 0, "dampening": 0, "weight_decay": 0}, {"dampening": 1.0},
              {"nesterov": True, "momentum": 1e-3}),
    convergence=Convergence(
        "quadratic", zigzag, (("plain", {"lr": 0.035}), ("momentum", {"lr": 0.035, "momentum": 0.9})),
        steps=150, story="zig-zag valley: SGD with and without momentum",
    ),
    explicit=({"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.5}, {"momentum": 0.9, "nesterov": True},
              {"weight_decay": 0.1}, {"maximize": True},
              {"maximize": True, "weight_decay": 0.1, "momentum": 0.5},
              {"weight_decay": 1.0, "momentum": 0.5}, {"momentum": 1.0},
              {"momentum": 0, "dampening": 0.5, "weight_decay": 0}),
    linked=(("momentum", "dampening", "nesterov"),),
    device_configs=({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
                    {"momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1, "maximize": True}),
)

ADAGRAD = OptimizerSpec(
    name="Adagrad",
    reference=reference.Adagrad,
    torch_cls=torch.optim.Adagrad,
    signature=(("lr", 1e-2), ("lr_decay", 0.0), ("weight_decay", 0.0), ("initial_accumulator_value", 0.0),
               ("eps", 1e-10), ("maximize", False)),
    kwargs=S.adagrad_kwargs,
    hparams=S.adagrad_hparams,
    errors=(
        negative("lr", LR, -0.1),
        negative("lr_decay", r"Invalid lr_decay value: {}", -0.1),
        negative("weight_decay", WD, -1.0),
        negative("initial_accumulator_value", r"Invalid initial_accumulator_value value: {}", -1.0),
        negative("eps", EPS, -1e-3),
    ),
    accepted=({"lr": 0.0}, {"eps": 0.0}, {"lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0}),
    convergence=Convergence(
        "sparse_regression", sparse, (("adagrad", {"lr": 0.5}),), steps=200,
        story="sparse one-hot features: the rare feature still gets learned",
    ),
    explicit=({"lr_decay": 0.1}, {"initial_accumulator_value": 0.1}, {"weight_decay": 0.1}, {"eps": 0.1},
              {"maximize": True}, {"maximize": True, "weight_decay": 0.1}, {"weight_decay": 1.0}),
    gaps=(
        ConventionGap(
            ("initial_accumulator_value",),
            "torch.optim.Adagrad reads initial_accumulator_value from its constructor only (the state "
            "is created there); the reference honours per-group values. DESIGN.md accepts either "
            "reading, so param groups never vary it: torch's own Adagrad keeps full marks.",
        ),
    ),
    device_configs=({"lr_decay": 0.1, "weight_decay": 0.1, "maximize": True},
                    {"initial_accumulator_value": 0.1}),
)

RMSPROP = OptimizerSpec(
    name="RMSprop",
    reference=reference.RMSprop,
    torch_cls=torch.optim.RMSprop,
    signature=(("lr", 1e-2), ("alpha", 0.99), ("eps", 1e-8), ("weight_decay", 0.0), ("momentum", 0.0),
               ("centered", False), ("maximize", False)),
    kwargs=S.rmsprop_kwargs,
    hparams=S.rmsprop_hparams,
    errors=(
        negative("lr", LR, -0.1),
        negative("eps", EPS, -1e-3),
        negative("momentum", r"Invalid momentum value: {}", -0.5),
        negative("weight_decay", WD, -1.0),
        negative("alpha", r"Invalid alpha value: {}", -0.5),
    ),
    accepted=({"lr": 0.0}, {"eps": 0.0}, {"alpha": 0.0}, {"momentum": 0, "weight_decay": 0}),
    convergence=Convergence("rosenbrock", rosenbrock, (("rmsprop", {"lr": 1e-2}),), steps=600,
                            story="Rosenbrock valley"),
    explicit=({"alpha": 0.5}, {"eps": 0.1}, {"momentum": 0.9}, {"centered": True},
              {"centered": True, "momentum": 0.5}, {"weight_decay": 0.1}, {"maximize": True},
              {"weight_decay": 1.0}),
    device_configs=({"momentum": 0.9, "centered": True, "weight_decay": 0.1, "maximize": True},
                    {"centered": True}, {"momentum": 0.5}),
)

BETA = r"Invalid beta parameter at index {}: {}"
ADAM = OptimizerSpec(
    name="Adam",
    reference=reference.Adam,
    torch_cls=torch.optim.Adam,
    signature=(("lr", 1e-3), ("betas", (0.9, 0.999)), ("eps", 1e-8), ("weight_decay", 0.0),
               ("amsgrad", False), ("maximize", False)),
    kwargs=S.adam_kwargs,
    hparams=S.adam_hparams,
    errors=(
        negative("lr", LR, -0.1),
        negative("eps", EPS, -1e-3),
        ErrorInput({"betas": (1.0, 0.999)}, ValueError, BETA.format(0, 1.0), "beta1 = 1"),
        ErrorInput({"betas": (0.9, 1.0)}, ValueError, BETA.format(1, 1.0), "beta2 = 1"),
        ErrorInput({"betas": (-0.1, 0.999)}, ValueError, BETA.format(0, -0.1), "negative beta1"),
        negative("weight_decay", WD, -1.0),
    ),
    accepted=({"lr": 0.0}, {"eps": 0.0}, {"betas": (0.0, 0.0)}, {"weight_decay": 0}),
    convergence=Convergence("rosenbrock", rosenbrock, (("adam", {"lr": 0.1}),), steps=600,
                            story="Rosenbrock valley"),
    explicit=({"betas": (0.5, 0.9)}, {"eps": 0.1}, {"weight_decay": 0.1}, {"amsgrad": True},
              {"maximize": True}, {"amsgrad": True, "betas": (0.95, 0.5)}, {"weight_decay": 1.0}),
    device_configs=({"amsgrad": True, "weight_decay": 0.1, "maximize": True},),
)

SPECS: dict[str, OptimizerSpec] = {s.name: s for s in (SGD, ADAGRAD, RMSPROP, ADAM)}
