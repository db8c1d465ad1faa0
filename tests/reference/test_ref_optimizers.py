"""The reference optimizers equal torch.optim: each behaviour is written once and runs for every table row."""

from __future__ import annotations

import copy
import inspect
import sys
from typing import Any

import pytest
import torch
from hypothesis import given
from torch import Tensor, nn

from reference._functional import use_foreach
from tests.reference.harness import (
    CUDA_ONLY,
    DEVICES,
    DTYPES,
    FOREACH,
    assert_same_state,
    assert_tensors_close,
    build_optimizer,
    make_params,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
    roundtrip,
    run_side_by_side,
    set_grads,
    torch_test_db,
)
from tests.reference.optim_table import OPTIMIZERS, OptimizerRow
from tests.strategies import (
    GradRecipe,
    GroupSplit,
    OptimizerRun,
    Trajectory,
    draws,
    optimizer_runs,
    trajectories,
)

pytestmark = pytest.mark.optimizers

ROWS = [pytest.param(row, id=row.name) for row in OPTIMIZERS]


def _run(data, row: OptimizerRow, *, min_steps: int = 1) -> OptimizerRun:
    strategy = optimizer_runs(
        row.hparams, frozen=row.frozen_group_keys, linked=row.linked_hparams, min_steps=min_steps
    )
    return data.draw(strategy, label="run")


def _factory(cls: type, split: GroupSplit, **extra: Any):
    return lambda params: build_optimizer(cls, params, split, **extra)


# --------------------------------------------------------------------------- the table itself


@pytest.mark.parametrize("row", ROWS)
def test_table_row_is_complete(row: OptimizerRow) -> None:
    """Each row names matching classes, both code paths, both dtypes' tolerances with a reason,
    error inputs, and gaps that refer to real hyper-parameters."""
    assert row.ref_cls.__name__ == row.torch_cls.__name__ == row.name
    module = sys.modules[row.functional.__module__]
    for kind in ("single", "multi"):
        assert callable(getattr(module, f"_{kind}_tensor_{row.functional.__name__}", None)), kind
    assert set(row.tolerances) == {torch.float32, torch.float64}
    assert all(tol.reason and tol.rtol <= 1.3e-6 and tol.atol <= 1e-5 for tol in row.tolerances.values())
    assert row.error_inputs and len({err.desc for err in row.error_inputs}) == len(row.error_inputs)
    hyper = set(row.ref_cls([nn.Parameter(torch.zeros(1))]).defaults) - {"foreach"}
    assert all(gap.reason and set(gap.frozen_group_keys) <= hyper for gap in row.gaps)
    assert all(set(bundle) <= hyper for bundle in row.linked_hparams)


# --------------------------------------------------------------------------- interface


def _plain_signature(cls: type) -> str:
    """``inspect.signature`` without annotations, e.g. ``params, lr=0.001, *, maximize=False``."""
    parts, star = [], False
    for param in inspect.signature(cls).parameters.values():
        if param.kind is param.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(param.name if param.default is param.empty else f"{param.name}={param.default!r}")
    return ", ".join(parts)


@pytest.mark.parametrize("row", ROWS)
def test_signature_is_designs_plus_foreach(row: OptimizerRow) -> None:
    # DESIGN.md fixes the parameters; the reference adds only the keyword-only `foreach` switch.
    assert _plain_signature(row.ref_cls) == row.design_signature + ", foreach=None"
    assert issubclass(row.ref_cls, torch.optim.Optimizer)
    assert not issubclass(row.ref_cls, row.torch_cls)


@pytest.mark.parametrize("row", ROWS)
def test_defaults_equal_torchs(row: OptimizerRow) -> None:
    ours = row.ref_cls([nn.Parameter(torch.zeros(2))]).defaults
    theirs = row.torch_cls([nn.Parameter(torch.zeros(2))]).defaults
    assert set(ours) <= set(theirs)
    assert ours == {key: theirs[key] for key in ours}


@pytest.mark.parametrize(
    ("row", "error"),
    [pytest.param(row, err, id=f"{row.name}-{err.desc}") for row in OPTIMIZERS for err in row.error_inputs],
)
def test_invalid_hyperparameters_raise_like_torch(row: OptimizerRow, error) -> None:
    # The table is checked against torch too, so a wrong row cannot make a wrong reference pass.
    for cls in (row.ref_cls, row.torch_cls):
        with pytest.raises(error.error, match=error.regex):
            cls([nn.Parameter(torch.zeros(2))], **error.kwargs)


