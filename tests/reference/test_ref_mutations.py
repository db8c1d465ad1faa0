"""The comparison machinery notices bugs: each test plants one plausible bug in the reference and
expects the *same* helper the real tests use to raise an AssertionError.

If one of these passes silently, the corresponding real test could pass on a wrong reference.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import reference
import reference.adagrad
import reference.adam
import reference.batchnorm
import reference.data
import reference.rmsprop
import reference.sgd
import reference.training
from reference._functional import step_value
from tests.reference.harness import (
    Tol,
    assert_dropout_statistics,
    assert_gradcheck,
    assert_lrs_equal,
    assert_minibatches_cover,
    batchnorm_forward_backward,
    batchnorm_input,
    build_optimizer,
    check_scripted_fit,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
    run_side_by_side,
)
from tests.reference.optim_table import ROW_BY_NAME
from tests.strategies import GradRecipe, GroupSplit, Trajectory

# Three parameters (one skips step 2), four steps, unit-scale gradients.
REVEALING = Trajectory(
    shapes=((3, 2), (4,), ()),
    param_seed=11,
    steps=tuple(
        tuple(None if (t == 1 and i == 1) else GradRecipe(seed=10 * t + i, scale=1.0) for i in range(3))
        for t in range(4)
    ),
)


# --------------------------------------------------------------------------- buggy loops, one bug each


def _sgd_dampened_first_step(
    params, grads, bufs, *, lr, momentum, dampening, weight_decay, nesterov, maximize
):
    for i, (p, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        if momentum != 0:
            if bufs[i] is None:
                bufs[i] = torch.clone(g).detach().mul_(1 - dampening)  # BUG: torch does not dampen step 1
            else:
                bufs[i].mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(bufs[i], alpha=momentum) if nesterov else bufs[i]
        p.add_(g, alpha=-lr)


def _adagrad_eps_under_sqrt(params, grads, sums, steps, *, lr, lr_decay, weight_decay, eps, maximize):
    for p, grad, state_sum, step_t in zip(params, grads, sums, steps, strict=True):
        step_t += 1
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        clr = lr / (1 + (step_value(step_t) - 1) * lr_decay)
        state_sum.addcmul_(g, g, value=1)
        p.addcdiv_(g, (state_sum + eps).sqrt(), value=-clr)  # BUG: the lecture's sqrt(G + eps)


def _rmsprop_centered_without_mean(
    params,
    grads,
    square_avgs,
    grad_avgs,
    bufs,
    steps,
    *,
    lr,
    alpha,
    eps,
    weight_decay,
    momentum,
    centered,
    maximize,
):
    for i, (p, grad, square_avg, step_t) in enumerate(zip(params, grads, square_avgs, steps, strict=True)):
        step_t += 1
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if centered:
            grad_avgs[i].lerp_(g, 1 - alpha)
        avg = square_avg.sqrt().add_(eps)  # BUG: centered must subtract grad_avg ** 2 first
        if momentum > 0:
            bufs[i].mul_(momentum).addcdiv_(g, avg)
            p.add_(bufs[i], alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)


def _adam_loop(bug: str):
    def loop(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, *, lr, beta1, beta2, eps, weight_decay,
             amsgrad, maximize):  # fmt: skip
        for i, (p, grad, m, v, step_t) in enumerate(
            zip(params, grads, exp_avgs, exp_avg_sqs, steps, strict=True)
        ):
            step_t += 1
            g = -grad if maximize else grad
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            t = step_value(step_t)
            second = v
            if amsgrad:
                torch.maximum(max_sqs[i], v, out=max_sqs[i])
                second = max_sqs[i]
            if bug == "no bias correction":
                p.addcdiv_(m, second.sqrt().add_(eps), value=-lr)
            elif bug == "eps under the sqrt":  # the lecture's sqrt(v_hat + eps)
                denom = (second / (1 - beta2**t) + eps).sqrt()
                p.addcdiv_(m, denom, value=-lr / (1 - beta1**t))

    return loop


def _with_kwargs(func: Callable[..., None], **changed: Callable[[Any], Any]) -> Callable[..., None]:
    """``func`` with some keyword arguments rewritten: a one-line plumbing bug in the caller."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for key, change in changed.items():
            kwargs[key] = change(kwargs[key])
        return func(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class OptimizerMutant:
    desc: str
    row: str
    module: Any
    target: str  # name of the function in `module` that is replaced
    bug: Callable[[Callable[..., None]], Callable[..., None]]  # original -> buggy
    config: dict[str, Any]
    foreach: bool


OPTIMIZER_MUTANTS = [
    OptimizerMutant("SGD dampens the first momentum step", "SGD", reference.sgd, "_single_tensor_sgd",
                    lambda f: _sgd_dampened_first_step, {"momentum": 0.9, "dampening": 0.5}, False),
    OptimizerMutant("SGD foreach ignores nesterov", "SGD", reference.sgd, "_multi_tensor_sgd",
                    lambda f: _with_kwargs(f, nesterov=lambda v: False),
                    {"lr": 0.1, "momentum": 0.9, "nesterov": True}, True),
    OptimizerMutant("Adagrad puts eps under the sqrt", "Adagrad", reference.adagrad, "_single_tensor_adagrad",
                    lambda f: _adagrad_eps_under_sqrt, {"lr": 0.1, "eps": 1e-3}, False),
    OptimizerMutant("Adagrad foreach ignores lr_decay", "Adagrad", reference.adagrad, "_multi_tensor_adagrad",
                    lambda f: _with_kwargs(f, lr_decay=lambda v: 0.0), {"lr": 0.1, "lr_decay": 0.5}, True),
    OptimizerMutant("RMSprop centered forgets the mean", "RMSprop", reference.rmsprop,
                    "_single_tensor_rmsprop", lambda f: _rmsprop_centered_without_mean,
                    {"centered": True}, False),
    OptimizerMutant("RMSprop foreach swaps alpha and 1 - alpha", "RMSprop", reference.rmsprop,
                    "_multi_tensor_rmsprop", lambda f: _with_kwargs(f, alpha=lambda a: 1 - a),
                    {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}, True),
    OptimizerMutant("Adam without bias correction", "Adam", reference.adam, "_single_tensor_adam",
                    lambda f: _adam_loop("no bias correction"), {"lr": 0.01}, False),
    OptimizerMutant("Adam puts eps under the sqrt", "Adam", reference.adam, "_single_tensor_adam",
                    lambda f: _adam_loop("eps under the sqrt"), {"lr": 0.01, "eps": 1e-3}, False),
    OptimizerMutant("Adam foreach drops weight decay", "Adam", reference.adam, "_multi_tensor_adam",
                    lambda f: _with_kwargs(f, weight_decay=lambda v: 0.0),
                    {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, True),
]  # fmt: skip


@pytest.mark.optimizers
@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.desc) for m in OPTIMIZER_MUTANTS])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_optimizer_comparison_catches(
    mutant: OptimizerMutant, dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = ROW_BY_NAME[mutant.row]
    split = GroupSplit(defaults=mutant.config, groups=((tuple(range(len(REVEALING.shapes))), {}),))

    def compare() -> None:
        run_side_by_side(
            lambda ps: build_optimizer(row.ref_cls, ps, split, foreach=mutant.foreach),
            lambda ps: build_optimizer(row.torch_cls, ps, split, foreach=mutant.foreach),
            REVEALING,
            dtype,
            "cpu",
            row.tolerances[dtype],
        )

    compare()  # the unmodified reference passes the very same comparison
    original = getattr(mutant.module, mutant.target)
    monkeypatch.setattr(mutant.module, mutant.target, mutant.bug(original))
    with pytest.raises(AssertionError):
        compare()


# --------------------------------------------------------------------------- layers

BN_TOL = Tol(1.3e-6, 1e-5, "as in test_ref_batchnorm")


class _BiasedRunningVar(reference.BatchNorm1d):
    @torch.no_grad()
    def _update_running_stats(self, x: Tensor) -> None:
        self.num_batches_tracked.add_(1)
        var, mean = torch.var_mean(x, [0], correction=0)  # BUG: torch tracks the unbiased variance
        self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
        self.running_var.mul_(1 - self.momentum).add_(var, alpha=self.momentum)


class _SwappedMomentum(reference.BatchNorm1d):
    @torch.no_grad()
    def _update_running_stats(self, x: Tensor) -> None:
        self.num_batches_tracked.add_(1)
        var, mean = torch.var_mean(x, [0], correction=1)
        self.running_mean.mul_(self.momentum).add_(mean, alpha=1 - self.momentum)  # BUG: weights swapped
        self.running_var.mul_(self.momentum).add_(var, alpha=1 - self.momentum)


class _BackwardWithoutProjection(reference.BatchNormFunction):
    @staticmethod
    def backward(ctx, dy):
        xhat, invstd, weight = ctx.saved_tensors
        dxhat = dy * weight if weight is not None else dy
        n = dy.shape[0]
        dx = (invstd / n) * (n * dxhat - dxhat.sum(0, keepdim=True))  # BUG: misses - xhat * sum(dxhat * xhat)
        return dx, (dy * xhat).sum(0), dy.sum(0), None


@pytest.mark.regularization
@pytest.mark.parametrize(
    "buggy", [_BiasedRunningVar, _SwappedMomentum], ids=["biased running var", "swapped momentum"]
)
def test_batchnorm_module_comparison_catches_running_stats_bugs(buggy) -> None:
    x = batchnorm_input((6, 3), seed=0, scale=1.0, shift=1.0, dtype=torch.float64, device="cpu")
    batchnorm_forward_backward(
        reference.BatchNorm1d(3).double(), nn.BatchNorm1d(3).double(), x, BN_TOL, "correct"
    )
    with pytest.raises(AssertionError):
        batchnorm_forward_backward(buggy(3).double(), nn.BatchNorm1d(3).double(), x, BN_TOL, "buggy")


@pytest.mark.regularization
def test_gradcheck_and_module_comparison_catch_a_wrong_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert_gradcheck(lambda *a: reference.BatchNormFunction.apply(*a, 1e-5), (x, w, b), "correct")
    with pytest.raises(AssertionError):
        assert_gradcheck(lambda *a: _BackwardWithoutProjection.apply(*a, 1e-5), (x, w, b), "buggy")
    monkeypatch.setattr(reference.batchnorm, "BatchNormFunction", _BackwardWithoutProjection)
    with pytest.raises(AssertionError):
        batchnorm_forward_backward(
            reference.BatchNorm1d(3).double(), nn.BatchNorm1d(3).double(), x, BN_TOL, "buggy"
        )


class _ScaledByP(reference.Dropout):
    def forward(self, x: Tensor) -> Tensor:
        mask = torch.empty_like(x).bernoulli_(1 - self.p)
        return x * mask / self.p  # BUG: the lecture's 1/p read with torch's p (drop probability)


class _KeepsWithP(reference.Dropout):
    def forward(self, x: Tensor) -> Tensor:
        mask = torch.empty_like(x).bernoulli_(self.p)  # BUG: p used as the keep probability
        return x * mask / (1 - self.p)


@pytest.mark.regularization
@pytest.mark.parametrize("buggy", [_ScaledByP, _KeepsWithP], ids=["scaled by 1/p", "p keeps"])
def test_dropout_statistics_catch(buggy) -> None:
    torch.manual_seed(0)
    x = torch.rand(400, 500, dtype=torch.float64) + 0.5
    assert_dropout_statistics(reference.Dropout(0.2), 0.2, x, "correct")
    with pytest.raises(AssertionError):
        assert_dropout_statistics(buggy(0.2), 0.2, x, "buggy")


# --------------------------------------------------------------------------- gradient descent


class _OffByOne(reference.PowerDecayLR):
    def _get_closed_form_lr(self) -> list[float]:
        return [lr * (self.last_epoch + 2) ** -self.power for lr in self.base_lrs]  # BUG: t = k + 2


@pytest.mark.gradient_descent
def test_schedule_comparison_catches_an_off_by_one() -> None:
    def run(cls) -> None:
        opts = [torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1) for _ in range(2)]
        ours = cls(opts[0], power=0.3)
        theirs = torch.optim.lr_scheduler.LambdaLR(opts[1], lambda k: (k + 1) ** -0.3)
        for k in range(3):
            assert_lrs_equal(opts[0], opts[1], f"after {k} steps")
            for opt, sched in zip(opts, (ours, theirs), strict=True):
                opt.step()
                sched.step()

    run(reference.PowerDecayLR)
    with pytest.raises(AssertionError):
        run(_OffByOne)


@pytest.mark.gradient_descent
def test_minibatch_coverage_catches_a_dropped_last_batch() -> None:
    def drop_last(n, batch_size, **kwargs):
        return [b for b in reference.minibatches(n, batch_size, **kwargs) if len(b) == batch_size]

    for impl, fails in ((reference.minibatches, False), (drop_last, True)):
        gen, twin = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
        batches = list(impl(10, 4, generator=gen))
        if fails:
            with pytest.raises(AssertionError):
                assert_minibatches_cover(batches, 10, 4, torch.randperm(10, generator=twin), "buggy")
        else:
            assert_minibatches_cover(batches, 10, 4, torch.randperm(10, generator=twin), "correct")


@pytest.mark.gradient_descent
def test_fit_check_catches_best_weights_that_were_not_deep_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted = ([2.0, 1.0, 1.5, 1.5], 2, 4)  # best epoch 1, training stops after epoch 3
    check_scripted_fit(reference.fit, *scripted)

    class ShallowCopy:
        deepcopy = staticmethod(copy.copy)  # BUG: the "saved" state_dict aliases the live tensors

    monkeypatch.setattr(reference.training, "copy", ShallowCopy)
    with pytest.raises(AssertionError):
        check_scripted_fit(reference.fit, *scripted)
