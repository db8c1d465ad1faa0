"""Every hypothesis strategy of the kit's tests, and the hypothesis settings profiles.

Tests import strategies from here, and this module takes the optimizers' hyper-parameter spaces from
the kit's one home of strategies (``autograder/families/strategies.py``), where the grader's own
spaces sit beside them; what only the tests draw (trajectories, param-group splits, layer cases) is
built here. Profiles are
deterministic (``derandomize=True``, no example database, no deadline) so that two runs, on a
laptop or in CI, try the same examples. ``HYPOTHESIS_PROFILE=thorough`` runs many more of them.

Strategies draw *recipes* (shapes, seeds, scales, hyper-parameters), never tensor elements:
tensors are made from the seeds with a CPU ``torch.Generator`` and then moved to the device under
test, so the same example gives the same numbers on CPU and CUDA, and shrinking stays cheap.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from autograder.families.strategies import (  # noqa: F401  (re-exported: the optimizers' hyper-parameters)
    adagrad_hparams,
    adam_hparams,
    finite_floats,
    rmsprop_hparams,
    sgd_hparams,
)

# --------------------------------------------------------------------------- settings profiles

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    print_blob=False,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=300)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def load_kit_profile() -> None:
    """(Re)activate the kit's profile.

    Call it again after importing code that loads a profile of its own: importing
    ``torch.testing._internal.common_utils`` switches hypothesis to torch's non-derandomized "dev".
    """
    settings.load_profile(PROFILE)


load_kit_profile()

# --------------------------------------------------------------------------- building blocks

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)

# Gradient magnitudes from tiny to huge. Kept inside what float32 squares without overflow
# (1e6**2 = 1e12), so every optimizer stays finite and comparisons remain meaningful.
GRAD_SCALES = st.sampled_from([1e-6, 1e-3, 1.0, 1e3, 1e6])


def shapes(max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Tensor shapes, 0-d ``()`` and empty ones (a zero side) included."""
    return st.lists(st.integers(0, max_side), max_size=max_dims).map(tuple)


# --------------------------------------------------------------------------- optimizers


@dataclass(frozen=True)
class GradRecipe:
    """One gradient tensor: standard normal values from ``seed``, times ``scale``."""

    seed: int
    scale: float


@dataclass(frozen=True)
class Trajectory:
    """Parameters and the gradient of every parameter at every step (``None``: no grad that step)."""

    shapes: tuple[tuple[int, ...], ...]
    param_seed: int
    steps: tuple[tuple[GradRecipe | None, ...], ...]


@st.composite
def trajectories(draw: st.DrawFn, max_params: int = 4, min_steps: int = 1, max_steps: int = 6) -> Trajectory:
    """Parameter shapes and gradient sequences, with ``None`` grads and mixed magnitudes."""
    param_shapes = tuple(draw(st.lists(shapes(), min_size=1, max_size=max_params)))
    n_steps = draw(st.integers(min_steps, max_steps))
    grad = st.builds(GradRecipe, SEEDS, GRAD_SCALES)
    # About one grad in five is None: that parameter skips the step (and may never get state).
    maybe_grad = st.one_of(st.none(), grad, grad, grad, grad)
    steps = tuple(
        tuple(draw(st.lists(maybe_grad, min_size=len(param_shapes), max_size=len(param_shapes))))
        for _ in range(n_steps)
    )
    return Trajectory(param_shapes, draw(SEEDS), steps)


@dataclass(frozen=True)
class GroupSplit:
    """Constructor keywords and the param groups: ``groups[i] = (param indices, group overrides)``."""

    defaults: dict[str, Any]
    groups: tuple[tuple[tuple[int, ...], dict[str, Any]], ...]


@st.composite
def group_splits(
    draw: st.DrawFn,
    n_params: int,
    hparams: st.SearchStrategy[dict[str, Any]],
    frozen: tuple[str, ...] = (),
    linked: tuple[tuple[str, ...], ...] = (),
) -> GroupSplit:
    """Split ``n_params`` parameters into 1-3 non-empty groups, each overriding some hyper-parameters.

    Keys in ``frozen`` are never overridden per group (a documented torch gap, see the optimizer
    table); each tuple in ``linked`` is overridden all together or not at all (SGD's Nesterov needs
    its own momentum and dampening to stay valid).
    """
    defaults = draw(hparams)
    n_groups = draw(st.integers(1, min(3, n_params)))
    order = draw(st.permutations(range(n_params)))
    cuts = []
    if n_groups > 1:
        inner = st.integers(1, n_params - 1)
        cuts = sorted(draw(st.sets(inner, min_size=n_groups - 1, max_size=n_groups - 1)))
    bounds = [0, *cuts, n_params]
    units = [tuple(bundle) for bundle in linked]
    units += [(key,) for key in sorted(defaults) if not any(key in bundle for bundle in linked)]
    units = [unit for unit in units if not set(unit) & set(frozen)]
    groups = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        candidate = draw(hparams)
        chosen = draw(st.lists(st.sampled_from(units), unique=True)) if units else []
        overrides = {key: candidate[key] for unit in chosen for key in unit}
        groups.append((tuple(sorted(order[lo:hi])), overrides))
    return GroupSplit(defaults, tuple(groups))