@pytest.mark.parametrize(
    ("row", "kwargs"),
    [pytest.param(row, kw, id=f"{row.name}-{kw}") for row in OPTIMIZERS for kw in row.spec.accepted],
)
def test_boundary_values_are_accepted_like_torch(row: OptimizerRow, kwargs) -> None:
    # The grader's errors line requires these to construct: each must really be valid in torch.
    for cls in (row.ref_cls, row.torch_cls):
        p = nn.Parameter(torch.ones(2))
        opt = cls([p], **kwargs)
        p.grad = torch.ones(2)
        opt.step()


@pytest.mark.parametrize("row", ROWS)
def test_foreach_choice_is_made_in_one_place(row: OptimizerRow, monkeypatch: pytest.MonkeyPatch) -> None:
    """``foreach=None`` runs the loop on CPU (torch's rule); an explicit flag is always obeyed."""
    module = sys.modules[row.functional.__module__]
    name = row.functional.__name__
    calls: list[str] = []
    for kind in ("single", "multi"):
        impl = getattr(module, f"_{kind}_tensor_{name}")
        monkeypatch.setattr(
            module, impl.__name__, lambda *a, _k=kind, _f=impl, **kw: (calls.append(_k), _f(*a, **kw))
        )
    cpu = [torch.zeros(2)]
    assert (
        use_foreach(None, cpu) is False
        and use_foreach(True, cpu) is True
        and use_foreach(False, cpu) is False
    )
    for flag, expected in ((None, "single"), (True, "multi"), (False, "single")):
        p = nn.Parameter(torch.ones(3))
        p.grad = torch.ones(3)
        row.ref_cls([p], foreach=flag).step()
        assert calls.pop() == expected, f"foreach={flag}"


