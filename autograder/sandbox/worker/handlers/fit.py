"""``fit`` (01_gradient_descent): run the student's training loop with the trusted pieces of
``fit_harness`` and return its event log and snapshots; the grader compares them with ``reference.fit``
run with the very same pieces."""

from __future__ import annotations

from .. import operations as ops
from ..registry import Context
from .common import graded_op
from .fit_harness import FitHarness
from .standins import substituted


@graded_op(ops.FitRun)
def fit_run(ctx: Context, req: ops.FitRun) -> ops.FitLog:
    """Run the student's ``fit`` with the trusted pieces of ``FitHarness``. With ``standin`` (default)
    the module-level ``minibatches`` is the trusted stand-in for the duration of the call, so a bug in
    the student's own minibatches does not cost fit points."""
    fit = ctx.graded("fit")
    harness = FitHarness(req, ctx.standin("minibatches", "StandInMinibatches"))
    namespace = ctx.module.__dict__ if req.standin else None
    with substituted(namespace, "minibatches", harness.minibatches):
        result = harness.run(fit)
    return harness.report(result)
