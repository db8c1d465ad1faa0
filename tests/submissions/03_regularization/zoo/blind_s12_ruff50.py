import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(
                f"dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        survivors = (
            torch.rand_like(x) >= self.p
        ).to(x.dtype)
        return (
            x
            * survivors
            * (
                1.0 / (1.0 - self.p)
                if self.p != 1.0
                else 0.0
            )
        )

    def extra_repr(self):
        return f"p={self.p}"


class BatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        reduce_over = [0] + list(
            range(2, x.dim())
        )
        channel_shape = [1, x.shape[1]] + [1] * (
            x.dim() - 2
        )
        batch_mean = x.mean(
            dim=reduce_over, keepdim=True
        )
        batch_variance = (
            (x - batch_mean) ** 2
        ).mean(dim=reduce_over, keepdim=True)
        inverse_std = (
            batch_variance + eps
        ) ** -0.5
        normalized = (
            x - batch_mean
        ) * inverse_std
        result = (
            normalized
            * weight.view(channel_shape)
            if weight is not None
            else normalized
        )
        result = (
            result + bias.view(channel_shape)
            if bias is not None
            else result
        )
        ctx.save_for_backward(
            normalized, inverse_std, weight
        )
        (
            ctx.reduce_over,
            ctx.channel_shape,
            ctx.has_bias,
        ) = (
            reduce_over,
            channel_shape,
            bias is not None,
        )
        return result

    @staticmethod
    def backward(ctx, grad_output):
        normalized, inverse_std, weight = (
            ctx.saved_tensors
        )
        reduce_over, channel_shape = (
            ctx.reduce_over,
            ctx.channel_shape,
        )
        grad_input = grad_weight = grad_bias = (
            None
        )
        if ctx.needs_input_grad[0]:
            grad_normalized = (
                grad_output
                * weight.view(channel_shape)
                if weight is not None
                else grad_output
            )
            grad_input = inverse_std * (
                grad_normalized
                - grad_normalized.mean(
                    dim=reduce_over, keepdim=True
                )
                - normalized
                * (
                    grad_normalized * normalized
                ).mean(
                    dim=reduce_over, keepdim=True
                )
            )
        if (
            weight is not None
            and ctx.needs_input_grad[1]
        ):
            grad_weight = (
                grad_output * normalized
            ).sum(dim=reduce_over)
        if (
            ctx.has_bias
            and ctx.needs_input_grad[2]
        ):
            grad_bias = grad_output.sum(
                dim=reduce_over
            )
        return (
            grad_input,
            grad_weight,
            grad_bias,
            None,
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
            self.affine,
            self.track_running_stats,
        ) = (
            num_features,
            eps,
            momentum,
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
            self.register_parameter("bias", None)
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
                "num_batches_tracked", None
            )

    def forward(self, x):
        if x.dim() != 2 and x.dim() != 3:
            raise ValueError(
                f"expected 2D or 3D input (got {x.dim()}D input)"
            )
        channel_shape = [1, -1] + [1] * (
            x.dim() - 2
        )
        if (
            not self.training
            and self.track_running_stats
        ):
            normalized = (
                x
                - self.running_mean.view(
                    channel_shape
                )
            ) / torch.sqrt(
                self.running_var.view(
                    channel_shape
                )
                + self.eps
            )
            return (
                normalized
                * self.weight.view(channel_shape)
                + self.bias.view(channel_shape)
                if self.affine
                else normalized
            )
        values_per_channel = (
            x.numel() // x.shape[1]
        )
        if values_per_channel < 2:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.size()}"
            )
        if (
            self.training
            and self.track_running_stats
        ):
            with torch.no_grad():
                self.num_batches_tracked += 1
                weight_of_new = (
                    self.momentum
                    if self.momentum is not None
                    else 1.0
                    / self.num_batches_tracked.double()
                )
                reduce_over = [0] + list(
                    range(2, x.dim())
                )
                self.running_mean.mul_(
                    1 - weight_of_new
                ).add_(
                    weight_of_new
                    * x.mean(dim=reduce_over)
                )
                self.running_var.mul_(
                    1 - weight_of_new
                ).add_(
                    weight_of_new
                    * x.var(
                        dim=reduce_over,
                        unbiased=True,
                    )
                )
        return BatchNormFunction.apply(
            x, self.weight, self.bias, self.eps
        )

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
            self.affine,
            self.track_running_stats,
        ) = (
            num_features,
            eps,
            momentum,
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
            self.register_parameter("bias", None)
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
                "num_batches_tracked", None
            )

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(
                f"expected 4D input (got {x.dim()}D input)"
            )
        if (
            not self.training
            and self.track_running_stats
        ):
            normalized = (
                x
                - self.running_mean.view(
                    1, -1, 1, 1
                )
            ) / torch.sqrt(
                self.running_var.view(1, -1, 1, 1)
                + self.eps
            )
            return (
                normalized
                * self.weight.view(1, -1, 1, 1)
                + self.bias.view(1, -1, 1, 1)
                if self.affine
                else normalized
            )
        if (
            x.shape[0] * x.shape[2] * x.shape[3]
            < 2
        ):
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.size()}"
            )
        if (
            self.training
            and self.track_running_stats
        ):
            with torch.no_grad():
                self.num_batches_tracked += 1
                weight_of_new = (
                    self.momentum
                    if self.momentum is not None
                    else 1.0
                    / self.num_batches_tracked.double()
                )
                self.running_mean.mul_(
                    1 - weight_of_new
                ).add_(
                    weight_of_new
                    * x.mean(dim=(0, 2, 3))
                )
                self.running_var.mul_(
                    1 - weight_of_new
                ).add_(
                    weight_of_new
                    * x.var(
                        dim=(0, 2, 3),
                        unbiased=True,
                    )
                )
        return BatchNormFunction.apply(
            x, self.weight, self.bias, self.eps
        )

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, track_running_stats={self.track_running_stats}"
