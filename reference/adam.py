"""Adam (and AMSGrad), torch.optim.Adam's convention.

Update for one parameter ``p`` at its step ``t`` (1, 2, ...)::

    g  = -grad if maximize else grad
    g  = g + weight_decay * p                          # coupled L2 (Adam, not AdamW)
    m  = beta1 * m + (1 - beta1) * g                   # raw moments, both start at 0
    v  = beta2 * v + (1 - beta2) * g * g
    vm = max(vm, v)  if amsgrad (max of the *raw* v), else vm = v
    p  = p - lr / (1 - beta1**t) * m / (sqrt(vm) / sqrt(1 - beta2**t) + eps)

The bias corrections are applied in the update only, and eps is added *outside* the square root of
the bias-corrected second moment. The lecture's formula differs in both respects: it divides by
``1 - beta**t`` inside the recursion (its stored moments are the corrected ones) and puts eps
under the square root (``w -= eta / sqrt(v + eps) * m``), which changes the iterates.
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

__all__ = ["Adam", "adam"]


class Adam(ReferenceOptimizer):
    """Adam with optional AMSGrad, coupled L2 weight decay and maximize.

    Same parameters, defaults, errors and per-parameter state (``step``: a CPU scalar tensor,
    ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``; created lazily) as
    ``torch.optim.Adam``. ``foreach`` is an extra keyword-only flag (``None``: foreach on CUDA only).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)

    def _init_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        exp_avgs: list[Tensor],
        exp_avg_sqs: list[Tensor],
        max_exp_avg_sqs: list[Tensor],
        steps: list[Tensor],
    ) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = new_step()
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if group["amsgrad"]:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
            steps.append(state["step"])

    def _update_group(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        exp_avgs: list[Tensor] = []
        exp_avg_sqs: list[Tensor] = []
        max_exp_avg_sqs: list[Tensor] = []
        steps: list[Tensor] = []
        self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps)
        beta1, beta2 = group["betas"]
        adam(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            max_exp_avg_sqs,
            steps,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            amsgrad=group["amsgrad"],
            maximize=group["maximize"],
            foreach=group["foreach"],
        )


def adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    foreach: bool | None = None,
) -> None:
    """Functional Adam: update ``params`` and the state lists in place.

    ``max_exp_avg_sqs`` is used only with ``amsgrad`` (pass an empty list otherwise).
    """
    impl = _multi_tensor_adam if use_foreach(foreach, params) else _single_tensor_adam
    impl(
        params,
        grads,
        exp_avgs,
        exp_avg_sqs,
        max_exp_avg_sqs,
        state_steps,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
    )


def _single_tensor_adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> None:
    for i, (param, grad, exp_avg, exp_avg_sq, step_t) in enumerate(
        zip(params, grads, exp_avgs, exp_avg_sqs, state_steps, strict=True)
    ):
        step_t += 1
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(param, alpha=weight_decay)
        exp_avg.lerp_(g, 1 - beta1)  # m + (1 - beta1) * (g - m) == beta1 * m + (1 - beta1) * g
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)

        t = step_value(step_t)
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        if amsgrad:
            torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
            second = max_exp_avg_sqs[i]
        else:
            second = exp_avg_sq
        denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


def _multi_tensor_adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> None:
    if not params:
        return
    max_in = max_exp_avg_sqs if amsgrad else [None] * len(params)
    groups = group_by_device_and_dtype([params, grads, exp_avgs, exp_avg_sqs, max_in, state_steps])
    for (dev_params, dev_grads, dev_m, dev_v, dev_vmax, dev_steps), _ in groups:
        increment_steps(dev_steps)
        if maximize:
            dev_grads = torch._foreach_neg(dev_grads)
        if weight_decay != 0:
            if maximize:
                torch._foreach_add_(dev_grads, dev_params, alpha=weight_decay)
            else:
                dev_grads = torch._foreach_add(dev_grads, dev_params, alpha=weight_decay)
        torch._foreach_lerp_(dev_m, dev_grads, 1 - beta1)
        torch._foreach_mul_(dev_v, beta2)
        torch._foreach_addcmul_(dev_v, dev_grads, dev_grads, value=1 - beta2)
        del dev_grads  # free the temporaries before the denominators are allocated

        # Steps can differ between tensors (a parameter may have skipped steps with a None grad).
        ts = [step_value(s) for s in dev_steps]
        minus_step_sizes = [-(lr / (1 - beta1**t)) for t in ts]
        bias_correction2_sqrts = [(1 - beta2**t) ** 0.5 for t in ts]
        if amsgrad:
            torch._foreach_maximum_(dev_vmax, dev_v)
            denom = torch._foreach_sqrt(dev_vmax)
        else:
            denom = torch._foreach_sqrt(dev_v)
        torch._foreach_div_(denom, bias_correction2_sqrts)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(dev_params, dev_m, denom, minus_step_sizes)
