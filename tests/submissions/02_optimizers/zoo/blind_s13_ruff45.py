import math

import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        *,
        maximize=False,
    ):
        if (
            lr < 0
            or momentum < 0
            or weight_decay < 0
        ):
            raise ValueError(
                "lr, momentum and weight_decay must be non-negative"
            )
        if nesterov and (
            momentum <= 0 or dampening != 0
        ):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                direction = (
                    parameter.grad
                    * (
                        -1.0
                        if group["maximize"]
                        else 1.0
                    )
                )
                direction = (
                    direction
                    + group["weight_decay"]
                    * parameter
                    if group["weight_decay"]
                    != 0
                    else direction
                )
                if group["momentum"] != 0:
                    state = self.state[
                        parameter
                    ]
                    previous = state.get(
                        "momentum_buffer"
                    )
                    state[
                        "momentum_buffer"
                    ] = (
                        direction.clone()
                        if previous is None
                        else previous.mul_(
                            group["momentum"]
                        ).add_(
                            direction,
                            alpha=1
                            - group[
                                "dampening"
                            ],
                        )
                    )
                    direction = (
                        direction
                        + group["momentum"]
                        * state[
                            "momentum_buffer"
                        ]
                        if group["nesterov"]
                        else state[
                            "momentum_buffer"
                        ]
                    )
                parameter.add_(
                    direction,
                    alpha=-group["lr"],
                )
        return loss


class Adagrad(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        if (
            min(
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
            )
            < 0
        ):
            raise ValueError(
                "lr, lr_decay, weight_decay, initial_accumulator_value and eps must be non-negative"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                if "sum" not in state:
                    state["step"] = 0
                    state["sum"] = (
                        torch.full_like(
                            parameter,
                            group[
                                "initial_accumulator_value"
                            ],
                        )
                    )
                gradient = parameter.grad * (
                    -1.0
                    if group["maximize"]
                    else 1.0
                )
                if (
                    group["weight_decay"]
                    != 0
                ):
                    gradient = (
                        gradient
                        + group[
                            "weight_decay"
                        ]
                        * parameter
                    )
                state["step"] += 1
                state["sum"].addcmul_(
                    gradient, gradient
                )
                learning_rate = group[
                    "lr"
                ] / (
                    1
                    + (state["step"] - 1)
                    * group["lr_decay"]
                )
                parameter.addcdiv_(
                    gradient,
                    state["sum"]
                    .sqrt()
                    .add_(group["eps"]),
                    value=-learning_rate,
                )
        return loss


class RMSprop(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        *,
        maximize=False,
    ):
        if (
            min(
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
            )
            < 0
        ):
            raise ValueError(
                "lr, alpha, eps, weight_decay and momentum must be non-negative"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                if "square_avg" not in state:
                    state["step"] = 0
                    state["square_avg"] = (
                        torch.zeros_like(
                            parameter
                        )
                    )
                    if group["momentum"] > 0:
                        state[
                            "momentum_buffer"
                        ] = torch.zeros_like(
                            parameter
                        )
                    if group["centered"]:
                        state["grad_avg"] = (
                            torch.zeros_like(
                                parameter
                            )
                        )
                gradient = parameter.grad * (
                    -1.0
                    if group["maximize"]
                    else 1.0
                )
                if (
                    group["weight_decay"]
                    != 0
                ):
                    gradient = (
                        gradient
                        + group[
                            "weight_decay"
                        ]
                        * parameter
                    )
                state["step"] += 1
                state["square_avg"].mul_(
                    group["alpha"]
                ).addcmul_(
                    gradient,
                    gradient,
                    value=1 - group["alpha"],
                )
                if group["centered"]:
                    state["grad_avg"].mul_(
                        group["alpha"]
                    ).add_(
                        gradient,
                        alpha=1
                        - group["alpha"],
                    )
                    denominator = (
                        state["square_avg"]
                        - state["grad_avg"]
                        * state["grad_avg"]
                    ).sqrt() + group["eps"]
                else:
                    denominator = (
                        state[
                            "square_avg"
                        ].sqrt()
                        + group["eps"]
                    )
                if group["momentum"] > 0:
                    state[
                        "momentum_buffer"
                    ].mul_(
                        group["momentum"]
                    ).addcdiv_(
                        gradient, denominator
                    )
                    parameter.add_(
                        state[
                            "momentum_buffer"
                        ],
                        alpha=-group["lr"],
                    )
                else:
                    parameter.addcdiv_(
                        gradient,
                        denominator,
                        value=-group["lr"],
                    )
        return loss


class Adam(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        *,
        maximize=False,
    ):
        if min(lr, eps, weight_decay) < 0:
            raise ValueError(
                "lr, eps and weight_decay must be non-negative"
            )
        if not (
            0.0 <= betas[0] < 1.0
        ) or not (0.0 <= betas[1] < 1.0):
            raise ValueError(
                f"betas must be in [0, 1), got {betas}"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                if "exp_avg" not in state:
                    state["step"] = 0
                    state["exp_avg"] = (
                        torch.zeros_like(
                            parameter
                        )
                    )
                    state["exp_avg_sq"] = (
                        torch.zeros_like(
                            parameter
                        )
                    )
                    if group["amsgrad"]:
                        state[
                            "max_exp_avg_sq"
                        ] = torch.zeros_like(
                            parameter
                        )
                gradient = parameter.grad * (
                    -1.0
                    if group["maximize"]
                    else 1.0
                )
                if (
                    group["weight_decay"]
                    != 0
                ):
                    gradient = (
                        gradient
                        + group[
                            "weight_decay"
                        ]
                        * parameter
                    )
                state["step"] += 1
                state["exp_avg"].mul_(
                    beta1
                ).add_(
                    gradient, alpha=1 - beta1
                )
                state["exp_avg_sq"].mul_(
                    beta2
                ).addcmul_(
                    gradient,
                    gradient,
                    value=1 - beta2,
                )
                second_moment = (
                    torch.maximum(
                        state[
                            "max_exp_avg_sq"
                        ],
                        state["exp_avg_sq"],
                        out=state[
                            "max_exp_avg_sq"
                        ],
                    )
                    if group["amsgrad"]
                    else state["exp_avg_sq"]
                )
                step_size = group["lr"] / (
                    1
                    - beta1 ** state["step"]
                )
                denominator = (
                    second_moment.sqrt()
                    / math.sqrt(
                        1
                        - beta2
                        ** state["step"]
                    )
                    + group["eps"]
                )
                parameter.addcdiv_(
                    state["exp_avg"],
                    denominator,
                    value=-step_size,
                )
        return loss
