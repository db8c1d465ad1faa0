"""RMSprop, torch.optim.RMSprop's convention.

Update for one parameter ``p``::

    g   = -grad if maximize else grad
    g   = g + weight_decay * p                       # coupled L2
    v   = alpha * v + (1 - alpha) * g * g            # v starts at 0
    ga  = alpha * ga + (1 - alpha) * g               # centered only, ga starts at 0
    avg = sqrt(v - ga * ga) + eps   if centered else sqrt(v) + eps
    b   = momentum * b + g / avg;  p = p - lr * b    # with momentum (b starts at 0, unlike SGD)
    p   = p - lr * g / avg                           # without momentum

The lecture writes ``w -= eta_t / sqrt(G + eps) * g``: eps under the square root, no centering and
no momentum. There is no bias correction; ``step`` is counted only to mirror torch's state.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from reference._functional import group_by_device_and_dtype, increment_steps, new_step, use_foreach
from reference._optimizer import ReferenceOptimizer

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(ReferenceOptimizer):
    """RMSprop with optional centering, momentum, coupled weight decay and maximize.

    Same parameters, defaults, errors and per-parameter state (``step``, ``square_avg``, plus
    ``momentum_buffer`` when momentum > 0 and ``grad_avg`` when centered, created lazily on the first
    step) as ``torch.optim.RMSprop``. ``foreach`` is an extra keyword-only flag.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        # torch checks only the signs here (an alpha above 1 is accepted): same checks, same messages.
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)

    def _init_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        square_avgs: list[Tensor],
        grad_avgs: list[Tensor],
        momentum_buffers: list[Tensor],
        steps: list[Tensor],
    ) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = new_step()
                state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if group["centered"]:
                    state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            square_avgs.append(state["square_avg"])
            steps.append(state["step"])
            if group["momentum"] > 0:
                momentum_buffers.append(state["momentum_buffer"])
            if group["centered"]:
                grad_avgs.append(state["grad_avg"])

    def _update_group(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        square_avgs: list[Tensor] = []
        grad_avgs: list[Tensor] = []
        momentum_buffers: list[Tensor] = []
        steps: list[Tensor] = []
        self._init_group(group, params, grads, square_avgs, grad_avgs, momentum_buffers, steps)
        rmsprop(
            params,
            grads,
            square_avgs,
            grad_avgs,
            momentum_buffers,
            steps,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
            maximize=group["maximize"],
            foreach=group["foreach"],
        )


def rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffers: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
    foreach: bool | None = None,
) -> None:
    """Functional RMSprop: update ``params`` and the state lists in place.

    ``grad_avgs`` is used only when ``centered`` and ``momentum_buffers`` only when ``momentum > 0``
    (pass empty lists otherwise).
    """
    impl = _multi_tensor_rmsprop if use_foreach(foreach, params) else _single_tensor_rmsprop
    impl(
        params,
        grads,
        square_avgs,
        grad_avgs,
        momentum_buffers,
        state_steps,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        momentum=momentum,
        centered=centered,
        maximize=maximize,
    )


def _single_tensor_rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffers: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    for i, (param, grad, square_avg, step_t) in enumerate(
        zip(params, grads, square_avgs, state_steps, strict=True)
    ):
        step_t += 1
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(param, alpha=weight_decay)
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if centered:
            grad_avg = grad_avgs[i]
            grad_avg.lerp_(g, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg.add_(eps)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf.mul_(momentum).addcdiv_(g, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(g, avg, value=-lr)


def _multi_tensor_rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffers: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    if not params:
        return
    # Optional state lists are padded so every list stays parallel to params for the grouping.
    padding = [None] * len(params)
    grad_avgs_in = grad_avgs if centered else padding
    bufs_in = momentum_buffers if momentum > 0 else padding
    groups = group_by_device_and_dtype([params, grads, square_avgs, grad_avgs_in, bufs_in, state_steps])
    for (dev_params, dev_grads, dev_sq, dev_gavg, dev_bufs, dev_steps), _ in groups:
        increment_steps(dev_steps)
        if maximize:
            dev_grads = torch._foreach_neg(dev_grads)
        if weight_decay != 0:
            if maximize:
                torch._foreach_add_(dev_grads, dev_params, alpha=weight_decay)
            else:
                dev_grads = torch._foreach_add(dev_grads, dev_params, alpha=weight_decay)
        torch._foreach_mul_(dev_sq, alpha)
        torch._foreach_addcmul_(dev_sq, dev_grads, dev_grads, value=1 - alpha)
        if centered:
            torch._foreach_lerp_(dev_gavg, dev_grads, 1 - alpha)
            avg = torch._foreach_addcmul(dev_sq, dev_gavg, dev_gavg, value=-1)
            torch._foreach_sqrt_(avg)
        else:
            avg = torch._foreach_sqrt(dev_sq)
        torch._foreach_add_(avg, eps)
        if momentum > 0:
            torch._foreach_mul_(dev_bufs, momentum)
            torch._foreach_addcdiv_(dev_bufs, dev_grads, avg)
            torch._foreach_add_(dev_params, dev_bufs, alpha=-lr)
        else:
            torch._foreach_addcdiv_(dev_params, dev_grads, avg, value=-lr)
