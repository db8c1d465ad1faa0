"""Shared fixtures of the kit's tests."""

from __future__ import annotations

import pytest

from autograder.sandbox.runner import Zygote


@pytest.fixture(scope="session")
def zygote():
    """One sandbox zygote per test process (xdist worker): forking graders is cheap, starting one is not."""
    z = Zygote()
    yield z
    z.close()
