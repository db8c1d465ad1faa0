"""BatchNormFunction's hand-written backward is right, and BatchNorm1d/2d behave exactly like torch's."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given
from torch import nn

import reference
import reference.batchnorm
from tests.reference.harness import (
    DEVICES,
    DTYPES,
    Tol,
    assert_gradcheck,
    batchnorm_forward_backward,
    batchnorm_input,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
    torch_test_db,
)
from tests.strategies import BatchNormCase, batchnorm_cases, batchnorm_function_cases, draws

pytestmark = pytest.mark.regularization

# (reference class, torch class, accepted numbers of dims after (N, C))
LAYERS = [
    pytest.param(reference.BatchNorm1d, nn.BatchNorm1d, (0, 1), id="BatchNorm1d"),
    pytest.param(reference.BatchNorm2d, nn.BatchNorm2d, (2,), id="BatchNorm2d"),
]
# torch normalises with its own fused kernels (Welford statistics, scale-and-shift form), the
# reference with var_mean and the textbook formula: a few ulps apart, inside torch's defaults.
BN_TOLS = {
    torch.float32: Tol(1.3e-6, 1e-5, "torch's assertEqual default for float32 (test_modules)"),
    torch.float64: Tol(1e-7, 1e-7, "torch's assertEqual default for float64 (test_modules)"),
}


# --------------------------------------------------------------------------- the autograd Function


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (3, 2, 3, 2)], ids=["2d", "3d", "4d"])
@pytest.mark.parametrize(
    ("with_weight", "with_bias"), [(True, True), (False, False), (True, False), (False, True)]
)
def test_function_passes_gradcheck(shape, with_weight: bool, with_bias: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    channels = shape[1]
    weight = (
        torch.randn(channels, generator=gen, dtype=torch.float64, requires_grad=True) if with_weight else None
    )
    bias = (
        torch.randn(channels, generator=gen, dtype=torch.float64, requires_grad=True) if with_bias else None
    )
    inputs = tuple(t for t in (x, weight, bias) if t is not None)

    def fn(*args):
        it = iter(args)
        return reference.BatchNormFunction.apply(
            next(it), next(it) if with_weight else None, next(it) if with_bias else None, 1e-5
        )

    assert_gradcheck(fn, inputs, f"BatchNormFunction {shape} weight={with_weight} bias={with_bias}")


@given(case=batchnorm_function_cases())
def test_function_gradcheck_on_generated_shapes(case) -> None:
    shape, seed = case
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(shape[1], generator=gen, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(shape[1], generator=gen, dtype=torch.float64, requires_grad=True)
    assert_gradcheck(
        lambda *a: reference.BatchNormFunction.apply(*a, 1e-3),
        (x, weight, bias),
        f"BatchNormFunction {shape}",
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_function_forward_is_batch_normalisation(dtype, device: str) -> None:
    """Biased variance, statistics over every dim but 1, optional affine: compared with the formula."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 2, 5, generator=gen, dtype=torch.float64) * 2 + 1
    w, b = (
        torch.randn(3, generator=gen, dtype=torch.float64),
        torch.randn(3, generator=gen, dtype=torch.float64),
    )
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-5) * w.view(1, 3, 1, 1) + b.view(1, 3, 1, 1)
    to = {"dtype": dtype, "device": device}
    got = reference.BatchNormFunction.apply(x.to(**to), w.to(**to), b.to(**to), 1e-5)
    torch.testing.assert_close(got, expected.to(**to))


# --------------------------------------------------------------------------- the modules


def _pair(ref_cls, torch_cls, case: BatchNormCase, dtype, device):
    ours = ref_cls(case.num_features, case.eps, case.momentum, case.affine, case.track_running_stats)
    theirs = torch_cls(case.num_features, case.eps, case.momentum, case.affine, case.track_running_stats)
    if case.affine:  # non-trivial affine parameters, the same on both sides
        gen = torch.Generator().manual_seed(case.num_features)
        with torch.no_grad():
            for p in (theirs.weight, theirs.bias):
                p.copy_(torch.randn(p.shape, generator=gen))
        ours.load_state_dict(theirs.state_dict())
    return ours.to(device=device, dtype=dtype), theirs.to(device=device, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("ref_cls", "torch_cls", "extra_dims"), LAYERS)
