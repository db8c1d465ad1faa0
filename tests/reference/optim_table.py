"""The reference tests' view of the kit's one optimizer table (``autograder/families/optimizer_table.py``).

Each ``OptimizerRow`` extends a grader row (``OptimizerSpec``: identity, contract, hyper-parameter
spaces, error inputs, convention gaps) with what only these tests need: the reference's functional
form and the tolerances at which the reference must equal torch. Adding an optimizer means adding a
row to the grader's table; the tests in ``test_ref_optimizers.py`` are written once and run for every
row.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

from autograder.families.optimizer_table import SPECS, ConventionGap, ErrorInput, OptimizerSpec
from tests.reference.harness import Tol

# torch's own optimizer tests compare with `assertEqual`'s defaults for the dtype (no override for
# these four in `optim_db`). The reference repeats torch's operation order, so in practice it agrees
# to the bit; these bounds are a ceiling, not a calibration.
TORCH_DEFAULT_TOLS = {
    torch.float32: Tol(1.3e-6, 1e-5, "torch's assertEqual default for float32, as in test_optim"),
    torch.float64: Tol(1e-7, 1e-7, "torch's assertEqual default for float64, as in test_optim"),
}


@dataclass(frozen=True)
class OptimizerRow:
    spec: OptimizerSpec
    tolerances: dict[torch.dtype, Tol] = field(default_factory=lambda: dict(TORCH_DEFAULT_TOLS))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ref_cls(self) -> type[torch.optim.Optimizer]:
        return self.spec.reference

    @property
    def torch_cls(self) -> type[torch.optim.Optimizer]:
        return self.spec.torch_cls

    @property
    def functional(self) -> Callable[..., None]:
        """The module-level functional form next to the reference class (``reference.adam.adam``)."""
        module = sys.modules[self.ref_cls.__module__]
        return getattr(module, module.__name__.rsplit(".", 1)[-1])

    @property
    def hparams(self) -> st.SearchStrategy[dict[str, Any]]:
        return self.spec.hparams()

    @property
    def design_signature(self) -> str:
        return self.spec.design_signature

    @property
    def error_inputs(self) -> tuple[ErrorInput, ...]:
        return self.spec.errors

    @property
    def linked_hparams(self) -> tuple[tuple[str, ...], ...]:
        return self.spec.linked

    @property
    def gaps(self) -> tuple[ConventionGap, ...]:
        return self.spec.gaps

    @property
    def frozen_group_keys(self) -> tuple[str, ...]:
        return self.spec.frozen_group_keys

    def __repr__(self) -> str:  # short ids in pytest and hypothesis reports
        return f"OptimizerRow({self.name})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


OPTIMIZERS: tuple[OptimizerRow, ...] = tuple(OptimizerRow(spec) for spec in SPECS.values())
ROW_BY_NAME = {row.name: row for row in OPTIMIZERS}
