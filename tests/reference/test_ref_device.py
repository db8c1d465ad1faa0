"""The device line's facts, outside the sandbox: the reference and torch.optim / torch.nn run on the meta
device (loop and foreach paths) with every state tensor and buffer on the parameters' device, while a
host sync or state created on the CPU is found. On a CUDA machine the same runs pass on ``cuda``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import reference
from autograder.families.device import LAYER_CONFIGS, sync_allowed
from autograder.families.optimizer_table import SPECS
from autograder.sandbox.worker.handlers import device as D

DEVICES = ["meta", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: the device line's cuda branch is not exercised")])]
ROWS = [pytest.param(spec, kw, id=f"{spec.name}-{kw}") for spec in SPECS.values()
        for kw in ({}, *spec.device_configs)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize(("spec", "kwargs"), ROWS)
def test_reference_and_torch_optimizers_pass(spec, kwargs, foreach, device):
    for cls in (spec.reference, spec.torch_cls):
        def build(params, cls=cls, **kw):
            return cls(params, foreach=foreach, **kw)

        assert D._optimizer(build, spec.spelled_out(kwargs), device) == []


LAYERS = [pytest.param(name, kind, kw, id=f"{name}-{kw}") for name, (kind, configs) in LAYER_CONFIGS.items()
          for kw in configs]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kind", "kwargs"), LAYERS)
def test_reference_and_torch_layers_pass(name, kind, kwargs, device):
    standin = {"BatchNormFunction": reference.BatchNormFunction}
    ctx = SimpleNamespace(module=SimpleNamespace(), standin=lambda name, attr: standin[attr])
    for cls in (getattr(reference, name), getattr(torch.nn, name, None)):
        if cls is None:
            continue
        if cls is not getattr(reference, name) and device == "meta" and sync_allowed(kwargs):
            # torch reads 1 / num_batches_tracked on the host for momentum=None (allowed by the contract)
            with pytest.raises(Exception, match="meta|Cannot copy out"):
                D._layer(ctx, cls, name, kind, kwargs, device)
            continue
        assert D._layer(ctx, cls, name, kind, kwargs, device) == []


class CpuState(torch.optim.SGD):
    """Momentum buffer made with torch.zeros(p.shape): on the CPU whatever the parameter's device."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                buf = self.state[p].setdefault("momentum_buffer", torch.zeros(p.shape))
                buf.mul_(group["momentum"]).add_(p.grad)  # in place: passes silently on meta
                p.add_(buf, alpha=-group["lr"])


class HostSync(torch.optim.SGD):
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad.abs().max().item() > 0:  # a host sync
                    p.add_(p.grad, alpha=-group["lr"])


def test_cpu_state_and_host_sync_are_found():
    misplaced = D._optimizer(CpuState, {"lr": 0.1, "momentum": 0.9}, "meta")
    assert misplaced == [f"state[params[{i}]]['momentum_buffer'] on cpu" for i in range(2)]
    with pytest.raises(Exception, match="meta"):
        D._optimizer(HostSync, {"lr": 0.1}, "meta")
