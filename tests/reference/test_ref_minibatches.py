"""minibatches: every index once per call, in torch.randperm / torch.arange order."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given

import reference
from tests.reference.harness import (
    assert_minibatches_cover,
    one_cpu_thread,  # noqa: F401  (autouse: one CPU thread per test)
)
from tests.strategies import minibatch_cases

pytestmark = pytest.mark.gradient_descent


def test_signature_is_designs() -> None:
    params = inspect.signature(reference.minibatches).parameters
    assert [(n, p.kind, p.default) for n, p in params.items()] == [
        ("n", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("batch_size", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("shuffle", inspect.Parameter.KEYWORD_ONLY, True),
        ("generator", inspect.Parameter.KEYWORD_ONLY, None),
    ]


@given(case=minibatch_cases())
def test_shuffled_batches_follow_randperm_of_the_generator(case) -> None:
    n, batch_size, seed = case
    gen, twin = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    for call in range(2):  # a fresh permutation per call, drawn from the same generator
        batches = list(reference.minibatches(n, batch_size, generator=gen))
        expected = torch.randperm(n, generator=twin)
        assert_minibatches_cover(batches, n, batch_size, expected, f"call {call}")


@given(case=minibatch_cases())
def test_unshuffled_batches_follow_arange(case) -> None:
    n, batch_size, seed = case
    gen = torch.Generator().manual_seed(seed)
    state = gen.get_state()
    batches = list(reference.minibatches(n, batch_size, shuffle=False, generator=gen))
    assert_minibatches_cover(batches, n, batch_size, torch.arange(n), "shuffle=False")
    assert torch.equal(gen.get_state(), state), "shuffle=False must not consume the generator"


def test_default_generator_is_torchs_global_rng() -> None:
    torch.manual_seed(3)
    batches = list(reference.minibatches(10, 4))
    torch.manual_seed(3)
    assert_minibatches_cover(batches, 10, 4, torch.randperm(10), "global RNG")


@pytest.mark.parametrize("batch_size", [0, -1, -10])
def test_batch_size_below_one_raises_at_call_time(batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        reference.minibatches(10, batch_size)  # not iterated: the check is eager