@dataclass(frozen=True)
class OptimizerRun:
    """A trajectory, its param-group split, and a step after which a run may be saved and resumed."""

    trajectory: Trajectory
    split: GroupSplit
    cut: int  # 1 <= cut < len(steps) when there are two steps or more, else 0


@st.composite
def optimizer_runs(
    draw: st.DrawFn,
    hparams: st.SearchStrategy[dict[str, Any]],
    *,
    frozen: tuple[str, ...] = (),
    linked: tuple[tuple[str, ...], ...] = (),
    min_steps: int = 1,
    max_params: int = 4,
) -> OptimizerRun:
    """Everything one optimizer comparison needs: see :func:`trajectories` and :func:`group_splits`."""
    traj = draw(trajectories(max_params=max_params, min_steps=min_steps))
    split = draw(group_splits(len(traj.shapes), hparams, frozen=frozen, linked=linked))
    cut = draw(st.integers(1, len(traj.steps) - 1)) if len(traj.steps) > 1 else 0
    return OptimizerRun(traj, split, cut)


def draws() -> st.SearchStrategy[st.DataObject]:
    """Interactive draws, for tests whose strategy depends on a pytest parameter (an optimizer row).

    Tests draw only strategies of this module with it.
    """
    return st.data()


# --------------------------------------------------------------------------- layers


@st.composite
def batchnorm_function_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], int]:
    """(shape, seed) for gradcheck: 2-D to 4-D inputs with a batch of 2 or 3, so every channel has
    two values or more (with one value the variance is 0 and there is no derivative to check)."""
    rank = draw(st.integers(2, 4))
    rest = draw(st.lists(st.integers(1, 3), min_size=rank - 1, max_size=rank - 1))
    return (draw(st.integers(2, 3)), *rest), draw(SEEDS)


@dataclass(frozen=True)
class BatchNormCase:
    """A BatchNorm module configuration and a sequence of (mode, input) forward calls."""

    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    # One (training, shape, seed, scale, shift) per forward call.
    calls: tuple[tuple[bool, tuple[int, ...], int, float, float], ...]


@st.composite
def batchnorm_cases(draw: st.DrawFn, extra_dims: tuple[int, ...]) -> BatchNormCase:
    """BatchNorm configurations and calls; ``extra_dims``: accepted numbers of dims after (N, C).

    No call has exactly one value per channel (torch raises whenever it would use batch statistics;
    that is tested separately), but an empty batch may appear. Inputs get a scale and a shift so that badly
    conditioned batches (large mean, small spread) appear too.
    """
    channels = draw(st.integers(1, 4))
    calls = []
    for _ in range(draw(st.integers(1, 4))):
        training = draw(st.booleans())
        n_extra = draw(st.sampled_from(extra_dims))
        extra = draw(st.lists(st.integers(1, 3), min_size=n_extra, max_size=n_extra))
        batch = draw(st.integers(0, 5))
        if batch * math.prod(extra) == 1:  # batch statistics (training, or no running stats) need 2+
            batch = 2
        scale = draw(st.sampled_from([1e-2, 1.0, 1e2]))
        shift = draw(st.sampled_from([0.0, 3.0]))
        calls.append((training, (batch, channels, *extra), draw(SEEDS), scale, shift))
    return BatchNormCase(
        num_features=channels,
        eps=draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        momentum=draw(st.one_of(st.none(), finite_floats(0.0, 1.0))),
        affine=draw(st.booleans()),
        track_running_stats=draw(st.booleans()),
        calls=tuple(calls),
    )


def dropout_probabilities() -> st.SearchStrategy[float]:
    """Valid drop probabilities, the two ends included."""
    return st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), finite_floats(0.0, 1.0))


def invalid_dropout_probabilities() -> st.SearchStrategy[float]:
    """Drop probabilities outside [0, 1]."""
    return st.one_of(finite_floats(-10.0, -1e-9), finite_floats(1.0 + 1e-9, 10.0))


# --------------------------------------------------------------------------- gradient descent


def scheduler_cases() -> st.SearchStrategy[tuple[float, tuple[float, ...], int]]:
    """(power, base lr of each param group, number of scheduler steps)."""
    return st.tuples(
        st.one_of(st.sampled_from([0.0, 0.3, 0.5, 1.0]), finite_floats(0.0, 3.0)),
        st.lists(finite_floats(1e-4, 1.0), min_size=1, max_size=3).map(tuple),
        st.integers(0, 40),
    )


def minibatch_cases() -> st.SearchStrategy[tuple[int, int, int]]:
    """(n, batch_size, generator seed); batch sizes below, at and above n."""
    return st.tuples(st.integers(0, 50), st.integers(1, 60), SEEDS)


@st.composite
def scripted_val_losses(draw: st.DrawFn) -> tuple[tuple[float, ...], int, int]:
    """(validation loss of each epoch, patience, max_epochs) for early-stopping checks.

    Losses come from a small set so that ties (no *strict* improvement) are frequent.
    """
    max_epochs = draw(st.integers(1, 8))
    values = st.sampled_from([0.5, 1.0, 1.5, 2.0])
    losses = tuple(draw(st.lists(values, min_size=max_epochs, max_size=max_epochs)))
    return losses, draw(st.integers(1, 4)), max_epochs
