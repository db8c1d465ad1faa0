"""Comparison machinery of the reference tests: devices, tensors from recipes, and the assertions.

Every real test and every mutation test goes through the same helpers here, so a mutation test that
expects an ``AssertionError`` proves that the real test would have caught that bug.
"""

from __future__ import annotations

import copy
import functools
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from tests.strategies import GradRecipe, GroupSplit, Trajectory, load_kit_profile

# CPU always; CUDA only with a device, otherwise a visible skip (never silently dropped).
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")],
    ),
]
CUDA_ONLY = [DEVICES[1]]
DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
FOREACH = [pytest.param(False, id="loop"), pytest.param(True, id="foreach")]


@pytest.fixture(autouse=True)
def one_cpu_thread():
    """Run each test with one intra-op CPU thread (test modules import this autouse fixture).

    The tensors here are tiny, so threads gain nothing; under pytest-xdist on a 2-core runner they
    oversubscribe the cores, and an OpenMP barrier per op then costs milliseconds instead of
    microseconds (measured: a BatchNorm forward went from 17 us to 170 ms on a loaded machine).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclass(frozen=True)
class Tol:
    """A comparison tolerance and why it is what it is.

    ``atol`` is relative to the largest finite magnitude of the expected tensor, so one tolerance
    serves gradients of 1e-6 and of 1e6 alike: ``|a - e| <= atol * max|e| + rtol * |e|``.
    """

    rtol: float
    atol: float
    reason: str


# --------------------------------------------------------------------------- the one assertion


def assert_tensors_close(
    actual: Tensor, expected: Tensor, tol: Tol, what: str, *, scale: float | None = None
) -> None:
    """Assert equal dtype, device, shape and values (NaN equal to NaN) within ``tol``.

    ``scale`` is the magnitude ``tol.atol`` is relative to; by default the largest finite magnitude
    of ``expected``. Pass the magnitude of the terms instead when the result is a cancellation of
    much larger terms (BatchNorm's input gradient), where rounding is relative to those terms.
    """
    assert isinstance(actual, Tensor), f"{what}: expected a tensor, got {type(actual).__name__}"
    if scale is None:
        finite = expected[torch.isfinite(expected)]
        scale = finite.abs().max().item() if finite.numel() else 0.0
    torch.testing.assert_close(
        actual,
        expected,
        rtol=tol.rtol,
        atol=tol.atol * scale,
        equal_nan=True,
        msg=lambda m: f"{what}: {m}",
    )


# --------------------------------------------------------------------------- optimizers


def make_params(traj: Trajectory, dtype: torch.dtype, device: str) -> list[nn.Parameter]:
    """The trajectory's initial parameters: standard normal from ``param_seed``, made on the CPU."""
    gen = torch.Generator().manual_seed(traj.param_seed)
    return [
        nn.Parameter(torch.randn(shape, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype))
        for shape in traj.shapes
    ]


def make_grad(recipe: GradRecipe | None, like: Tensor) -> Tensor | None:
    if recipe is None:
        return None
    gen = torch.Generator().manual_seed(recipe.seed)
    values = torch.randn(like.shape, generator=gen, dtype=torch.float64) * recipe.scale
    return values.to(device=like.device, dtype=like.dtype)


def build_optimizer(
    cls: type, params: Sequence[Tensor], split: GroupSplit, **extra: Any
) -> torch.optim.Optimizer:
    """``cls`` over ``params`` grouped as ``split`` says, with ``extra`` constructor keywords."""
    groups = [{"params": [params[i] for i in idx], **overrides} for idx, overrides in split.groups]
    return cls(groups, **split.defaults, **extra)


def set_grads(params: Sequence[Tensor], recipes: Sequence[GradRecipe | None]) -> None:
    # Each side gets its own gradient tensors: torch's foreach SGD with Nesterov writes into `.grad`.
    for p, recipe in zip(params, recipes, strict=True):
        p.grad = make_grad(recipe, p)


def assert_same_state(
    actual: torch.optim.Optimizer, expected: torch.optim.Optimizer, tol: Tol, what: str
) -> None:
    """Same per-parameter state: same keys, step counters equal, tensors close; same hyper-parameters."""
    a_sd, e_sd = actual.state_dict(), expected.state_dict()
    assert a_sd["state"].keys() == e_sd["state"].keys(), f"{what}: parameters with state differ"
    for index, e_state in e_sd["state"].items():
        a_state = a_sd["state"][index]
        assert a_state.keys() == e_state.keys(), f"{what}: state keys of param {index}: {a_state.keys()}"
        for key, e_value in e_state.items():
            a_value = a_state[key]
            if key == "step":
                assert torch.equal(a_value, e_value), f"{what}: step of param {index}"
                assert (a_value.dtype, a_value.device) == (e_value.dtype, e_value.device), (
                    f"{what}: step kind"
                )
            else:
                assert_tensors_close(a_value, e_value, tol, f"{what}: state[{index}][{key!r}]")
    for a_group, e_group in zip(a_sd["param_groups"], e_sd["param_groups"], strict=True):
        # `foreach` picks an implementation, it is no hyper-parameter: two runs may differ in it.
        common = (a_group.keys() & e_group.keys()) - {"params", "foreach"}
        assert {k: a_group[k] for k in common} == {k: e_group[k] for k in common}, f"{what}: param group"


def run_side_by_side(
    actual_factory: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
    expected_factory: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
    traj: Trajectory,
    dtype: torch.dtype,
    device: str,
    tol: Tol,
    *,
    expected_device: str | None = None,
) -> None:
    """Run two optimizers over the same trajectory and compare params and state after every step."""
    actual_params = make_params(traj, dtype, device)
    expected_params = make_params(traj, dtype, expected_device or device)
    actual, expected = actual_factory(actual_params), expected_factory(expected_params)
    for t, recipes in enumerate(traj.steps):
        set_grads(actual_params, recipes)
        set_grads(expected_params, recipes)
        actual.step()
        expected.step()
        for i, (a, e) in enumerate(zip(actual_params, expected_params, strict=True)):
            assert_tensors_close(a.detach().to(e.device), e.detach(), tol, f"step {t + 1}, param {i}")
        if expected_device is None:
            assert_same_state(actual, expected, tol, f"step {t + 1}")


def roundtrip(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A state_dict after ``torch.save``/``torch.load(weights_only=True)``: what a checkpoint gives back."""
    buffer = io.BytesIO()
    torch.save(copy.deepcopy(state_dict), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


# --------------------------------------------------------------------------- layers


def batchnorm_input(shape: tuple[int, ...], seed: int, scale: float, shift: float, dtype, device) -> Tensor:
    """``scale * (N(0, 1) + shift)``: a mean ``shift`` standard deviations away from 0 at any magnitude.

    The shift is relative so that the conditioning of ``x - mean`` stays bounded (an absolute shift
    of 3 on data of spread 1e-2 would make every correct float32 implementation differ by ~1e-4).
    """
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) + shift) * scale
    return x.to(device=device, dtype=dtype)


def _batchnorm_grad_scales(module: nn.Module, training: bool, x: Tensor, dy: Tensor) -> dict[str, float]:
    """Magnitudes of the terms that BatchNorm's gradients add up, per gradient.

    The input gradient is a difference of terms of size ``|dy| * |weight| * invstd`` and the
    weight and bias gradients are sums over the batch of ``dy * xhat`` and ``dy``. Such sums can
    cancel to almost nothing, and rounding errors are relative to the terms, not to the result.
    """
    if x.numel() == 0:
        return {"input": 0.0, "weight": 0.0, "bias": 0.0}
    dims = [d for d in range(x.dim()) if d != 1]
    x64, dy64 = x.detach().double(), dy.double()
    if training or module.running_var is None:  # batch statistics
        mean, var = x64.mean(dims, keepdim=True), x64.var(dims, unbiased=False, keepdim=True)
    else:  # running statistics, which an eval forward does not change
        shape = [1, -1] + [1] * (x.dim() - 2)
        mean, var = module.running_mean.double().view(shape), module.running_var.double().view(shape)
    invstd = torch.rsqrt(var + module.eps)
    xhat = (x64 - mean) * invstd
    weight = module.weight.detach().abs().max().item() if module.weight is not None else 1.0
    return {
        "input": dy64.abs().max().item() * weight * invstd.max().item(),
        "weight": (dy64 * xhat).abs().sum(dims).max().item(),
        "bias": dy64.abs().sum(dims).max().item(),
    }


def assert_same_module_state(actual: nn.Module, expected: nn.Module, tol: Tol, what: str) -> None:
    """Same state_dict keys (and order), same buffers: running stats close, counters equal."""
    a_sd, e_sd = actual.state_dict(), expected.state_dict()
    assert list(a_sd) == list(e_sd), f"{what}: state_dict keys {list(a_sd)} != {list(e_sd)}"
    for key, e_value in e_sd.items():
        if e_value.dtype == torch.long:
            assert torch.equal(a_sd[key], e_value), f"{what}: {key} {a_sd[key]} != {e_value}"
        else:
            assert_tensors_close(a_sd[key], e_value, tol, f"{what}: {key}")


def batchnorm_forward_backward(
    actual: nn.Module, expected: nn.Module, x: Tensor, tol: Tol, what: str, *, seed: int = 0
) -> None:
    """One forward (and, when it requires grad, backward) of both modules; outputs, grads, state close."""
    actual.zero_grad(set_to_none=True)  # each call's gradients alone, not accumulated ones
    expected.zero_grad(set_to_none=True)
    xa = x.detach().clone().requires_grad_(x.requires_grad)
    xe = x.detach().clone().requires_grad_(x.requires_grad)
    training = expected.training
    ya, ye = actual(xa), expected(xe)
    assert_tensors_close(ya, ye, tol, f"{what}: output")
    if ye.requires_grad:
        gen = torch.Generator().manual_seed(seed)
        dy = torch.randn(ye.shape, generator=gen, dtype=torch.float64).to(device=ye.device, dtype=ye.dtype)
        ya.backward(dy)
        ye.backward(dy)
        scales = _batchnorm_grad_scales(expected, training, x, dy)
        if x.requires_grad:
            assert_tensors_close(xa.grad, xe.grad, tol, f"{what}: grad of input", scale=scales["input"])
        for name, e_param in expected.named_parameters():
            a_param = dict(actual.named_parameters())[name]
            scale = scales[name]
            assert_tensors_close(a_param.grad, e_param.grad, tol, f"{what}: grad of {name}", scale=scale)
    assert_same_module_state(actual, expected, tol, what)


def assert_gradcheck(fn: Callable[..., Tensor], inputs: tuple[Any, ...], what: str) -> None:
    """float64 finite differences agree with the hand-written backward (an AssertionError if not)."""
    ok = torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False)
    assert ok, f"{what}: analytical and numerical gradients differ"


def assert_dropout_statistics(module: nn.Module, p: float, x: Tensor, what: str) -> None:
    """Training output is 0 or x / (1 - p) (within rounding) and the dropped fraction is binomial.

    The fraction test allows 6 standard deviations of Binomial(n, p) plus one element, so a correct
    implementation fails it with probability below 1e-8 while a wrong drop rate of even a few
    percent is caught on the large inputs used here.
    """
    module.train()
    y = module(x)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device, f"{what}: output kind"
    dropped = y == 0
    if p < 1:
        kept = ~dropped
        scaled = x / (1 - p)
        eps = torch.finfo(x.dtype).eps
        assert torch.allclose(y[kept], scaled[kept], rtol=4 * eps, atol=0), f"{what}: kept values not x/(1-p)"
    n = x.numel()
    allowed = 6 * math.sqrt(n * p * (1 - p)) + 1
    assert abs(dropped.sum().item() - n * p) <= allowed, f"{what}: dropped {dropped.sum().item()} of {n}"


# --------------------------------------------------------------------------- torch's own test tables


@functools.cache
def torch_test_db() -> tuple[Any, Any]:
    """``(common_optimizers, common_modules)`` from torch's internal test utilities, imported once.

    Importing them has two global side effects that must not leak into the rest of the session:
    ``torch.backends.disable_global_flags()`` and loading torch's own (non-derandomized)
    hypothesis profile. Both are undone here.
    """
    flag = "__allow_nonbracketed_mutation_flag"
    before = getattr(torch.backends, flag)
    try:
        from torch.testing._internal import common_modules, common_optimizers
    finally:
        setattr(torch.backends, flag, before)
        load_kit_profile()
    return common_optimizers, common_modules


# --------------------------------------------------------------------------- gradient descent


def assert_lrs_equal(actual: torch.optim.Optimizer, expected: torch.optim.Optimizer, what: str) -> None:
    """Every param group has exactly (bit for bit) the expected lr."""
    got = [group["lr"] for group in actual.param_groups]
    want = [group["lr"] for group in expected.param_groups]
    assert got == want, f"{what}: lrs {got} != {want}"


def assert_minibatches_cover(
    batches: list[Tensor], n: int, batch_size: int, order: Tensor, what: str
) -> None:
    """1-D long batches, all full but possibly the last, concatenating to ``order`` (so each index once)."""
    for k, batch in enumerate(batches):
        assert isinstance(batch, Tensor) and batch.dtype == torch.long and batch.dim() == 1, (
            f"{what}: batch {k}"
        )
    sizes = [len(b) for b in batches]
    assert sizes == [len(chunk) for chunk in order.split(batch_size)], f"{what}: batch sizes {sizes}"
    flat = torch.cat(batches) if batches else torch.empty(0, dtype=torch.long)
    assert torch.equal(flat, order), f"{what}: order {flat.tolist()} != {order.tolist()}"
    assert sorted(flat.tolist()) == list(range(n)), f"{what}: not every index exactly once"


class ScriptedLoss:
    """Loss of a ``fit`` run whose validation losses are scripted, so early stopping is certain.

    Training batches (grad enabled) get a real MSE; every validation pass (under ``no_grad``) gets
    the next scripted value and records a deep copy of the model's state at that moment, i.e. at
    the end of that epoch.
    """

    def __init__(self, model: nn.Module, val_losses: Sequence[float]) -> None:
        self.model = model
        self.val_losses = list(val_losses)
        self.batches: list[tuple[int, float, int, bool]] = []  # (epoch, loss, batch size, training)
        self.snapshots: list[dict[str, Tensor]] = []
        self.val_training_flags: list[bool] = []

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            loss = nn.functional.mse_loss(pred, target)
            self.batches.append((len(self.snapshots), loss.item(), len(target), self.model.training))
            return loss
        self.val_training_flags.append(self.model.training)
        self.snapshots.append(copy.deepcopy(self.model.state_dict()))
        return pred.sum() * 0 + self.val_losses[len(self.snapshots) - 1]


def expected_early_stop(val_losses: Sequence[float], patience: int, max_epochs: int) -> tuple[int, int]:
    """(epochs run, best epoch) from DESIGN.md's rule, stated independently of any loop.

    Training stops after epoch ``e`` when the ``patience`` epochs ending at ``e`` are all no lower
    than the best loss before them; the best epoch is the first minimum of the epochs run.
    """
    epochs = max_epochs
    for e in range(patience, max_epochs):
        if min(val_losses[e - patience + 1 : e + 1]) >= min(val_losses[: e - patience + 1]):
            epochs = e + 1
            break
    run = list(val_losses[:epochs])
    return epochs, run.index(min(run))


def make_fit_problem(seed: int) -> tuple[nn.Module, tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """A tiny regression model with a BatchNorm (buffers must be restored too) and its data."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    x = torch.randn(23, 2, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0]]) + 0.1 * torch.randn(23, 1, generator=gen)
    return model, (x, y), (torch.randn(7, 2, generator=gen), torch.randn(7, 1, generator=gen))


def check_scripted_fit(
    fit: Callable[..., dict[str, Any]],
    val_losses: Sequence[float],
    patience: int,
    max_epochs: int,
    *,
    batch_size: int = 5,
    seed: int = 0,
) -> None:
    """Run ``fit`` on the scripted problem and assert everything DESIGN.md says about the result."""
    model, train, val = make_fit_problem(seed)
    loss = ScriptedLoss(model, val_losses)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    out = fit(
        model,
        loss,
        optimizer,
        train,
        val,
        batch_size=batch_size,
        max_epochs=max_epochs,
        patience=patience,
        generator=torch.Generator().manual_seed(seed),
    )
    epochs, best = expected_early_stop(val_losses, patience, max_epochs)

    assert set(out) == {"train_loss", "val_loss", "best_epoch"}, f"keys {set(out)}"
    assert out["val_loss"] == list(val_losses[:epochs]), (
        f"val_loss {out['val_loss']}, expected {epochs} epochs"
    )
    assert out["best_epoch"] == best and type(out["best_epoch"]) is int, (
        f"best_epoch {out['best_epoch']} != {best}"
    )
    assert all(type(v) is float for v in out["train_loss"] + out["val_loss"]), "losses must be Python floats"
    assert len(out["train_loss"]) == epochs, f"{len(out['train_loss'])} train losses for {epochs} epochs"
    for e in range(epochs):
        batches = [(value, size) for epoch, value, size, _ in loss.batches if epoch == e]
        assert sum(size for _, size in batches) == len(train[0]), f"epoch {e} did not see every example once"
        mean = sum(value * size for value, size in batches) / sum(size for _, size in batches)
        assert math.isclose(out["train_loss"][e], mean, rel_tol=1e-12), (
            f"train_loss[{e}] is not the weighted mean"
        )
    assert all(training for *_, training in loss.batches), "training batches must run in train mode"
    assert loss.val_training_flags == [False] * epochs, "validation must run in eval mode"
    final = model.state_dict()
    for key, value in loss.snapshots[best].items():
        assert torch.equal(final[key], value), f"{key} is not the state at the end of best epoch {best}"
