"""``compare.all_close``, the vectorized pass over a whole trajectory, says "all pass" exactly when
``explain_difference`` finds nothing in any pair: same tolerance, NaNs and infinities alike."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.families.compare import all_close, explain_difference

SPECIALS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 1.0 + 1e-10, 1.0 + 1e-6]
values = st.one_of(st.sampled_from(SPECIALS), st.floats(-1e3, 1e3, allow_nan=False))


@st.composite
def pairs(draw):
    out = []
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.integers(0, 3))
        e = torch.tensor(draw(st.lists(values, min_size=n, max_size=n)), dtype=torch.float64)
        if draw(st.booleans()):
            g = e.clone()
            i = draw(st.integers(0, max(n - 1, 0)))
            if n:
                g[i] = draw(values)
        else:
            g = torch.tensor(draw(st.lists(values, min_size=n, max_size=n)), dtype=torch.float64)
        kind = draw(st.sampled_from(["same", "shape", "dtype", "not a tensor"]))
        if kind == "shape":
            g = torch.cat([g, g[:1]]) if n else torch.zeros(1, dtype=torch.float64)
        elif kind == "dtype":
            g = g.float()
        elif kind == "not a tensor":
            g = g.tolist()
        out.append((e, g))
    return out


@settings(max_examples=300, deadline=None)
@given(pairs(), st.sampled_from([(1e-9, 1e-12), (2e-5, 1e-6), (0.0, 0.0)]))
def test_all_close_agrees_with_explain_difference(cases, tol):
    rtol, atol = tol
    assert all_close(cases, rtol, atol) == all(explain_difference(e, g, rtol, atol) is None for e, g in cases)
