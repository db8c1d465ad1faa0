"""The BatchNorm modules of 03_regularization as data, one ``BatchNormSpec`` row each (the ranks torch
accepts, torch's class, the reference class, the shapes to try), and the convergence problem.
``batchnorm_modules`` writes each check once for every row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st
from torch import nn

import reference

from . import layer_training as L
from . import strategies as S
from .interface import REQUIRED, InterfaceSpec

SIGNATURE = (
    ("num_features", REQUIRED),
    ("eps", 1e-5),
    ("momentum", 0.1),
    ("affine", True),
    ("track_running_stats", True),
)


@dataclass(frozen=True)
class BatchNormSpec:
    name: str
    reference: type
    torch_module: type
    shapes: Callable[[], st.SearchStrategy[tuple]]  # training inputs (at least 2 values per channel)
    ranks: str  # what torch accepts, for feedback
    wrong_ranks: tuple[tuple[int, ...], ...]  # inputs (C = 3) of a rank torch refuses
    single: tuple[tuple[int, ...], ...]  # inputs (C = 3) with one value per channel
    explicit_shapes: tuple[tuple[int, ...], ...]

    @property
    def interface(self) -> InterfaceSpec:
        sig = "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True"
        return InterfaceSpec(
            self.name, "class", f"`class {self.name}(torch.nn.Module)` with `__init__(self, {sig})`",
            base="torch.nn.modules.module.Module", base_label="torch.nn.Module", params=SIGNATURE,
            ordered=True,
        )


MODULES: dict[str, BatchNormSpec] = {
    s.name: s
    for s in (
        BatchNormSpec(
            "BatchNorm1d",
            reference.BatchNorm1d,
            nn.BatchNorm1d,
            S.bn_shapes_1d,
            "2-D (N, C) or 3-D (N, C, L)",
            wrong_ranks=((2, 3, 1, 2), (3,)),
            single=((1, 3), (1, 3, 1)),
            # one feature first (a batch of 5 values per channel): the last shape is the main one
            explicit_shapes=((5, 1), (4, 3), (2, 2, 3)),
        ),
        BatchNormSpec(
            "BatchNorm2d",
            reference.BatchNorm2d,
            nn.BatchNorm2d,
            S.bn_shapes_2d,
            "4-D (N, C, H, W)",
            wrong_ranks=((2, 3, 2), (2, 3, 1, 1, 2)),
            single=((1, 3, 1, 1),),
            explicit_shapes=((2, 3, 2, 2),),
        ),
    )
}
# The convergence run: a small MLP (Linear -> BatchNorm1d -> ReLU -> Linear) on mini-batches.
CONVERGENCE = L.MlpProblem(
    n=512, n_val=512, d=8, hidden=32, steps=150, lr=0.1, momentum=0.9, seed=9, batch=32
)
