"""Plumbing shared by the functional optimizers: which implementation runs, tensor grouping, step counters.

Nothing here does optimizer math. It exists so that every optimizer decides loop-versus-foreach in
exactly one place (:func:`use_foreach`) and keeps its step counter the way ``torch.optim`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils._foreach_utils import _get_foreach_kernels_supported_devices

__all__ = ["group_by_device_and_dtype", "increment_steps", "new_step", "step_value", "use_foreach"]

# The tensor types the multi-tensor kernels accept; subclasses (e.g. tensor wrappers) fall back to the loop.
_FOREACH_TYPES = (Tensor, torch.nn.Parameter)


def _foreach_devices() -> set[str]:
    # The device list torch itself consults for its ``foreach=None`` default: backends with real
    # multi-tensor kernels (CUDA and friends). On CPU the `_foreach_*` ops are only a C++ loop over
    # the per-tensor kernels, so torch, and the reference, default to the plain loop there.
    return set(_get_foreach_kernels_supported_devices())


def use_foreach(foreach: bool | None, tensors: Sequence[Tensor]) -> bool:
    """Decide between the multi-tensor (``foreach``) and the per-tensor loop implementation.

    Follows torch's rule for ``foreach=None``: an explicit ``True``/``False`` is always kept; with
    ``None`` the foreach path is chosen only when every tensor is a plain tensor on a device with
    multi-tensor kernels (CUDA), so CPU runs the loop.
    """
    if foreach is not None:
        return bool(foreach)
    devices = _foreach_devices()
    return all(type(t) in _FOREACH_TYPES and t.device.type in devices for t in tensors)


def group_by_device_and_dtype(
    tensorlists: Sequence[Sequence[Tensor | None]],
) -> list[tuple[list[list[Tensor | None]], list[int]]]:
    """Split parallel tensor lists into groups sharing the first list's (device, dtype).

    ``torch._foreach_*`` kernels need every tensor of one call on one device with one dtype. Returns
    ``[(lists_of_group, original_indices), ...]`` in first-seen order, so callers can write newly
    created tensors (e.g. momentum buffers) back to their original positions.
    """
    groups: dict[tuple[torch.device, torch.dtype], tuple[list[list[Tensor | None]], list[int]]] = {}
    for i, lead in enumerate(tensorlists[0]):
        assert lead is not None, "the first list (params) must not contain None"
        lists, indices = groups.setdefault((lead.device, lead.dtype), ([[] for _ in tensorlists], []))
        for out, source in zip(lists, tensorlists, strict=True):
            out.append(source[i])
        indices.append(i)
    return list(groups.values())


def _scalar_dtype() -> torch.dtype:
    # torch stores `step` in float64 only when the default dtype is float64; mirror it so that
    # state_dicts of the reference and of torch.optim look alike.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def new_step() -> Tensor:
    """A fresh step counter: a 0-d float tensor on the CPU, as torch's non-capturable optimizers keep it."""
    return torch.zeros((), dtype=_scalar_dtype())


def increment_steps(steps: Sequence[Tensor]) -> None:
    """Add one to every step counter in place (one multi-tensor call)."""
    if steps:
        torch._foreach_add_(list(steps), 1.0)


def step_value(step: Tensor) -> float:
    """The step count as a Python float, for bias corrections computed on the host.

    The counter lives on the CPU (see :func:`new_step`), so reading it is a memory read, not a
    device-to-host synchronisation, even when the parameters are on a GPU.
    """
    return float(step)
