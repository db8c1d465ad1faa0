"""Request handlers: each module runs one graded family's student code on inputs the grader sent and
returns raw results (no expected values live here). Importing this package registers every graded op
in ``registry.HANDLERS``; the zygote imports it before forking and calls ``warm_up()`` once.

Besides the handlers: ``common`` (graded-op wrapping, plain tensors back, the guards' hits),
``standins`` (how a stand-in the grader sent takes a graded name's place), ``fit_harness`` (the
recording pieces around a student's ``fit``) and ``problems`` (the lecture's optimization problems).
None of them implements a graded name: the stand-ins come from the grader, per worker.
"""

from __future__ import annotations

import torch

from . import (  # noqa: F401  (each registers its graded ops)
    batchnorm,
    construct,
    device,
    dropout,
    fit,
    minibatches,
    mlp,
    optimizers,
    schedule,
)

REGISTERED = True


def warm_up() -> None:
    """The first optimizer built in a process imports torch._dynamo and friends (~1.5 s, hundreds of
    modules): the zygote calls this before forking, so that is paid once instead of in every worker.
    Before the guards are prepared; touches no RNG and starts no thread."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0)
    p.grad = torch.ones(1)
    opt.step()
    sched.step()
    opt.zero_grad()
