"""Every hypothesis strategy the grader uses (one home, as in MiniTorch's tests/strategies.py).

Hyper-parameter values are drawn from short lists whose first entry is torch's default, so a shrunk
failing case keeps only the hyper-parameters that matter. Tensors are not drawn element by element:
an example carries shapes and a seed, and ``make_tensors`` builds them, so examples stay small.
"""

from __future__ import annotations

from hypothesis import strategies as st

LR = [1e-2, 0.1, 0.5, 1e-3]
WEIGHT_DECAY = [0.0, 0.1, 0.01]
MAXIMIZE = [False, True]


def _kw(**choices: list) -> st.SearchStrategy[dict]:
    """A dict of hyper-parameters; each key is left out when its default (first value) is drawn."""

    def drop_defaults(d: dict) -> dict:
        return {k: v for k, v in d.items() if v != choices[k][0]}

    return st.fixed_dictionaries({k: st.sampled_from(v) for k, v in choices.items()}).map(drop_defaults)


def sgd_kwargs() -> st.SearchStrategy[dict]:
    def valid(d: dict) -> dict:
        if d.get("nesterov") and (d.get("momentum", 0.0) <= 0 or d.get("dampening", 0.0) != 0):
            d = {k: v for k, v in d.items() if k != "nesterov"}
        return d

    return _kw(
        lr=[1e-3, *LR],
        momentum=[0.0, 0.9, 0.5],
        dampening=[0.0, 0.5, 0.1],
        weight_decay=WEIGHT_DECAY,
        nesterov=[False, True],
        maximize=MAXIMIZE,
    ).map(valid)


def adagrad_kwargs() -> st.SearchStrategy[dict]:
    return _kw(
        lr=LR,
        lr_decay=[0.0, 0.1, 0.01],
        weight_decay=WEIGHT_DECAY,
        initial_accumulator_value=[0.0, 0.1, 1.0],
        eps=[1e-10, 1e-3, 0.1],
        maximize=MAXIMIZE,
    )


def rmsprop_kwargs() -> st.SearchStrategy[dict]:
    return _kw(
        lr=LR,
        alpha=[0.99, 0.9, 0.5],
        eps=[1e-8, 1e-3, 0.1],
        weight_decay=WEIGHT_DECAY,
        momentum=[0.0, 0.9, 0.5],
        centered=[False, True],
        maximize=MAXIMIZE,
    )


def adam_kwargs() -> st.SearchStrategy[dict]:
    return _kw(
        lr=[1e-3, *LR],
        betas=[(0.9, 0.999), (0.5, 0.9), (0.0, 0.99), (0.95, 0.5)],
        eps=[1e-8, 1e-3, 0.1],
        weight_decay=WEIGHT_DECAY,
        amsgrad=[False, True],
        maximize=MAXIMIZE,
    )


shapes = st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), min_size=1, max_size=3)
dtypes = st.sampled_from(["float64", "float32"])
seeds = st.integers(0, 2**16)
# Gradient scales: ordinary, tiny and huge magnitudes (eps and squared terms behave differently there).
scales = st.sampled_from([1.0, 1e-4, 1e3])


def optimizer_run(
    kwargs: st.SearchStrategy[dict], *, steps=(1, 6), none_rate=(0.0, 0.3)
) -> st.SearchStrategy:
    """One step-equivalence example: shapes, steps, dtype, seed, gradient scale, None-grad rate, kwargs."""
    return st.fixed_dictionaries(
        {
            "shapes": shapes,
            "steps": st.integers(*steps),
            "dtype": dtypes,
            "seed": seeds,
            "scale": scales,
            "none_rate": st.sampled_from(none_rate),
            "kwargs": kwargs,
        }
    )


def param_groups(kwargs: st.SearchStrategy[dict]) -> st.SearchStrategy:
    """2-3 groups with their own hyper-parameters, and a new lr per group from step ``lr_step`` on."""
    return st.fixed_dictionaries(
        {
            "groups": st.lists(kwargs, min_size=2, max_size=3),
            "steps": st.integers(2, 5),
            "dtype": dtypes,
            "seed": seeds,
            "new_lr": st.sampled_from([0.05, 0.2]),
        }
    )


def resume(kwargs: st.SearchStrategy[dict]) -> st.SearchStrategy:
    """A run interrupted by state_dict()/load_state_dict(). No None grads: those are step_hyperparams'
    business, and a crash on them must not cost this line too."""
    return st.fixed_dictionaries(
        {
            "shapes": shapes,
            "steps": st.integers(2, 6),
            "dtype": dtypes,
            "seed": seeds,
            "scale": st.just(1.0),
            "none_rate": st.just(0.0),
            "kwargs": kwargs,
            "resume_frac": st.floats(0.1, 0.9),
        }
    )
