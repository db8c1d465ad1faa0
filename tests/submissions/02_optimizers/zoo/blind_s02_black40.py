import math

import torch
from torch.optim import Optimizer


def _check_non_negative(
    **hyperparameters,
):
    for (
        hyperparameter_name,
        hyperparameter_value,
    ) in hyperparameters.items():
        if hyperparameter_value < 0.0:
            raise ValueError(
                f"Invalid {hyperparameter_name} value: {hyperparameter_value}"
            )


def _effective_gradient(
    parameter, group_hyperparameters
):
    gradient = (
        parameter.grad
        if not group_hyperparameters[
            "maximize"
        ]
        else -parameter.grad
    )
    if (
        group_hyperparameters[
            "weight_decay"
        ]
        != 0
    ):
        gradient = (
            gradient
            + group_hyperparameters[
                "weight_decay"
            ]
            * parameter
        )
    return gradient


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
        _check_non_negative(
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
        )
        if nesterov and (
            momentum <= 0
            or dampening != 0
        ):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening"
            )
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
                "maximize": maximize,
            },
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for (
            group_hyperparameters
        ) in self.param_groups:
            for (
                parameter
            ) in group_hyperparameters[
                "params"
            ]:
                if (
                    parameter.grad
                    is None
                ):
                    continue
                gradient = _effective_gradient(
                    parameter,
                    group_hyperparameters,
                )
                momentum = group_hyperparameters[
                    "momentum"
                ]
                if momentum != 0:
                    parameter_state = (
                        self.state[
                            parameter
                        ]
                    )
                    if (
                        "momentum_buffer"
                        not in parameter_state
                    ):
                        parameter_state[
                            "momentum_buffer"
                        ] = (
                            gradient.detach().clone()
                        )
                    else:
                        parameter_state[
                            "momentum_buffer"
                        ].mul_(
                            momentum
                        ).add_(
                            gradient
                            * (
                                1
                                - group_hyperparameters[
                                    "dampening"
                                ]
                            )
                        )
                    momentum_buffer = parameter_state[
                        "momentum_buffer"
                    ]
                    if group_hyperparameters[
                        "nesterov"
                    ]:
                        gradient = (
                            gradient
                            + momentum
                            * momentum_buffer
                        )
                    else:
                        gradient = momentum_buffer
                parameter.sub_(
                    group_hyperparameters[
                        "lr"
                    ]
                    * gradient
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
        _check_non_negative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(
            params,
            {
                "lr": lr,
                "lr_decay": lr_decay,
                "weight_decay": weight_decay,
                "initial_accumulator_value": initial_accumulator_value,
                "eps": eps,
                "maximize": maximize,
            },
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for (
            group_hyperparameters
        ) in self.param_groups:
            for (
                parameter
            ) in group_hyperparameters[
                "params"
            ]:
                if (
                    parameter.grad
                    is None
                ):
                    continue
                parameter_state = (
                    self.state[
                        parameter
                    ]
                )
                if not parameter_state:
                    parameter_state[
                        "step"
                    ] = 0
                    parameter_state[
                        "sum"
                    ] = torch.full_like(
                        parameter,
                        group_hyperparameters[
                            "initial_accumulator_value"
                        ],
                    )
                gradient = _effective_gradient(
                    parameter,
                    group_hyperparameters,
                )
                parameter_state[
                    "step"
                ] += 1
                decayed_learning_rate = group_hyperparameters[
                    "lr"
                ] / (
                    1
                    + (
                        parameter_state[
                            "step"
                        ]
                        - 1
                    )
                    * group_hyperparameters[
                        "lr_decay"
                    ]
                )
                parameter_state[
                    "sum"
                ].add_(
                    gradient * gradient
                )
                parameter.sub_(
                    decayed_learning_rate
                    * gradient
                    / (
                        parameter_state[
                            "sum"
                        ].sqrt()
                        + group_hyperparameters[
                            "eps"
                        ]
                    )
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
        _check_non_negative(
            lr=lr,
            eps=eps,
            momentum=momentum,
            weight_decay=weight_decay,
            alpha=alpha,
        )
        super().__init__(
            params,
            {
                "lr": lr,
                "alpha": alpha,
                "eps": eps,
                "weight_decay": weight_decay,
                "momentum": momentum,
                "centered": centered,
                "maximize": maximize,
            },
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for (
            group_hyperparameters
        ) in self.param_groups:
            alpha = (
                group_hyperparameters[
                    "alpha"
                ]
            )
            for (
                parameter
            ) in group_hyperparameters[
                "params"
            ]:
                if (
                    parameter.grad
                    is None
                ):
                    continue
                parameter_state = (
                    self.state[
                        parameter
                    ]
                )
                if not parameter_state:
                    parameter_state[
                        "step"
                    ] = 0
                    parameter_state[
                        "square_avg"
                    ] = torch.zeros_like(
                        parameter
                    )
                    if (
                        group_hyperparameters[
                            "momentum"
                        ]
                        > 0
                    ):
                        parameter_state[
                            "momentum_buffer"
                        ] = torch.zeros_like(
                            parameter
                        )
                    if group_hyperparameters[
                        "centered"
                    ]:
                        parameter_state[
                            "grad_avg"
                        ] = torch.zeros_like(
                            parameter
                        )
                gradient = _effective_gradient(
                    parameter,
                    group_hyperparameters,
                )
                parameter_state[
                    "step"
                ] += 1
                parameter_state[
                    "square_avg"
                ].mul_(alpha).add_(
                    (1 - alpha)
                    * gradient
                    * gradient
                )
                second_moment = (
                    parameter_state[
                        "square_avg"
                    ]
                )
                if group_hyperparameters[
                    "centered"
                ]:
                    parameter_state[
                        "grad_avg"
                    ].mul_(alpha).add_(
                        (1 - alpha)
                        * gradient
                    )
                    second_moment = (
                        second_moment
                        - parameter_state[
                            "grad_avg"
                        ]
                        * parameter_state[
                            "grad_avg"
                        ]
                    )
                denominator = (
                    second_moment.sqrt()
                    + group_hyperparameters[
                        "eps"
                    ]
                )
                if (
                    group_hyperparameters[
                        "momentum"
                    ]
                    > 0
                ):
                    parameter_state[
                        "momentum_buffer"
                    ].mul_(
                        group_hyperparameters[
                            "momentum"
                        ]
                    ).add_(
                        gradient
                        / denominator
                    )
                    parameter.sub_(
                        group_hyperparameters[
                            "lr"
                        ]
                        * parameter_state[
                            "momentum_buffer"
                        ]
                    )
                else:
                    parameter.sub_(
                        group_hyperparameters[
                            "lr"
                        ]
                        * gradient
                        / denominator
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
        _check_non_negative(
            lr=lr,
            eps=eps,
            weight_decay=weight_decay,
        )
        if not (
            0.0 <= betas[0] < 1.0
            and 0.0 <= betas[1] < 1.0
        ):
            raise ValueError(
                f"Invalid betas: {betas}"
            )
        super().__init__(
            params,
            {
                "lr": lr,
                "betas": betas,
                "eps": eps,
                "weight_decay": weight_decay,
                "amsgrad": amsgrad,
                "maximize": maximize,
            },
        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for (
            group_hyperparameters
        ) in self.param_groups:
            beta1, beta2 = (
                group_hyperparameters[
                    "betas"
                ]
            )
            for (
                parameter
            ) in group_hyperparameters[
                "params"
            ]:
                if (
                    parameter.grad
                    is None
                ):
                    continue
                parameter_state = (
                    self.state[
                        parameter
                    ]
                )
                if not parameter_state:
                    parameter_state[
                        "step"
                    ] = 0
                    parameter_state[
                        "exp_avg"
                    ] = torch.zeros_like(
                        parameter
                    )
                    parameter_state[
                        "exp_avg_sq"
                    ] = torch.zeros_like(
                        parameter
                    )
                    if group_hyperparameters[
                        "amsgrad"
                    ]:
                        parameter_state[
                            "max_exp_avg_sq"
                        ] = torch.zeros_like(
                            parameter
                        )
                gradient = _effective_gradient(
                    parameter,
                    group_hyperparameters,
                )
                parameter_state[
                    "step"
                ] += 1
                step_number = (
                    parameter_state[
                        "step"
                    ]
                )
                parameter_state[
                    "exp_avg"
                ].mul_(beta1).add_(
                    (1 - beta1)
                    * gradient
                )
                parameter_state[
                    "exp_avg_sq"
                ].mul_(beta2).add_(
                    (1 - beta2)
                    * gradient
                    * gradient
                )
                second_moment = (
                    parameter_state[
                        "exp_avg_sq"
                    ]
                )
                if group_hyperparameters[
                    "amsgrad"
                ]:
                    torch.maximum(
                        parameter_state[
                            "max_exp_avg_sq"
                        ],
                        second_moment,
                        out=parameter_state[
                            "max_exp_avg_sq"
                        ],
                    )
                    second_moment = parameter_state[
                        "max_exp_avg_sq"
                    ]
                bias_correction1 = (
                    1
                    - beta1**step_number
                )
                bias_correction2 = (
                    1
                    - beta2**step_number
                )
                denominator = (
                    second_moment.sqrt()
                    / math.sqrt(
                        bias_correction2
                    )
                    + group_hyperparameters[
                        "eps"
                    ]
                )
                parameter.sub_(
                    group_hyperparameters[
                        "lr"
                    ]
                    / bias_correction1
                    * parameter_state[
                        "exp_avg"
                    ]
                    / denominator
                )
        return loss
