"""AdaGrad, torch.optim.Adagrad's convention.

Update for one parameter ``p`` at its step ``t`` (1, 2, ...)::

    g   = -grad if maximize else grad
    g   = g + weight_decay * p                       # coupled L2
    clr = lr / (1 + (t - 1) * lr_decay)
    s   = s + g * g                                  # s starts at initial_accumulator_value
    p   = p - clr * g / (sqrt(s) + eps)              # eps outside the square root

The lecture writes ``w -= eta_t / sqrt(G + eps) * grad``: eps *under* the square root, and a
decaying ``eta_t`` from a schedule instead of torch's built-in ``lr_decay``.

Known torch quirk: ``torch.optim.Adagrad`` builds every accumulator from its *constructor's*
``initial_accumulator_value`` and ignores the value of a param group. The reference honours the
per-group value (it is what a param group option means); the two agree whenever the groups do not
override it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from reference._functional import (
    group_by_device_and_dtype,
    increment_steps,
    new_step,
    step_value,
    use_foreach,
)
from reference._optimizer import ReferenceOptimizer

__all__ = ["Adagrad", "adagrad"]


class Adagrad(ReferenceOptimizer):
    """AdaGrad with lr decay, coupled weight decay and maximize.

    Same parameters, defaults, errors and per-parameter state (``step``: a CPU scalar tensor,
    ``sum``: the accumulator) as ``torch.optim.Adagrad``; like torch, the state is created eagerly in
    the constructor. ``foreach`` is an extra keyword-only flag (``None``: foreach on CUDA only).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)
        # Eager state, as torch: state_dict() lists every parameter before the first step.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        state = self.state[p]
        if not state:
            state["step"] = new_step()
            state["sum"] = torch.full_like(
                p, group["initial_accumulator_value"], memory_format=torch.preserve_format
            )
        return state

    def _init_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        sums: list[Tensor],
        steps: list[Tensor],
    ) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            # Lazily too, for parameters added later with add_param_group (torch uses its defaults there).
            state = self._init_state(p, group)
            params.append(p)
            grads.append(p.grad)
            sums.append(state["sum"])
            steps.append(state["step"])

    def _update_group(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        sums: list[Tensor] = []
        steps: list[Tensor] = []
        self._init_group(group, params, grads, sums, steps)
        adagrad(
            params,
            grads,
            sums,
            steps,
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            foreach=group["foreach"],
        )


def adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    foreach: bool | None = None,
) -> None:
    """Functional AdaGrad: update ``params``, ``state_sums`` and ``state_steps`` in place."""
    impl = _multi_tensor_adagrad if use_foreach(foreach, params) else _single_tensor_adagrad
    impl(
        params,
        grads,
        state_sums,
        state_steps,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        eps=eps,
        maximize=maximize,
    )


def _single_tensor_adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps, strict=True):
        step_t += 1
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(param, alpha=weight_decay)
        clr = lr / (1 + (step_value(step_t) - 1) * lr_decay)
        state_sum.addcmul_(g, g, value=1)
        std = state_sum.sqrt().add_(eps)
        param.addcdiv_(g, std, value=-clr)


def _multi_tensor_adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    if not params:
        return
    groups = group_by_device_and_dtype([params, grads, state_sums, state_steps])
    for (dev_params, dev_grads, dev_sums, dev_steps), _ in groups:
        increment_steps(dev_steps)
        if maximize:
            dev_grads = torch._foreach_neg(dev_grads)
        if weight_decay != 0:
            if maximize:
                torch._foreach_add_(dev_grads, dev_params, alpha=weight_decay)
            else:
                dev_grads = torch._foreach_add(dev_grads, dev_params, alpha=weight_decay)
        minus_clr = [-lr / (1 + (step_value(s) - 1) * lr_decay) for s in dev_steps]
        torch._foreach_addcmul_(dev_sums, dev_grads, dev_grads, value=1)
        std = torch._foreach_sqrt(dev_sums)
        torch._foreach_add_(std, eps)
        # A per-tensor scalar list keeps the loop's rounding: p + (-clr) * g / std in one kernel.
        torch._foreach_addcdiv_(dev_params, dev_grads, std, minus_clr)
