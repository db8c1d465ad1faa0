import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(
                "dropout probability has to be between 0 and 1, but got {}".format(
                    p
                )
            )
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        keep_probability = 1.0 - self.p
        keep_mask = (
            torch.rand_like(x)
            < keep_probability
        )
        scale_factor = (
            1.0 / keep_probability
            if keep_probability > 0
            else 0.0
        )
        return (
            x
            * keep_mask.to(
                dtype=x.dtype
            )
            * scale_factor
        )

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(
    torch.autograd.Function
):
    @staticmethod
    def forward(
        ctx, x, weight, bias, eps
    ):
        reduction_dimensions = tuple(
            dimension
            for dimension in range(
                x.dim()
            )
            if dimension != 1
        )
        broadcast_shape = tuple(
            (
                size
                if dimension == 1
                else 1
            )
            for dimension, size in enumerate(
                x.shape
            )
        )
        batch_mean = x.mean(
            dim=reduction_dimensions,
            keepdim=True,
        )
        centered_input = x - batch_mean
        batch_variance = (
            centered_input
            * centered_input
        ).mean(
            dim=reduction_dimensions,
            keepdim=True,
        )
        inverse_standard_deviation = (
            torch.rsqrt(
                batch_variance + eps
            )
        )
        normalized_input = (
            centered_input
            * inverse_standard_deviation
        )
        output = (
            normalized_input
            * weight.reshape(
                broadcast_shape
            )
            if weight is not None
            else normalized_input
        )
        if bias is not None:
            output = (
                output
                + bias.reshape(
                    broadcast_shape
                )
            )
        ctx.save_for_backward(
            normalized_input,
            inverse_standard_deviation,
            weight,
            bias,
        )
        ctx.reduction_dimensions = (
            reduction_dimensions
        )
        ctx.broadcast_shape = (
            broadcast_shape
        )
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (
            normalized_input,
            inverse_standard_deviation,
            weight,
            bias,
        ) = ctx.saved_tensors
        reduction_dimensions = (
            ctx.reduction_dimensions
        )
        values_per_channel = (
            grad_output.numel()
            // grad_output.shape[1]
        )
        grad_input = grad_weight = (
            grad_bias
        ) = None
        if ctx.needs_input_grad[0]:
            grad_normalized = (
                grad_output
                * weight.reshape(
                    ctx.broadcast_shape
                )
                if weight is not None
                else grad_output
            )
            sum_of_gradients = grad_normalized.sum(
                dim=reduction_dimensions,
                keepdim=True,
            )
            projection = (
                grad_normalized
                * normalized_input
            ).sum(
                dim=reduction_dimensions,
                keepdim=True,
            )
            grad_input = (
                inverse_standard_deviation
                / values_per_channel
                * (
                    values_per_channel
                    * grad_normalized
                    - sum_of_gradients
                    - normalized_input
                    * projection
                )
            )
        if (
            weight is not None
            and ctx.needs_input_grad[1]
        ):
            grad_weight = (
                grad_output
                * normalized_input
            ).sum(
                dim=reduction_dimensions
            )
        if (
            bias is not None
            and ctx.needs_input_grad[2]
        ):
            grad_bias = grad_output.sum(
                dim=reduction_dimensions
            )
        return (
            grad_input,
            grad_weight,
            grad_bias,
            None,
        )


def _running_update(
    module, x, reduction_dimensions
):
    with torch.no_grad():
        module.num_batches_tracked.add_(
            1
        )
        if module.momentum is None:
            exponential_average_factor = (
                1.0
                / module.num_batches_tracked.to(
                    torch.float64
                )
            )
        else:
            exponential_average_factor = (
                module.momentum
            )
        values_per_channel = (
            x.numel() // x.shape[1]
        )
        batch_mean = x.mean(
            dim=reduction_dimensions
        )
        unbiased_variance = (
            x.var(
                dim=reduction_dimensions,
                unbiased=False,
            )
            * values_per_channel
            / (values_per_channel - 1)
        )
        module.running_mean.copy_(
            (
                1
                - exponential_average_factor
            )
            * module.running_mean
            + exponential_average_factor
            * batch_mean
        )
        module.running_var.copy_(
            (
                1
                - exponential_average_factor
            )
            * module.running_var
            + exponential_average_factor
            * unbiased_variance
        )


