"""Dropout: inverted dropout with torch's convention (p = probability of dropping)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given

import reference
from tests.reference.harness import (
    DEVICES,
    DTYPES,
    assert_dropout_statistics,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
)
from tests.strategies import SEEDS, dropout_probabilities, invalid_dropout_probabilities, shapes

pytestmark = pytest.mark.regularization

LARGE = (400, 500)  # 200k elements: the binomial check then resolves drop rates to ~0.7%


def _positive(shape, seed: int, dtype, device) -> torch.Tensor:
    # Values in [0.5, 1.5): no element is 0 by itself, so every 0 in the output was dropped.
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5).to(device=device, dtype=dtype)


@given(p=dropout_probabilities(), shape=shapes(), seed=SEEDS)
def test_eval_is_identity(p: float, shape, seed: int) -> None:
    module = reference.Dropout(p).eval()
    x = _positive(shape, seed, torch.float32, "cpu")
    assert torch.equal(module(x), x)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_training_output_and_drop_rate(p: float, dtype, device: str) -> None:
    torch.manual_seed(1234)
    x = _positive(LARGE, 0, dtype, device)
    assert_dropout_statistics(reference.Dropout(p), p, x, f"Dropout(p={p})")


@given(p=dropout_probabilities(), seed=SEEDS)
def test_training_output_on_generated_probabilities(p: float, seed: int) -> None:
    torch.manual_seed(seed)
    x = _positive((200, 100), seed, torch.float32, "cpu")
    assert_dropout_statistics(reference.Dropout(p), p, x, f"Dropout(p={p})")


def test_p_zero_keeps_and_p_one_zeroes_everything_with_zero_grad() -> None:
    x = _positive((50, 4), 0, torch.float64, "cpu").requires_grad_()
    assert torch.equal(reference.Dropout(0.0).train()(x), x)
    y = reference.Dropout(1.0).train()(x)
    assert torch.equal(y, torch.zeros_like(x))
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_gradient_is_the_mask_scaled() -> None:
    torch.manual_seed(0)
    x = _positive((300, 30), 1, torch.float64, "cpu").requires_grad_()
    y = reference.Dropout(0.25).train()(x)
    y.sum().backward()
    kept = y != 0
    torch.testing.assert_close(x.grad, kept.double() / 0.75)


def test_fresh_mask_per_call_and_per_element() -> None:
    torch.manual_seed(0)
    module = reference.Dropout(0.5).train()
    x = torch.ones(64, 64)
    first, second = module(x) == 0, module(x) == 0
    assert not torch.equal(first, second), "the same mask twice"
    assert not (first == first[0]).all(), "one mask row repeated over the batch"
    assert not (first == first[:, :1]).all(), "one mask column repeated over the features"


def test_uses_torchs_rng() -> None:
    module = reference.Dropout(0.5).train()
    x = torch.ones(1000)
    torch.manual_seed(7)
    a = module(x)
    torch.manual_seed(7)
    assert torch.equal(module(x), a)


@given(p=invalid_dropout_probabilities())
def test_invalid_probability_raises_like_torch(p: float) -> None:
    message = f"dropout probability has to be between 0 and 1, but got {p}"
    for cls in (reference.Dropout, torch.nn.Dropout):
        with pytest.raises(ValueError) as excinfo:
            cls(p)
        assert str(excinfo.value) == message
