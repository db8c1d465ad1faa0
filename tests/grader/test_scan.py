"""The static scan: delegation to torch's built-ins is forbidden per graded name; dynamic tricks are
flagged for review. Each rule is tested on code that breaks it and on honest code that must pass."""

from __future__ import annotations

import ast

import pytest

from autograder.scan import scan_source


def scan(src: str):
    return scan_source(ast.parse(src), src)


@pytest.mark.parametrize(
    ("src", "name", "needle"),
    [
        ("import torch\nclass SGD(torch.optim.SGD): pass", "SGD", "torch.optim.SGD"),
        (
            "from torch.optim import Adam as A\nimport torch\nclass Adam(torch.optim.Optimizer):\n"
            "    def __init__(self, p): self.inner = A(p)",
            "Adam",
            "torch.optim.Adam",
        ),
        (
            "import torch.nn.functional as F\nimport torch\nclass BatchNorm1d(torch.nn.Module):\n"
            "    def forward(self, x): return F.batch_norm(x, None, None, training=True)",
            "BatchNorm1d",
            "torch.nn.functional.batch_norm",
        ),
        (
            "import torch\ndef helper(x): return torch.dropout(x, 0.5, True)\n"
            "class Dropout(torch.nn.Module):\n    def forward(self, x): return helper(x)",
            "Dropout",
            "through helper",
        ),
        (
            "from torch.optim.lr_scheduler import LambdaLR\nclass PowerDecayLR(LambdaLR): pass",
            "PowerDecayLR",
            "LambdaLR",
        ),
        (
            "from torch.optim.adam import adam\nclass Adam:\n"
            "    def step(self):\n        adam([], [], [], [], [], [])",
            "Adam",
            "torch.optim.adam.adam",
        ),
        (
            "import torch\nclass BatchNorm2d(torch.nn.BatchNorm2d): pass",
            "BatchNorm2d",
            "torch.nn.BatchNorm2d",
        ),
    ],
)
def test_delegation_is_forbidden_for_that_name_only(src, name, needle):
    result = scan(src + "\ndef minibatches(n, b): return []\n")
    assert needle in result.forbidden_reason(name)
    assert result.forbidden_reason("minibatches") is None


def test_importing_the_kit_forbids_everything():
    result = scan("from reference import Adam\n")
    assert "grading kit" in result.forbidden_reason("SGD")


@pytest.mark.parametrize(
    "src",
    [
        "import torch\nclass SGD(torch.optim.Optimizer):\n    def step(self): torch._foreach_add_([], [])",
        "from torch.optim.lr_scheduler import LRScheduler\nclass PowerDecayLR(LRScheduler): pass",
        "import torch\nclass Dropout(torch.nn.Module):\n"
        "    def forward(self, x):\n        return x * torch.rand_like(x).ge(0.5)",
        "import torch.nn as nn\nclass BatchNormFunction(torch.autograd.Function): pass",
    ],
)
def test_honest_code_is_not_forbidden(src):
    assert scan(src).forbidden == {}


def test_dynamic_tricks_are_flagged_with_their_lines():
    src = (
        "import importlib\nimport torch\nm = getattr(torch.optim, 'S' + 'GD')\n"
        "o = importlib.import_module('torch.optim')\nexec('x = 1')\nname = getattr(torch, 'zeros')\n"
    )
    review = scan(src).review
    whats = {what for _, what, _ in review}
    assert {"imports importlib", "getattr with a computed name", "calls exec()"} <= whats
    assert all(line != 6 for line, _, _ in review)  # getattr with a constant name is fine