@given(data=draws())
def test_module_matches_torch(ref_cls, torch_cls, extra_dims, dtype, device: str, data) -> None:
    """Outputs, input/weight/bias grads, running stats and num_batches_tracked equal torch's after
    every call of a train/eval sequence (momentum=None, affine=False, no running stats included)."""
    case = data.draw(batchnorm_cases(extra_dims), label="case")
    ours, theirs = _pair(ref_cls, torch_cls, case, dtype, device)
    for k, (training, shape, seed, scale, shift) in enumerate(case.calls):
        ours.train(training)
        theirs.train(training)
        x = batchnorm_input(shape, seed, scale, shift, dtype, device).requires_grad_()
        batchnorm_forward_backward(
            ours, theirs, x, BN_TOLS[dtype], f"call {k} ({'train' if training else 'eval'})"
        )


@pytest.mark.parametrize(("ref_cls", "torch_cls", "extra_dims"), LAYERS)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_parameters_buffers_and_state_dict_keys_are_torchs(
    ref_cls, torch_cls, extra_dims, affine, track
) -> None:
    ours, theirs = (
        ref_cls(3, affine=affine, track_running_stats=track),
        torch_cls(3, affine=affine, track_running_stats=track),
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        a, e = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (e is None), name
        if e is not None:
            assert torch.equal(a, e) and a.dtype == e.dtype, name
    assert ours.state_dict()._metadata[""]["version"] == theirs.state_dict()._metadata[""]["version"]
    assert isinstance(ours, nn.Module) and not isinstance(ours, nn.modules.batchnorm._NormBase)
    # Checkpoints move between the two in both directions.
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())


@pytest.mark.parametrize(("ref_cls", "torch_cls", "extra_dims"), LAYERS)
def test_training_uses_the_module_level_function(ref_cls, torch_cls, extra_dims, monkeypatch) -> None:
    """Training goes through `reference.batchnorm.BatchNormFunction` (a grader substitutes it);
    evaluation with running statistics does not."""
    calls = []

    class Spy(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias, eps):
            calls.append(x.shape)
            return x.clone()

        @staticmethod
        def backward(ctx, dy):
            return dy, None, None, None

    monkeypatch.setattr(reference.batchnorm, "BatchNormFunction", Spy)
    module = ref_cls(3)
    x = torch.randn((4, 3, *[2] * max(extra_dims)))
    module(x)
    assert calls == [x.shape]
    module.eval()
    module(x)
    assert calls == [x.shape]


def _bad_inputs(ref_cls, extra_dims):
    wrong_ranks = [r for r in range(1, 6) if r - 2 not in extra_dims]
    one_value = [(1, 3, *[1] * n) for n in extra_dims]
    return wrong_ranks, one_value


@pytest.mark.parametrize(("ref_cls", "torch_cls", "extra_dims"), LAYERS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("track", [True, False])
def test_errors_are_torchs(ref_cls, torch_cls, extra_dims, training: bool, track: bool) -> None:
    """Wrong rank, one value per channel (whenever batch statistics are used) and bad eps raise
    torch's exception type with torch's message, under the same conditions."""
    wrong_ranks, one_value = _bad_inputs(ref_cls, extra_dims)
    modules = [cls(3, track_running_stats=track).train(training) for cls in (ref_cls, torch_cls)]
    cases = [torch.randn((2, 3, 2, 2, 2)[:rank]) for rank in wrong_ranks] + [
        torch.randn(s) for s in one_value
    ]
    for x in cases:
        outcomes = []
        for module in modules:
            try:
                module(x)
                outcomes.append(None)
            except Exception as exc:  # compare whatever torch does, including "no error"
                outcomes.append((type(exc), str(exc)))
        assert outcomes[0] == outcomes[1], f"input {tuple(x.shape)}: {outcomes}"
    for eps in (0.0, -1.0):
        for module in modules:
            module.eps = eps
        x = torch.randn((4, 3, *[2] * max(extra_dims)))
        outcomes = []
        for module in modules:
            try:
                module(x)
                outcomes.append(None)
            except ValueError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], f"eps={eps}: {outcomes}"


