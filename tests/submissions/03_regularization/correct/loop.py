"""Assignment 03: Dropout and BatchNorm, written from scratch."""

import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout: p is the probability of DROPPING a unit.

    (The lecture writes the layer with the keep probability; here keep = 1 - p.)
    """

    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients
        keep = torch.rand_like(x) >= self.p
        return x * keep / (1 - self.p)


class BatchNormFunction(torch.autograd.Function):
    """Batch normalization over every dim but 1, with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        dims = [0] + list(range(2, x.dim()))
        shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased
        inv_std = 1.0 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        y = x_hat
        if weight is not None:
            y = y * weight.view(shape)
        if bias is not None:
            y = y + bias.view(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved_tensors
        dims = [0] + list(range(2, x_hat.dim()))
        shape = [1, x_hat.shape[1]] + [1] * (x_hat.dim() - 2)
        m = x_hat.numel() // x_hat.shape[1]

        grad_weight = (grad_out * x_hat).sum(dim=dims) if weight is not None else None
        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias else None

        g = grad_out * weight.view(shape) if weight is not None else grad_out
        sum_g = g.sum(dim=dims, keepdim=True)
        sum_g_xhat = (g * x_hat).sum(dim=dims, keepdim=True)
        grad_x = inv_std / m * (m * g - sum_g - x_hat * sum_g_xhat)
        # None where autograd needs no gradient (ctx.needs_input_grad)
        grad_x, grad_weight, grad_bias = (grad if need else None for grad, need in
                                          zip((grad_x, grad_weight, grad_bias), ctx.needs_input_grad))
        return grad_x, grad_weight, grad_bias, None


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() != 2 and x.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")
        dims = [0] + list(range(2, x.dim()))
        shape = [1, x.shape[1]] + [1] * (x.dim() - 2)

        use_batch_stats = self.training or self.running_mean is None
        if not use_batch_stats:
            x_hat = (x - self.running_mean.view(shape)) / torch.sqrt(self.running_var.view(shape) + self.eps)
            if self.weight is not None:
                x_hat = x_hat * self.weight.view(shape) + self.bias.view(shape)
            return x_hat

        if x.numel() // x.shape[1] == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")

        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / self.num_batches_tracked.item()
            else:
                factor = self.momentum
            with torch.no_grad():
                batch_mean = x.mean(dim=dims)
                batch_var = x.var(dim=dims, unbiased=True)
                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)
                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)

        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        C = x.shape[1]

        use_batch_stats = self.training or self.running_mean is None
        if not use_batch_stats:
            mean = self.running_mean.view(1, C, 1, 1)
            std = torch.sqrt(self.running_var.view(1, C, 1, 1) + self.eps)
            out = (x - mean) / std
            if self.weight is not None:
                out = out * self.weight.view(1, C, 1, 1) + self.bias.view(1, C, 1, 1)
            return out

        if x.shape[0] * x.shape[2] * x.shape[3] == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.size()}")

        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / self.num_batches_tracked.item()
            else:
                factor = self.momentum
            with torch.no_grad():
                batch_mean = x.mean(dim=(0, 2, 3))
                batch_var = x.var(dim=(0, 2, 3), unbiased=True)
                self.running_mean.mul_(1 - factor).add_(batch_mean, alpha=factor)
                self.running_var.mul_(1 - factor).add_(batch_var, alpha=factor)

        return BatchNormFunction.apply(x, self.weight, self.bias, self.eps)
