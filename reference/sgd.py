"""Stochastic gradient descent with (Nesterov) momentum, torch.optim.SGD's convention.

Update for one parameter ``p`` with gradient ``grad`` (``t`` counts this parameter's steps)::

    g = -grad if maximize else grad
    g = g + weight_decay * p                      # coupled L2
    b = g                     if t == 1           # first step: a copy, no dampening
    b = momentum * b + (1 - dampening) * g        otherwise
    g = g + momentum * b      if nesterov else b
    p = p - lr * g

The lecture writes momentum as ``h_t = alpha * h_{t-1} + eta_t * grad`` and ``w_t = w_{t-1} - h_t``:
its velocity ``h`` already contains the learning rate. torch (and this reference) keep the lr out of
the buffer (``h = lr * b``), which gives the same iterates for a constant lr but not once a scheduler
changes the lr: torch applies the new lr to the whole accumulated buffer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from reference._functional import group_by_device_and_dtype, use_foreach
from reference._optimizer import ReferenceOptimizer

__all__ = ["SGD", "sgd"]


class SGD(ReferenceOptimizer):
    """SGD with optional momentum, dampening, Nesterov momentum, coupled weight decay and maximize.

    Same parameters, defaults, errors and per-parameter state (``momentum_buffer``, only when
    ``momentum != 0``) as ``torch.optim.SGD``. ``foreach`` (extra, keyword-only) picks the
    multi-tensor path; ``None`` means "on CUDA only", as in torch.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)

    def _init_group(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], bufs: list[Tensor | None]
    ) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            params.append(p)
            grads.append(p.grad)
            if group["momentum"] != 0:
                # Buffers are created by the update itself (a copy of the first gradient).
                bufs.append(self.state[p].get("momentum_buffer"))

    def _update_group(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        bufs: list[Tensor | None] = []
        self._init_group(group, params, grads, bufs)
        sgd(
            params,
            grads,
            bufs,
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            weight_decay=group["weight_decay"],
            nesterov=group["nesterov"],
            maximize=group["maximize"],
            foreach=group["foreach"],
        )
        if group["momentum"] != 0:
            for p, buf in zip(params, bufs, strict=True):
                self.state[p]["momentum_buffer"] = buf


def sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    foreach: bool | None = None,
) -> None:
    """Functional SGD: update ``params`` in place.

    ``momentum_buffers`` is parallel to ``params`` (ignored when ``momentum == 0``); a ``None``
    entry is replaced by the newly created buffer, so the caller can store it in its state.
    """
    impl = _multi_tensor_sgd if use_foreach(foreach, params) else _single_tensor_sgd
    impl(
        params,
        grads,
        momentum_buffers,
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        weight_decay=weight_decay,
        nesterov=nesterov,
        maximize=maximize,
    )


def _single_tensor_sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    # The specification: one tensor at a time, exactly the formula of the module docstring.
    for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(param, alpha=weight_decay)
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = torch.clone(g).detach()
                momentum_buffers[i] = buf
            else:
                buf.mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(buf, alpha=momentum) if nesterov else buf
        param.add_(g, alpha=-lr)


def _multi_tensor_sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    # Same arithmetic as the loop, one `_foreach_*` call per operation and (device, dtype) group.
    if not params:
        return
    bufs_in = momentum_buffers if momentum != 0 else [None] * len(params)
    for (dev_params, dev_grads, dev_bufs), indices in group_by_device_and_dtype([params, grads, bufs_in]):
        if maximize:
            dev_grads = torch._foreach_neg(dev_grads)
        if weight_decay != 0:
            if maximize:  # the negated copy is ours already: update it in place
                torch._foreach_add_(dev_grads, dev_params, alpha=weight_decay)
            else:
                dev_grads = torch._foreach_add(dev_grads, dev_params, alpha=weight_decay)
        owns_grads = maximize or weight_decay != 0  # dev_grads are temporaries, not `.grad`
        if momentum != 0:
            old = [k for k, buf in enumerate(dev_bufs) if buf is not None]
            if old:
                old_bufs = [dev_bufs[k] for k in old]
                torch._foreach_mul_(old_bufs, momentum)
                torch._foreach_add_(old_bufs, [dev_grads[k] for k in old], alpha=1 - dampening)
            for k, buf in enumerate(dev_bufs):
                if buf is None:  # first step of this parameter: the buffer is a copy of g
                    dev_bufs[k] = momentum_buffers[indices[k]] = torch.clone(dev_grads[k]).detach()
            if nesterov:
                if owns_grads:
                    torch._foreach_add_(dev_grads, dev_bufs, alpha=momentum)
                else:  # never write into the caller's `.grad` tensors
                    dev_grads = torch._foreach_add(dev_grads, dev_bufs, alpha=momentum)
            else:
                dev_grads = dev_bufs
        torch._foreach_add_(dev_params, dev_grads, alpha=-lr)
