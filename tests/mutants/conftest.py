"""The oracle's explorers run many tiny tensor operations: one intra-op thread is much faster than
several competing for two busy cores (the tool's own lanes use one thread too)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
