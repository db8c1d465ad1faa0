"""Fixtures of the sandbox tests: one zygote per isolation variant and test process, started lazily."""

from __future__ import annotations

import pytest

from ._support import start_zygote


@pytest.fixture(scope="session")
def zygotes():
    started = {}

    def get(variant: str):
        if variant not in started:  # a zygote a test killed restarts itself on its next spawn
            started[variant] = start_zygote(variant)
        return started[variant]

    yield get
    for z in started.values():
        z.close()


@pytest.fixture
def zyg(zygotes, variant):
    """The shared zygote of the test's ``variant`` parameter."""
    return zygotes(variant)

