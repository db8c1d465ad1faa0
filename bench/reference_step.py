"""Time one optimizer step of the reference against torch.optim (loop and foreach paths).

Both sides update the same ~10M float32 parameters (a few dozen tensors, as in a small network),
after a warm-up that creates the optimizer state. Reference and torch steps are interleaved so
that both see the same machine load; the table shows medians and the ratio reference / torch
(target for the foreach path: at most 1.2).

Run: ``python -m bench.reference_step [--numel N] [--tensors K] [--repeats R] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from rich.console import Console
from rich.table import Table

import reference

TARGET_RATIO = 1.2

# (name, reference class, torch class, keywords): settings that create every kind of state tensor.
OPTIMIZERS: list[tuple[str, type, type, dict]] = [
    ("SGD (momentum)", reference.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("Adagrad", reference.Adagrad, torch.optim.Adagrad, {"lr": 1e-2}),
    ("RMSprop", reference.RMSprop, torch.optim.RMSprop, {"lr": 1e-2}),
    ("Adam", reference.Adam, torch.optim.Adam, {"lr": 1e-3}),
]


def _params(numel: int, tensors: int, device: str, seed: int = 0) -> list[torch.nn.Parameter]:
    """``tensors`` parameters of about ``numel / tensors`` elements each, with gradients."""
    gen = torch.Generator().manual_seed(seed)
    side = max(1, int((numel / tensors) ** 0.5))
    params = []
    for _ in range(tensors):
        p = torch.nn.Parameter(torch.randn(side, side, generator=gen).to(device))
        p.grad = torch.randn(side, side, generator=gen).to(device) * 1e-3
        params.append(p)
    return params


def _timer(device: str) -> Callable[[Callable[[], object]], float]:
    def run(step: Callable[[], object]) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    return run


def measure(
    ref_cls: type, torch_cls: type, kwargs: dict, *, foreach: bool, numel: int, tensors: int, repeats: int,
    warmup: int, device: str,
) -> tuple[float, float, int]:  # fmt: skip
    """Median seconds per step (reference, torch) and the number of parameters updated."""
    ref_params, torch_params = _params(numel, tensors, device), _params(numel, tensors, device)
    ref_opt = ref_cls(ref_params, foreach=foreach, **kwargs)
    torch_opt = torch_cls(torch_params, foreach=foreach, **kwargs)
    timed = _timer(device)
    for _ in range(warmup):
        ref_opt.step()
        torch_opt.step()
    ref_times, torch_times = [], []
    for _ in range(repeats):  # interleaved: a load spike hits both sides alike
        ref_times.append(timed(ref_opt.step))
        torch_times.append(timed(torch_opt.step))
    return statistics.median(ref_times), statistics.median(torch_times), sum(p.numel() for p in ref_params)


def main(argv: list[str] | None = None) -> None:
    """Print the timing table (``argv=None``: the defaults, as ``make bench`` runs it)."""
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.reference_step", description=summary)
    parser.add_argument("--numel", type=int, default=10_000_000, help="parameters in total (default 10M)")
    parser.add_argument("--tensors", type=int, default=40, help="number of parameter tensors (default 40)")
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per side (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op CPU threads (default: torch's)")
    args = parser.parse_args([] if argv is None else argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    console = Console(width=110)
    table = Table(
        title=f"One optimizer step, reference vs torch.optim ({args.device}, float32, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads)"
    )
    for column in ("optimizer", "path", "params", "reference ms", "torch ms", "ratio"):
        table.add_column(column, justify="left" if column in ("optimizer", "path") else "right")
    for name, ref_cls, torch_cls, kwargs in OPTIMIZERS:
        for foreach in (False, True):
            ref_s, torch_s, count = measure(
                ref_cls, torch_cls, kwargs, foreach=foreach, numel=args.numel, tensors=args.tensors,
                repeats=args.repeats, warmup=args.warmup, device=args.device,
            )  # fmt: skip
            ratio = ref_s / torch_s
            style = "red" if foreach and ratio > TARGET_RATIO else ""
            table.add_row(
                name,
                "foreach" if foreach else "loop",
                f"{count / 1e6:.1f}M",
                f"{ref_s * 1e3:.2f}",
                f"{torch_s * 1e3:.2f}",
                f"[{style}]{ratio:.2f}[/{style}]" if style else f"{ratio:.2f}",
            )
    console.print(table)
    console.print(f"median of {args.repeats} interleaved steps after {args.warmup} warm-up steps; "
                  f"target ratio for foreach <= {TARGET_RATIO}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
