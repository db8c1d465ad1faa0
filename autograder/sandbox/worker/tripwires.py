"""Runtime tripwires: torch's own implementations of the graded components, wrapped so that a call
made while the student's graded code runs is recorded. The static scan is the main defence; this
catches what it cannot see (e.g. a name built at run time). Installed once in the zygote.
"""

from __future__ import annotations

import contextlib
import functools
import sys

import torch
import torch.nn.functional as F
import torch.optim.adagrad
import torch.optim.adam
import torch.optim.rmsprop
import torch.optim.sgd

_hits: list[str] = []
_armed = [False]


def _wrap(owner, attr: str, label: str) -> None:
    original = getattr(owner, attr, None)
    if original is None:
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if _armed[0]:
            _hits.append(label)
        return original(*args, **kwargs)

    setattr(owner, attr, wrapper)


def install() -> None:
    """Wrap the forbidden entry points (idempotent enough: called once per zygote)."""
    for name in ("SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"):
        cls = getattr(torch.optim, name, None)
        if cls is not None:
            _wrap(cls, "__init__", f"torch.optim.{name}")
    for fn in ("sgd", "adam", "adagrad", "rmsprop"):  # the functional forms, e.g. torch.optim.adam.adam
        _wrap(sys.modules[f"torch.optim.{fn}"], fn, f"torch.optim.{fn}.{fn}")
    for name in (
        "LambdaLR",
        "MultiplicativeLR",
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "PolynomialLR",
        "CosineAnnealingLR",
        "LinearLR",
        "ConstantLR",
    ):
        cls = getattr(torch.optim.lr_scheduler, name, None)
        if cls is not None:
            _wrap(cls, "__init__", f"torch.optim.lr_scheduler.{name}")
    _wrap(F, "batch_norm", "torch.nn.functional.batch_norm")
    _wrap(F, "dropout", "torch.nn.functional.dropout")
    _wrap(torch, "batch_norm", "torch.batch_norm")
    _wrap(torch, "dropout", "torch.dropout")
    for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Dropout", "Dropout1d", "Dropout2d"):
        _wrap(getattr(torch.nn, name), "__init__", f"torch.nn.{name}")


@contextlib.contextmanager
def armed():
    """Record forbidden calls made inside the block; yields the list of hits."""
    _hits.clear()
    _armed[0] = True
    try:
        yield _hits
    finally:
        _armed[0] = False


@contextlib.contextmanager
def disarmed():
    """Trusted stand-ins (e.g. torch's own modules in a convergence check) run here unrecorded."""
    was = _armed[0]
    _armed[0] = False
    try:
        yield
    finally:
        _armed[0] = was