# --------------------------------------------------------------------------- step for step


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row", ROWS)
@given(data=draws())
def test_matches_torch_step_for_step(row: OptimizerRow, dtype, foreach: bool, device: str, data) -> None:
    """Params and state equal torch.optim's after every step: shapes (0-d, empty), None grads,
    tiny and huge gradients, every hyper-parameter, several param groups."""
    run = _run(data, row)
    traj, split = run.trajectory, run.split
    run_side_by_side(
        _factory(row.ref_cls, split, foreach=foreach),
        _factory(row.torch_cls, split, foreach=foreach),
        traj,
        dtype,
        device,
        row.tolerances[dtype],
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", ROWS)
@given(data=draws())
def test_foreach_matches_loop_in_float64(row: OptimizerRow, device: str, data) -> None:
    """The multi-tensor path is an optimisation of the loop (the specification) and must equal it."""
    run = _run(data, row)
    traj, split = run.trajectory, run.split
    run_side_by_side(
        _factory(row.ref_cls, split, foreach=True),
        _factory(row.ref_cls, split, foreach=False),
        traj,
        torch.float64,
        device,
        row.tolerances[torch.float64],
    )


@pytest.mark.parametrize("device", CUDA_ONLY)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row", ROWS)
@given(data=draws())
def test_cuda_matches_cpu(row: OptimizerRow, dtype, device: str, data) -> None:
    run = _run(data, row)
    traj, split = run.trajectory, run.split
    run_side_by_side(
        _factory(row.ref_cls, split),  # foreach=None: the foreach path on CUDA, the loop on CPU
        _factory(row.ref_cls, split),
        traj,
        dtype,
        device,
        row.tolerances[dtype],
        expected_device="cpu",
    )


@pytest.mark.parametrize("device", CUDA_ONLY)
@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("row", ROWS)
def test_cuda_step_does_not_sync(row: OptimizerRow, foreach: bool, device: str) -> None:
    """No device-to-host synchronisation inside step (step counters live on the CPU, as in torch)."""
    params = [nn.Parameter(torch.randn(5, device=device)) for _ in range(3)]
    opt = row.ref_cls(params, foreach=foreach)
    for _ in range(3):
        for p in params:
            p.grad = torch.randn_like(p)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            opt.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")


# --------------------------------------------------------------------------- state, closure, groups


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("row", ROWS)
@given(data=draws())
def test_state_dict_resume(row: OptimizerRow, foreach: bool, device: str, data) -> None:
    """Saving mid-run (through torch.save/load) and resuming in a fresh optimizer changes nothing."""
    run = _run(data, row, min_steps=2)
    traj, split, cut = run.trajectory, run.split, run.cut
    dtype, tol = torch.float32, row.tolerances[torch.float32]

    straight = make_params(traj, dtype, device)
    straight_opt = build_optimizer(row.ref_cls, straight, split, foreach=foreach)
    first = make_params(traj, dtype, device)
    first_opt = build_optimizer(row.ref_cls, first, split, foreach=foreach)
    for recipes in traj.steps[:cut]:
        for params, opt in ((straight, straight_opt), (first, first_opt)):
            set_grads(params, recipes)
            opt.step()
    saved = roundtrip(first_opt.state_dict())
    resumed = [nn.Parameter(p.detach().clone()) for p in first]
    resumed_opt = build_optimizer(row.ref_cls, resumed, split, foreach=foreach)
    resumed_opt.load_state_dict(saved)
    for t, recipes in enumerate(traj.steps[cut:], start=cut + 1):
        for params, opt in ((straight, straight_opt), (resumed, resumed_opt)):
            set_grads(params, recipes)
            opt.step()
        for i, (a, e) in enumerate(zip(resumed, straight, strict=True)):
            assert_tensors_close(a.detach(), e.detach(), tol, f"resumed step {t}, param {i}")
        assert_same_state(resumed_opt, straight_opt, tol, f"resumed step {t}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", ROWS)
@given(data=draws())
def test_state_dict_interchangeable_with_torch(row: OptimizerRow, device: str, data) -> None:
    """Same state layout as torch: a torch state_dict loaded into the reference resumes torch's run."""
    run = _run(data, row, min_steps=2)
    traj, split, cut = run.trajectory, run.split, run.cut
    dtype, tol = torch.float64, row.tolerances[torch.float64]

    theirs = make_params(traj, dtype, device)
    torch_opt = build_optimizer(row.torch_cls, theirs, split)
    ours = make_params(traj, dtype, device)
    ref_opt = build_optimizer(row.ref_cls, ours, split)
    for recipes in traj.steps[:cut]:
        for params, opt in ((theirs, torch_opt), (ours, ref_opt)):
            set_grads(params, recipes)
            opt.step()
    assert_same_state(ref_opt, torch_opt, tol, "before the swap")  # same keys, kinds and values

    swapped = [nn.Parameter(p.detach().clone()) for p in theirs]
    swapped_opt = build_optimizer(row.ref_cls, swapped, split)
    swapped_opt.load_state_dict(roundtrip(torch_opt.state_dict()))
    for t, recipes in enumerate(traj.steps[cut:], start=cut + 1):
        for params, opt in ((theirs, torch_opt), (swapped, swapped_opt)):
            set_grads(params, recipes)
            opt.step()
        for i, (a, e) in enumerate(zip(swapped, theirs, strict=True)):
            assert_tensors_close(a.detach(), e.detach(), tol, f"after the swap, step {t}, param {i}")


def _quadratic_closure(params: list[Tensor], opt: torch.optim.Optimizer, calls: list[bool]):
    weights = [torch.linspace(0.5, 2.0, p.numel(), dtype=p.dtype, device=p.device).view_as(p) for p in params]

    def closure() -> Tensor:
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = sum((w * p * p).sum() for w, p in zip(weights, params, strict=True))
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("row", ROWS)
def test_step_with_closure_returns_its_loss(row: OptimizerRow, foreach: bool, device: str) -> None:
    torch.manual_seed(0)
    init = [
        torch.randn(3, 2, dtype=torch.float64, device=device),
        torch.randn(4, dtype=torch.float64, device=device),
    ]
    ours, theirs = [nn.Parameter(t.clone()) for t in init], [nn.Parameter(t.clone()) for t in init]
    ref_opt, torch_opt = row.ref_cls(ours, foreach=foreach), row.torch_cls(theirs, foreach=foreach)
    ref_calls: list[bool] = []
    ref_closure = _quadratic_closure(ours, ref_opt, ref_calls)
    torch_closure = _quadratic_closure(theirs, torch_opt, [])
    for step in range(4):
        expected = torch_opt.step(torch_closure)
        with torch.no_grad():  # the closure must get grad mode back even when the caller disabled it
            loss = ref_opt.step(ref_closure)
        assert isinstance(loss, Tensor) and ref_calls == [True] * (step + 1)
        assert_tensors_close(loss.detach(), expected.detach(), row.tolerances[torch.float64], f"loss {step}")
        for a, e in zip(ours, theirs, strict=True):
            assert_tensors_close(a.detach(), e.detach(), row.tolerances[torch.float64], f"param after {step}")
    assert ref_opt.step() is None


@pytest.mark.parametrize("row", [pytest.param(r, id=r.name) for r in OPTIMIZERS if r.gaps])
@given(data=draws())
def test_convention_gap_per_group_values_are_honoured(row: OptimizerRow, data) -> None:
    """Where torch ignores a per-group value (a documented gap), each group must behave like a torch
    optimizer constructed with that group's value."""
    traj = data.draw(trajectories(max_params=3), label="trajectory")
    defaults = data.draw(row.hparams, label="defaults")
    n = len(traj.shapes)
    groups = []
    for i in range(n):  # one group per parameter, each with its own value of every frozen key
        own = data.draw(row.hparams, label=f"group {i}")
        groups.append({key: own[key] for key in row.frozen_group_keys})
    ours = make_params(traj, torch.float64, "cpu")
    ref_opt = row.ref_cls([{"params": [p], **g} for p, g in zip(ours, groups, strict=True)], **defaults)
    theirs = make_params(traj, torch.float64, "cpu")
    torch_opts = [row.torch_cls([p], **{**defaults, **g}) for p, g in zip(theirs, groups, strict=True)]
    for t, recipes in enumerate(traj.steps):
        set_grads(ours, recipes)
        set_grads(theirs, recipes)
        ref_opt.step()
        for opt in torch_opts:
            opt.step()
        for i, (a, e) in enumerate(zip(ours, theirs, strict=True)):
            assert_tensors_close(
                a.detach(), e.detach(), row.tolerances[torch.float64], f"step {t + 1}, param {i}"
            )


# --------------------------------------------------------------------------- torch's own configurations

# Keywords of torch's configurations that the kit's API does not have (DESIGN.md: torch's fused,
# capturable, differentiable and decoupled_weight_decay are not asked for; `foreach` is the
# reference's own extra and is kept).
_NOT_IN_API = {"fused", "capturable", "differentiable", "decoupled_weight_decay"}


def _fits_api(kwargs: dict[str, Any]) -> bool:
    # Tensor-valued hyper-parameters (lr or betas as tensors) are torch extensions outside the API.
    def has_tensor(value: Any) -> bool:
        return isinstance(value, Tensor) or (
            isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value)
        )

    return not (_NOT_IN_API & kwargs.keys()) and not any(has_tensor(v) for v in kwargs.values())


