"""Tensor comparison with an explanation a student can act on, and code rendering for feedback."""

from __future__ import annotations

import math

import torch

TOLERANCES = {
    # (rtol, atol) per dtype. Calibrated on independently written correct submissions: equal
    # formulas in another op order differ by a few ulps per step, which compounds over a run.
    torch.float64: (1e-9, 1e-12),
    torch.float32: (2e-5, 1e-6),
}


def tolerance(dtype: torch.dtype, scale: float = 1.0) -> tuple[float, float]:
    rtol, atol = TOLERANCES[dtype]
    return rtol * scale, atol * scale


def explain_difference(
    expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float, label: str = ""
) -> str | None:
    """None when ``got`` matches ``expected`` (NaNs equal), else a short description of the worst
    and first mismatch: index, expected, got, max abs and rel error."""
    if not isinstance(got, torch.Tensor):
        return f"{label}: expected a tensor, got {type(got).__name__}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{label}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if got.dtype != expected.dtype:
        return f"{label}: expected dtype {expected.dtype}, got {got.dtype}"
    e, g = expected.detach().double().cpu(), got.detach().double().cpu()
    bad = ~_within(e, g, rtol, atol)
    if not bool(bad.any()):
        return None
    diff = (e - g).abs()
    flat = bad.flatten().nonzero()[0].item()
    idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), e.shape)) if e.dim() else ()
    finite = ~(torch.isnan(diff) | torch.isinf(diff))
    max_abs = diff[finite].max().item() if bool(finite.any()) else math.inf
    rel = diff / e.abs().clamp_min(1e-300)
    max_rel = rel[finite].max().item() if bool(finite.any()) else math.inf
    where = f"{label}[{', '.join(map(str, idx))}]" if idx else label
    return (
        f"{where}: expected {fmt_number(e[idx].item())}, got {fmt_number(g[idx].item())} "
        f"(max abs error {max_abs:.3g}, max rel error {max_rel:.3g}; tolerance rtol={rtol:g}, atol={atol:g})"
    )


def all_close(pairs: list[tuple[torch.Tensor, object]], rtol: float, atol: float) -> bool:
    """Whether every ``(expected, got)`` pair would pass ``explain_difference`` (same tolerance, NaNs and
    infinities alike), tested in one vectorized comparison: a correct run is answered without building
    a description per tensor. False says only "ask ``explain_difference``", which finds the first one."""
    es, gs = [], []
    for e, g in pairs:
        if not isinstance(g, torch.Tensor) or g.shape != e.shape or g.dtype != e.dtype:
            return False
        es.append(e.detach().reshape(-1).double().cpu())
        gs.append(g.detach().reshape(-1).double().cpu())
    if not es:
        return True
    return bool(_within(torch.cat(es), torch.cat(gs), rtol, atol).all())


def _within(e: torch.Tensor, g: torch.Tensor, rtol: float, atol: float) -> torch.Tensor:
    """Elementwise: ``g`` matches ``e`` (both NaN, the same infinity, or within the tolerance)."""
    both_nan = torch.isnan(e) & torch.isnan(g)
    same_inf = torch.isinf(e) & (e == g)
    return both_nan | same_inf | ((e - g).abs() <= atol + rtol * e.abs())


def fmt_number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        return f"float('{x}')"
    return repr(float(x))


def tensor_literal(t: torch.Tensor, *, requires_grad: bool = False, max_elements: int = 64) -> str:
    """``torch.tensor([...], dtype=torch.float64)`` that recreates ``t`` exactly (small tensors)."""
    dtype = str(t.dtype)
    extra = ", requires_grad=True" if requires_grad else ""
    if t.numel() > max_elements:
        return f"torch.randn({tuple(t.shape)}, dtype={dtype}{extra})  # {t.numel()} values, elided"

    def nested(x):
        if x.dim() == 0:
            v = x.item()
            return fmt_number(v) if isinstance(v, float) else repr(v)
        return "[" + ", ".join(nested(r) for r in x) + "]"

    return f"torch.tensor({nested(t.detach().cpu())}, dtype={dtype}{extra})"


def kwargs_literal(kwargs: dict) -> str:
    return ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v!r}" for k, v in kwargs.items())
