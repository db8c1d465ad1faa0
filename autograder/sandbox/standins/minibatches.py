"""Stand-in for ``minibatches`` while ``fit`` is graded (DESIGN's contract: ``torch.randperm(n,
generator=generator)`` when shuffling, ``torch.arange(n)`` otherwise, cut into batches), recording each
call in the fit harness's event log, so a bug in the student's own ``minibatches`` costs fit no points."""

from __future__ import annotations

from typing import Any

import torch


def _as_int(x: Any) -> int | None:
    try:
        return int(x)
    except Exception:  # noqa: BLE001 - whatever the student passed
        return None


class StandInMinibatches:
    """DESIGN's ``minibatches`` contract, recording each call (``generator``: the one fit was given)."""

    def __init__(self, recorder: Any, generator: torch.Generator | None) -> None:
        self.recorder = recorder
        self.generator = generator

    def __call__(self, n, batch_size, *, shuffle=True, generator=None):  # noqa: ANN001 - the contract
        self.recorder.log(
            {
                "e": "mb",
                "n": _as_int(n),
                "batch_size": _as_int(batch_size),
                "shuffle": bool(shuffle),
                "gen": generator is self.generator,
            }
        )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        return iter(order.split(batch_size))