@pytest.mark.parametrize(("ref_cls", "torch_cls", "extra_dims"), LAYERS)
def test_momentum_none_is_the_cumulative_average(ref_cls, torch_cls, extra_dims) -> None:
    module = ref_cls(2, momentum=None).double()
    batches = [torch.randn((5, 2, *[3] * max(extra_dims)), dtype=torch.float64) for _ in range(4)]
    for x in batches:
        module(x)
    dims = [d for d in range(batches[0].dim()) if d != 1]
    expected_mean = torch.stack([x.mean(dims) for x in batches]).mean(0)
    expected_var = torch.stack([x.var(dims, unbiased=True) for x in batches]).mean(0)
    torch.testing.assert_close(module.running_mean, expected_mean)
    torch.testing.assert_close(module.running_var, expected_var)
    assert module.num_batches_tracked.item() == 4


# --------------------------------------------------------------------------- torch's module_db

_CLASSES = {nn.BatchNorm1d: reference.BatchNorm1d, nn.BatchNorm2d: reference.BatchNorm2d}


def _module_infos():
    _, common_modules = torch_test_db()
    return [info for info in common_modules.module_db if info.module_cls in _CLASSES]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_module_db_inputs(dtype, device: str) -> None:
    """Every BatchNorm1d/2d input of torch's `module_db` that fits the kit's constructor, in
    training (twice, so running stats are used) and in eval."""
    checked = 0
    for info in _module_infos():
        for training in (True, False):
            inputs = info.module_inputs_func(
                info, device=device, dtype=dtype, requires_grad=True, training=training
            )
            for inp in inputs:
                args, kwargs = inp.constructor_input.args, inp.constructor_input.kwargs
                if "bias" in kwargs:  # torch 2.x's keyword-only `bias=False` is not in the kit's API
                    continue
                theirs = info.module_cls(*args, **kwargs).to(device=device, dtype=dtype)
                ours = _CLASSES[info.module_cls](*args, **kwargs).to(device=device, dtype=dtype)
                x = inp.forward_input.args[0]
                for call in range(2):
                    ours.train(training)
                    theirs.train(training)
                    what = (
                        f"{info.module_cls.__name__} {inp.desc or 'default'} training={training} call {call}"
                    )
                    batchnorm_forward_backward(ours, theirs, x, BN_TOLS[dtype], what)
                checked += 1
    assert checked >= 20


def test_torch_module_db_error_inputs() -> None:
    _, common_modules = torch_test_db()
    checked = 0
    for info in _module_infos():
        errors = info.module_error_inputs_func(
            info, device="cpu", dtype=torch.float32, requires_grad=False, training=True
        )
        for err in errors:
            inp = err.module_error_input
            with pytest.raises(err.error_type, match=err.error_regex):
                module = _CLASSES[info.module_cls](
                    *inp.constructor_input.args, **inp.constructor_input.kwargs
                )
                if err.error_on == common_modules.ModuleErrorEnum.FORWARD_ERROR:
                    module(*inp.forward_input.args, **inp.forward_input.kwargs)
            checked += 1
    assert checked >= 4


def test_state_is_deep_copied_with_the_module() -> None:
    module = reference.BatchNorm1d(2)
    clone = copy.deepcopy(module)
    module(torch.randn(4, 2))
    assert clone.num_batches_tracked.item() == 0 and module.num_batches_tracked.item() == 1
