"""One row per optimizer: everything the generic optimizer tests need to know (torch's OptimizerInfo idea).

Adding an optimizer to the reference means adding a row here; the tests in
``test_ref_optimizers.py`` are written once and run for every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

import reference
import reference.adagrad
import reference.adam
import reference.rmsprop
import reference.sgd
from tests.reference.harness import Tol
from tests.strategies import adagrad_hparams, adam_hparams, rmsprop_hparams, sgd_hparams

# torch's own optimizer tests compare with `assertEqual`'s defaults for the dtype (no override for
# these four in `optim_db`). The reference repeats torch's operation order, so in practice it agrees
# to the bit; these bounds are a ceiling, not a calibration.
TORCH_DEFAULT_TOLS = {
    torch.float32: Tol(1.3e-6, 1e-5, "torch's assertEqual default for float32, as in test_optim"),
    torch.float64: Tol(1e-7, 1e-7, "torch's assertEqual default for float64, as in test_optim"),
}


@dataclass(frozen=True)
class ErrorInput:
    """Constructor keywords that must raise ``error`` with a message matching ``regex``."""

    kwargs: dict[str, Any]
    error: type[Exception]
    regex: str
    desc: str


@dataclass(frozen=True)
class ConventionGap:
    """A documented difference from torch: which per-group keys the comparison must leave alone."""

    frozen_group_keys: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class OptimizerRow:
    name: str
    ref_cls: type[torch.optim.Optimizer]
    torch_cls: type[torch.optim.Optimizer]
    functional: Callable[..., None]
    hparams: st.SearchStrategy[dict[str, Any]]
    design_signature: str  # DESIGN.md's parameters, defaults as Python writes them
    error_inputs: tuple[ErrorInput, ...]
    tolerances: dict[torch.dtype, Tol] = field(default_factory=lambda: dict(TORCH_DEFAULT_TOLS))
    linked_hparams: tuple[tuple[str, ...], ...] = ()  # overridden together in a param group
    gaps: tuple[ConventionGap, ...] = ()

    @property
    def frozen_group_keys(self) -> tuple[str, ...]:
        return tuple(key for gap in self.gaps for key in gap.frozen_group_keys)

    def __repr__(self) -> str:  # short ids in pytest and hypothesis reports
        return f"OptimizerRow({self.name})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _negative(name: str, message: str, value: float = -0.5) -> ErrorInput:
    return ErrorInput({name: value}, ValueError, message.format(value), f"negative {name}")


OPTIMIZERS: tuple[OptimizerRow, ...] = (
    OptimizerRow(
        name="SGD",
        ref_cls=reference.SGD,
        torch_cls=torch.optim.SGD,
        functional=reference.sgd.sgd,
        hparams=sgd_hparams(),
        design_signature=(
            "params, lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, "
            "*, maximize=False"
        ),
        error_inputs=(
            _negative("lr", r"Invalid learning rate: {}"),
            _negative("momentum", r"Invalid momentum value: {}"),
            _negative("weight_decay", r"Invalid weight_decay value: {}"),
            ErrorInput(
                {"nesterov": True},
                ValueError,
                "Nesterov momentum requires a momentum and zero dampening",
                "nesterov without momentum",
            ),
            ErrorInput(
                {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
                ValueError,
                "Nesterov momentum requires a momentum and zero dampening",
                "nesterov with dampening",
            ),
        ),
        linked_hparams=(("momentum", "dampening", "nesterov"),),
    ),
    OptimizerRow(
        name="Adagrad",
        ref_cls=reference.Adagrad,
        torch_cls=torch.optim.Adagrad,
        functional=reference.adagrad.adagrad,
        hparams=adagrad_hparams(),
        design_signature=(
            "params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, "
            "*, maximize=False"
        ),
        error_inputs=(
            _negative("lr", r"Invalid learning rate: {}"),
            _negative("lr_decay", r"Invalid lr_decay value: {}"),
            _negative("weight_decay", r"Invalid weight_decay value: {}"),
            _negative("initial_accumulator_value", r"Invalid initial_accumulator_value value: {}"),
            _negative("eps", r"Invalid epsilon value: {}"),
        ),
        gaps=(
            ConventionGap(
                ("initial_accumulator_value",),
                "torch.optim.Adagrad reads initial_accumulator_value from its constructor only; the "
                "reference honours per-group values (tested against one torch optimizer per group).",
            ),
        ),
    ),
    OptimizerRow(
        name="RMSprop",
        ref_cls=reference.RMSprop,
        torch_cls=torch.optim.RMSprop,
        functional=reference.rmsprop.rmsprop,
        hparams=rmsprop_hparams(),
        design_signature=(
            "params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0.0, momentum=0.0, centered=False, "
            "*, maximize=False"
        ),
        error_inputs=(
            _negative("lr", r"Invalid learning rate: {}"),
            _negative("eps", r"Invalid epsilon value: {}"),
            _negative("momentum", r"Invalid momentum value: {}"),
            _negative("weight_decay", r"Invalid weight_decay value: {}"),
            _negative("alpha", r"Invalid alpha value: {}"),
        ),
    ),
    OptimizerRow(
        name="Adam",
        ref_cls=reference.Adam,
        torch_cls=torch.optim.Adam,
        functional=reference.adam.adam,
        hparams=adam_hparams(),
        design_signature=(
            "params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, "
            "*, maximize=False"
        ),
        error_inputs=(
            _negative("lr", r"Invalid learning rate: {}"),
            _negative("eps", r"Invalid epsilon value: {}"),
            ErrorInput(
                {"betas": (1.0, 0.999)}, ValueError, r"Invalid beta parameter at index 0: 1.0", "beta1 = 1"
            ),
            ErrorInput(
                {"betas": (-0.1, 0.999)},
                ValueError,
                r"Invalid beta parameter at index 0: -0.1",
                "negative beta1",
            ),
            ErrorInput(
                {"betas": (0.9, 1.0)}, ValueError, r"Invalid beta parameter at index 1: 1.0", "beta2 = 1"
            ),
            _negative("weight_decay", r"Invalid weight_decay value: {}"),
        ),
    ),
)

ROW_BY_NAME = {row.name: row for row in OPTIMIZERS}
