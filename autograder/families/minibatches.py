"""Checks of ``minibatches`` (01_gradient_descent), driven by the ``MINIBATCHES`` row.

The worker calls the student's function and returns the batches it produced; what they must be is
DESIGN.md's rule, computed here (``torch.randperm(n, generator=generator)`` or ``torch.arange(n)``, all
batches full but possibly the last).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..sandbox.worker import operations as ops
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, register
from .hypo import Mismatch, search
from .interface import InterfaceSpec
from .reproduce import block, show, student_import


@dataclass(frozen=True)
class MinibatchesSpec:
    """A graded batch sampler: its contract, the module students import it from, the invalid calls
    that must raise ``ValueError`` and the hand-picked cases every grade tries."""

    name: str
    module: str
    interface: InterfaceSpec
    invalid: tuple[dict, ...]
    coverage_explicit: tuple[dict, ...]
    order_explicit: tuple[dict, ...]


MINIBATCHES = MinibatchesSpec(
    name="minibatches",
    module="gradient_descent",
    interface=InterfaceSpec(
        "minibatches", "function", "`def minibatches(n, batch_size, *, shuffle=True, generator=None)`",
        positional=("n", "batch_size"), params=(("shuffle", True), ("generator", None)),
    ),
    invalid=({"n": 5, "batch_size": 0}, {"n": 5, "batch_size": -1}),
    coverage_explicit=(
        {"n": 7, "batch_size": 3, "shuffle": False, "seed": 0},
        {"n": 6, "batch_size": 3, "shuffle": False, "seed": 0},
        {"n": 4, "batch_size": 10, "shuffle": False, "seed": 0},
        {"n": 9, "batch_size": 4, "shuffle": True, "seed": 1},
    ),
    order_explicit=(
        {"n": 6, "batch_size": 4, "seed": 3, "global_rng": True},
        {"n": 5, "batch_size": 2, "seed": 0, "global_rng": False},
    ),
)


def snippet(calls: list[str], got: str, expected: str) -> str:
    """A reproducer: the calls, then the student's batches (``got``) and the expected ones, a literal
    (torch has no minibatches of its own)."""
    return block("import torch", student_import(MINIBATCHES.module, "minibatches"), *calls,
                 show(got, expected))


# --- interface -----------------------------------------------------------------------------------------


@register("minibatches_interface")
def minibatches_interface(ctx: CheckContext) -> None:
    interface.require(ctx.describe, MINIBATCHES.interface)
    bad = list(MINIBATCHES.invalid)
    calls = ctx.call(ops.MinibatchesRun(bad, catch=True)).calls
    missed = []
    for call, out in zip(bad, calls, strict=False):
        if "ValueError" not in (out.get("mro") or []):
            got = f"raised {out['raised']}: {out['message']}" if out.get("raised") else "raised nothing"
            missed.append(
                f"list(minibatches({call['n']}, {call['batch_size']})) should raise ValueError; it {got}"
            )
        elif out.get("when") == "iteration":
            missed.append(
                f"minibatches({call['n']}, {call['batch_size']}) raised ValueError only when iterated, not "
                "when called: in a function with `yield` nothing runs until the first batch is asked "
                "for. Check batch_size first and return a generator (e.g. a generator expression)"
            )
    if missed:
        raise Fail("batch_size < 1 must raise ValueError, already at the call:\n- " + "\n- ".join(missed))
    ok = ctx.call(
        ops.MinibatchesRun([{"n": 5, "batch_size": 2, "kwargs": {"shuffle": False}}], catch=True)
    ).calls[0]
    if ok.get("raised"):
        raise Fail(f"minibatches(5, 2, shuffle=False) raised {ok['raised']}: {ok['message']}")
    if not ok.get("iterable"):
        raise Fail(
            f"minibatches(5, 2, shuffle=False) returned a {ok.get('type')}, which is not iterable; "
            "yield the batches (a generator function) or return an iterable of tensors"
        )


# --- coverage ------------------------------------------------------------------------------------------


def _batch_problem(batches: list[dict]) -> str | None:
    for j, b in enumerate(batches):
        if b["type"] != "Tensor":
            return f"batch {j} is a {b['type']}, not a torch.Tensor"
        if b["dtype"] != "int64" or b["dim"] != 1:
            return (
                f"batch {j} has dtype torch.{b['dtype']} and {b['dim']} dimension(s); "
                "expected a 1-D torch.long tensor"
            )
    return None


def coverage_problem(n: int, batch_size: int, shuffle: bool, reply: dict, order: torch.Tensor) -> str | None:
    """What is wrong with the batches of one call (``reply``, all indices in ``order``), or None."""
    if not reply.get("iterable"):
        return f"the return value (a {reply.get('type')}) is not iterable"
    if reply.get("truncated"):
        return f"it produced more than {n + 2} batches / {2 * n + 10} indices for n={n} (an endless loop?)"
    batches = reply["batches"]
    why = _batch_problem(batches)
    if why:
        return why
    lens = [b["len"] for b in batches]
    if n == 0 and lens in ([], [0]):
        return None
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if lens != expected:
        return (
            f"the batch sizes are {lens}; expected {expected} "
            f"(every batch has batch_size={batch_size} indices "
            "except possibly the last, and no batch is empty)"
        )
    if shuffle:
        if sorted(order.tolist()) != list(range(n)):
            held = sorted(order.tolist())
            return f"the batches hold {held}; every index of range({n}) exactly once was expected"
    elif order.tolist() != list(range(n)):
        return f"the indices in order are {order.tolist()}; expected {list(range(n))} (torch.arange order)"
    return None


def _coverage_global_seed(ex: dict) -> int:
    """The seed of torch's global RNG for a coverage example (the grader's run and its reproducer)."""
    return ex["seed"] + 1


def _order_global_seed(ex: dict) -> int:
    """The seed of torch's global RNG for an order example: with a generator it differs from the
    generator's, so code that ignores the generator shows."""
    return ex["seed"] if ex["global_rng"] else ex["seed"] + 7919


