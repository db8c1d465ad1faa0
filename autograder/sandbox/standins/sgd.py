"""The SGD step of the layers' convergence runs (03_regularization): torch.optim.SGD's update with
momentum (the buffer is the gradient on the first step, no dampening), written out. Trusted code, used by
the worker's training runs and by the grader's twins; sent only to workers that grade a layer, never to
one that grades an optimizer."""

from __future__ import annotations

import torch


def sgd_step(params: list, buffers: list, lr: float, momentum: float) -> None:
    """One step on ``params`` (``buffers``: their momentum buffers, ``None`` before the first)."""
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            g = p.grad
            if momentum:
                if buffers[i] is None:
                    buffers[i] = g.detach().clone()
                else:
                    buffers[i].mul_(momentum).add_(g)
                g = buffers[i]
            p.add_(g, alpha=-lr)
