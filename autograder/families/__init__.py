"""Graded families as data: one module per family of graded names (mirroring ``reference/``), each
driven by a spec row, and the registry of check kinds they fill (importing this package registers
every kind). Shared pieces: ``base`` (registry, context, outcomes), ``hypo`` (hypothesis in the
grader), ``compare`` (tolerances, feedback literals), ``strategies`` (every strategy of the kit),
``interface`` (the one interface checker)."""

from . import (  # noqa: F401  (each registers its check kinds)
    batchnorm,
    batchnorm_convergence,
    batchnorm_modules,
    device,
    dropout,
    fit,
    minibatches,
    optimizer_convergence,
    optimizers,
    schedule,
)
from .base import REGISTRY

__all__ = ["REGISTRY"]