class BatchNorm1d(nn.Module):
    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        (
            self.num_features,
            self.eps,
            self.momentum,
        ) = (
            num_features,
            eps,
            momentum,
        )
        (
            self.affine,
            self.track_running_stats,
        ) = (
            affine,
            track_running_stats,
        )
        if affine:
            self.weight = nn.Parameter(
                torch.ones(
                    num_features,
                    device=device,
                    dtype=dtype,
                )
            )
            self.bias = nn.Parameter(
                torch.zeros(
                    num_features,
                    device=device,
                    dtype=dtype,
                )
            )
        else:
            self.register_parameter(
                "weight", None
            )
            self.register_parameter(
                "bias", None
            )
        if track_running_stats:
            self.register_buffer(
                "running_mean",
                torch.zeros(
                    num_features,
                    device=device,
                    dtype=dtype,
                ),
            )
            self.register_buffer(
                "running_var",
                torch.ones(
                    num_features,
                    device=device,
                    dtype=dtype,
                ),
            )
            self.register_buffer(
                "num_batches_tracked",
                torch.tensor(
                    0,
                    dtype=torch.long,
                    device=device,
                ),
            )
        else:
            self.register_buffer(
                "running_mean", None
            )
            self.register_buffer(
                "running_var", None
            )
            self.register_buffer(
                "num_batches_tracked",
                None,
            )

    def forward(self, x):
        if (
            x.dim() != 2
            and x.dim() != 3
        ):
            raise ValueError(
                f"expected 2D or 3D input (got {x.dim()}D input)"
            )
        reduction_dimensions = (
            (0,)
            if x.dim() == 2
            else (0, 2)
        )
        if (
            self.training
            or not self.track_running_stats
        ):
            if (
                x.numel() // x.shape[1]
                == 1
            ):
                raise ValueError(
                    f"Expected more than 1 value per channel when training, got input size {x.size()}"
                )
            if (
                self.training
                and self.track_running_stats
            ):
                _running_update(
                    self,
                    x,
                    reduction_dimensions,
                )
            return (
                BatchNormFunction.apply(
                    x,
                    self.weight,
                    self.bias,
                    self.eps,
                )
            )
        broadcast_shape = (
            (1, -1)
            if x.dim() == 2
            else (1, -1, 1)
        )
        output = (
            x
            - self.running_mean.view(
                broadcast_shape
            )
        ) * torch.rsqrt(
            self.running_var.view(
                broadcast_shape
            )
            + self.eps
        )
        if self.affine:
            output = (
                output
                * self.weight.view(
                    broadcast_shape
                )
                + self.bias.view(
                    broadcast_shape
                )
            )
        return output

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, track_running_stats={self.track_running_stats}"


class BatchNorm2d(nn.Module):
    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        (
            self.num_features,
            self.eps,
            self.momentum,
        ) = (
            num_features,
            eps,
            momentum,
        )
        (
            self.affine,
            self.track_running_stats,
        ) = (
            affine,
            track_running_stats,
        )
        if affine:
            self.weight = nn.Parameter(
                torch.ones(
                    num_features,
                    device=device,
                    dtype=dtype,
                )
            )
            self.bias = nn.Parameter(
                torch.zeros(
                    num_features,
                    device=device,
                    dtype=dtype,
                )
            )
        else:
            self.register_parameter(
                "weight", None
            )
            self.register_parameter(
                "bias", None
            )
        if track_running_stats:
            self.register_buffer(
                "running_mean",
                torch.zeros(
                    num_features,
                    device=device,
                    dtype=dtype,
                ),
            )
            self.register_buffer(
                "running_var",
                torch.ones(
                    num_features,
                    device=device,
                    dtype=dtype,
                ),
            )
            self.register_buffer(
                "num_batches_tracked",
                torch.tensor(
                    0,
                    dtype=torch.long,
                    device=device,
                ),
            )
        else:
            self.register_buffer(
                "running_mean", None
            )
            self.register_buffer(
                "running_var", None
            )
            self.register_buffer(
                "num_batches_tracked",
                None,
            )

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(
                f"expected 4D input (got {x.dim()}D input)"
            )
        if (
            self.training
            or not self.track_running_stats
        ):
            if (
                x.shape[0]
                * x.shape[2]
                * x.shape[3]
                == 1
            ):
                raise ValueError(
                    f"Expected more than 1 value per channel when training, got input size {x.size()}"
                )
            if (
                self.training
                and self.track_running_stats
            ):
                _running_update(
                    self, x, (0, 2, 3)
                )
            return (
                BatchNormFunction.apply(
                    x,
                    self.weight,
                    self.bias,
                    self.eps,
                )
            )
        output = (
            x
            - self.running_mean[
                None, :, None, None
            ]
        ) * torch.rsqrt(
            self.running_var[
                None, :, None, None
            ]
            + self.eps
        )
        if self.affine:
            output = (
                output
                * self.weight[
                    None, :, None, None
                ]
                + self.bias[
                    None, :, None, None
                ]
            )
        return output

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, track_running_stats={self.track_running_stats}"