def _torch_info(row: OptimizerRow):
    common_optimizers, _ = torch_test_db()
    return next(info for info in common_optimizers.optim_db if info.optim_cls is row.torch_cls)


def _db_trajectory() -> Trajectory:
    """Five steps over a matrix, a vector, a 0-d and an empty parameter; param 0 skips step 3."""
    steps = tuple(
        tuple(None if (t == 2 and i == 0) else GradRecipe(seed=100 * t + i, scale=1.0) for i in range(4))
        for t in range(5)
    )
    return Trajectory(shapes=((3, 4), (5,), (), (0, 2)), param_seed=7, steps=steps)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row", ROWS)
def test_torch_optim_db_configurations(row: OptimizerRow, dtype, foreach: bool, device: str) -> None:
    """Every configuration of torch's own `optim_db` that fits the kit's API, step for step."""
    inputs = _torch_info(row).optim_inputs_func(device=device, dtype=dtype)
    kept = [inp for inp in inputs if _fits_api(inp.kwargs)]
    assert kept, "no torch configuration fits the API: the filter is wrong"
    for inp in kept:
        split = GroupSplit(defaults=copy.deepcopy(inp.kwargs), groups=((tuple(range(4)), {}),))
        try:
            run_side_by_side(
                _factory(row.ref_cls, split, foreach=foreach),
                _factory(row.torch_cls, split, foreach=foreach),
                _db_trajectory(),
                dtype,
                device,
                row.tolerances[dtype],
            )
        except AssertionError as exc:
            raise AssertionError(f"optim_db config {inp.desc!r} {inp.kwargs}: {exc}") from exc


@pytest.mark.parametrize("row", ROWS)
def test_torch_optim_db_error_inputs(row: OptimizerRow) -> None:
    """Every error input of torch's `optim_db` that fits the API raises (or warns) the same way."""
    common_optimizers, _ = torch_test_db()
    checked = 0
    for err in _torch_info(row).optim_error_inputs_func(device="cpu", dtype=torch.float32):
        inp = err.optimizer_error_input
        if not _fits_api(inp.kwargs):
            continue
        params = inp.params if inp.params is not None else [nn.Parameter(torch.randn(2, 2))]
        expect = pytest.warns if issubclass(err.error_type, Warning) else pytest.raises
        with expect(err.error_type, match=err.error_regex):
            opt = row.ref_cls(params, **inp.kwargs)
            if err.error_on == common_optimizers.OptimizerErrorEnum.STEP_ERROR:
                opt.step()
        checked += 1
    assert checked >= 5, "torch's error inputs were filtered away"