def _describe_coverage(ex: dict, detail: str) -> str:
    n, bs = ex["n"], ex["batch_size"]
    gen = f", generator=torch.Generator().manual_seed({ex['seed']})" if ex["shuffle"] else ""
    order = expected_orders(n, ex["seed"], 1)[0] if ex["shuffle"] else torch.arange(n)
    expected = [b.tolist() for b in order.split(bs)] if n and bs > 0 else []
    call = f"minibatches({n}, {bs}, shuffle={ex['shuffle']}{gen})"
    note = "  # torch.randperm's order; here only the sizes and the coverage count" if ex["shuffle"] else ""
    return (
        f"the batches do not cover range(n) as required on this case: {detail}\n"
        + snippet([f"torch.manual_seed({_coverage_global_seed(ex)})  # torch's global RNG, as graded",
                   f"batches = [(type(b).__name__, str(getattr(b, 'dtype', None)), "
                   f"b.tolist() if isinstance(b, torch.Tensor) else b) for b in {call}]{note}"],
                  "batches", repr([("Tensor", "torch.int64", b) for b in expected]))
    )


@register("minibatches_coverage")
def minibatches_coverage(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        call = {
            "n": ex["n"],
            "batch_size": ex["batch_size"],
            "kwargs": {"shuffle": ex["shuffle"]},
            "generator": "shared" if ex["shuffle"] else None,
        }
        resp = ctx.call(ops.MinibatchesRun([call], seed=ex["seed"], global_seed=_coverage_global_seed(ex)))
        why = coverage_problem(
            ex["n"],
            ex["batch_size"],
            ex["shuffle"],
            resp.calls[0],
            resp.tensors.get("c0", torch.zeros(0, dtype=torch.long)),
        )
        if why:
            raise Mismatch(why)

    search(ctx, S.minibatch_calls(), body, max_examples=25, describe=_describe_coverage,
           explicit=list(MINIBATCHES.coverage_explicit), typical=lambda ex: ex["n"] > 0)  # n=0: an edge


# --- the order of the indices --------------------------------------------------------------------------


def expected_orders(n: int, seed: int, calls: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen) for _ in range(calls)]


def _order_problem(ex: dict, resp: ops.Batches) -> str | None:
    for i, (reply, want) in enumerate(
        zip(resp.calls, expected_orders(ex["n"], ex["seed"], 2), strict=False)
    ):
        got = resp.tensors.get(f"c{i}", torch.zeros(0, dtype=torch.long))
        which = "first" if i == 0 else "second"
        if not reply.get("iterable") or got.numel() == 0:
            return f"the {which} call gave no indices"
        m = min(got.numel(), want.numel())
        if got[:m].tolist() != want[:m].tolist():
            source = "torch.manual_seed" if ex["global_rng"] else "the generator"
            note = (
                ""
                if i == 0
                else f" (the second permutation drawn from {source}: each call must draw "
                "a fresh torch.randperm from it)"
            )
            return f"the {which} call's indices in order are {got.tolist()}; expected {want.tolist()}{note}"
    return None


def _describe_order(ex: dict, detail: str) -> str:
    n, bs, seed = ex["n"], ex["batch_size"], ex["seed"]
    if ex["global_rng"]:
        seeding, gen = f"torch.manual_seed({seed})", ""
    else:
        seeding = (f"torch.manual_seed({_order_global_seed(ex)})  # the global RNG: another seed than g's\n"
                   f"g = torch.Generator().manual_seed({seed})")
        gen = ", generator=g"
    lines = [
        seeding,
        f"first = [int(i) for batch in minibatches({n}, {bs}, shuffle=True{gen}) for i in batch]",
        f"second = [int(i) for batch in minibatches({n}, {bs}, shuffle=True{gen}) for i in batch]",
        f"# expected: two torch.randperm({n}) drawn one after the other from seed {seed}",
    ]
    expected = [t.tolist() for t in expected_orders(n, seed, 2)]
    return (
        "the shuffled order is not torch.randperm(n, generator=generator), "
        f"one fresh permutation per call: {detail}\n"
        + snippet(lines, "[first, second]", repr(expected))
    )


@register("minibatches_generator")
def minibatches_generator(ctx: CheckContext) -> None:
    # Only the order of the indices is judged here (a common prefix): batch sizes, dtypes and
    # coverage belong to minibatches.coverage.
    def body(ex: dict) -> None:
        # shuffle=True is passed explicitly: a wrong default costs minibatches.interface only.
        call = {
            "n": ex["n"],
            "batch_size": ex["batch_size"],
            "kwargs": {"shuffle": True},
            "generator": None if ex["global_rng"] else "shared",
        }
        global_seed = _order_global_seed(ex)
        why = _order_problem(ex, ctx.call(ops.MinibatchesRun([call, call], ex["seed"], global_seed)))
        if why:
            raise Mismatch(why)

    search(ctx, S.minibatch_orders(), body, max_examples=15, describe=_describe_order,
           explicit=list(MINIBATCHES.order_explicit))
